"""The budget of one expression evaluation, and walks over values that respect it.

A value built by an expression can share structure: ``[@, @]`` applied
twenty times is a list of two references nested twenty deep, tiny in memory
but a million leaves once written out. Anything that walks a value (equality,
``to_string``, the final size check) therefore walks it as a tree, with a
budget, and stops as soon as the budget is spent. No walk recurses, so deep
data cannot exhaust the Python stack either.
"""

from __future__ import annotations

import math
import time
from typing import Any

from wirehub.engine.language import limits
from wirehub_sdk import ExpressionError

_DEADLINE_CHECK_EVERY = 1024
"""Walks look at the clock once per this many nodes."""


class Budget:
    """What one evaluation may still spend: interpreter steps, time and produced items.

    Args:
        max_steps: Interpreter steps (and nodes compared by ``==``) allowed;
            default ``MAX_EVAL_STEPS``.
        seconds: Wall-clock time allowed, on the monotonic clock; default
            ``MAX_EVAL_SECONDS``.
        max_items: Items (list elements, object members, string kilobytes)
            the evaluation may create; default ``MAX_VALUE_ITEMS``.
        deterministic: No wall-clock deadline at all, only the counted
            bounds: the same evaluation then always ends the same way, as
            the state machine's transitions need.
    """

    __slots__ = ("deadline", "max_items", "max_steps", "produced", "seconds", "steps")

    def __init__(
        self,
        *,
        max_steps: int | None = None,
        seconds: float | None = None,
        max_items: int | None = None,
        deterministic: bool = False,
    ) -> None:
        self.steps = 0
        self.max_steps = limits.MAX_EVAL_STEPS if max_steps is None else max_steps
        self.seconds = limits.MAX_EVAL_SECONDS if seconds is None else seconds
        self.deadline = None if deterministic else time.monotonic() + self.seconds
        self.produced = 0
        self.max_items = limits.MAX_VALUE_ITEMS if max_items is None else max_items

    def fail_if_spent(self) -> None:
        """Raises when the step budget or the deadline is exceeded."""
        if self.steps > self.max_steps:
            raise ExpressionError(
                f"the expression needed more than {self.max_steps} evaluation steps (limit MAX_EVAL_STEPS)"
            )
        self.check_clock()

    def check_clock(self) -> None:
        """Raises when the evaluation has run past its deadline (never, when it has none)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ExpressionError(f"the expression ran longer than {self.seconds:g} s (limit MAX_EVAL_SECONDS)")

    def charge_steps(self, count: int) -> None:
        """Spends ``count`` steps of work done outside the interpreter."""
        self.steps += count
        if self.steps > self.max_steps:
            self.fail_if_spent()

    def charge_items(self, count: int) -> None:
        """Records ``count`` newly created items; raises past the limit, before they are built."""
        self.produced += count
        if self.produced > self.max_items:
            raise ExpressionError(
                f"the expression created more than {self.max_items} items (list elements, object members "
                "or string kilobytes; limit MAX_VALUE_ITEMS)"
            )

    def charge_string(self, length: int) -> None:
        """Checks a string about to be created: its length cap, and its kilobytes as items."""
        if length > limits.MAX_STRING_LENGTH:
            raise ExpressionError(
                f"the expression would create a string of {length} characters; "
                f"the limit is {limits.MAX_STRING_LENGTH} (MAX_STRING_LENGTH)"
            )
        self.charge_items(length // 1024)


class TooLargeError(ExpressionError):
    """A size walk went past its limit; the message is ``"more than N bytes as JSON"``."""


def _number_size(value: int | float) -> int:
    if isinstance(value, int):
        # str() of a huge int is slow (and capped by Python); its digit count is not.
        return int(value.bit_length() * 0.30103) + 2
    if not math.isfinite(value):
        raise ExpressionError(f"the expression produced {value!r}, which is not a JSON number")
    return len(repr(value))


def json_size(value: Any, limit: int, budget: Budget | None = None) -> int:
    """The length ``value`` has as compact JSON, walking at most ``limit`` bytes of it.

    Strings count their characters plus quotes (escapes are not counted), so
    the figure is a close lower bound and the walk's cost is bounded by
    ``limit`` whatever the value's shape.

    Raises:
        TooLargeError: The value is larger than ``limit``.
        ExpressionError: The value holds a number that is not finite, or
            the budget's deadline passed.
    """
    total = 0
    stack: list[Any] = [value]
    visited = 0
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            total += len(item) + 2
        elif kind is dict:
            total += len(item) + 1
            for key, member in item.items():
                total += (len(key) if type(key) is str else len(str(key))) + 3
                stack.append(member)
        elif kind is list:
            total += len(item) + 1
            stack.extend(item)
        elif kind is int or kind is float:
            total += _number_size(item)
        else:
            total += _other_size(item, stack)
        visited += 1
        if total > limit:
            raise TooLargeError(f"more than {limit} bytes as JSON")
        if budget is not None and not visited % _DEADLINE_CHECK_EVERY:
            budget.check_clock()
    return total


def _other_size(item: Any, stack: list[Any]) -> int:
    """Sizes what ``json_size`` has no fast path for: literals, subclasses, tuples."""
    if item is None or isinstance(item, bool):
        return 5
    if isinstance(item, int | float):
        return _number_size(item)
    if isinstance(item, str):
        return len(item) + 2
    if isinstance(item, dict):
        stack.extend(item.values())
        return len(item) + 1 + sum(len(str(key)) + 3 for key in item)
    if isinstance(item, list | tuple):
        stack.extend(item)
        return len(item) + 1
    return len(str(item)) + 2


def _is_special_number_case(left: Any, right: Any) -> bool:
    """JMESPath's rule: ``0``/``1`` never equal ``false``/``true`` at the top level."""
    left_number = isinstance(left, int | float) and not isinstance(left, bool)
    right_number = isinstance(right, int | float) and not isinstance(right, bool)
    if left_number and left in (0, 1):
        return isinstance(right, bool)
    if right_number and right in (0, 1):
        return isinstance(left, bool)
    return False


def bounded_equal(left: Any, right: Any, budget: Budget, *, top_level: bool = True) -> bool:
    """JMESPath equality, comparing node by node and spending one step per pair compared.

    Gives the same answers as ``jmespath``'s ``==`` (Python equality plus the
    top-level 0/1 versus booleans rule) without walking shared structure an
    exponential number of times unnoticed: the step budget stops it.
    """
    if top_level and _is_special_number_case(left, right):
        return False
    stack: list[tuple[Any, Any]] = [(left, right)]
    while stack:
        a, b = stack.pop()
        budget.steps += 1
        if budget.steps > budget.max_steps or not budget.steps % _DEADLINE_CHECK_EVERY:
            budget.fail_if_spent()
        if isinstance(a, list):
            if a is b:
                continue
            if not isinstance(b, list) or len(a) != len(b):
                return False
            stack.extend(zip(a, b, strict=True))
        elif isinstance(a, dict):
            if a is b:
                continue
            if not isinstance(b, dict) or len(a) != len(b):
                return False
            for key, member in a.items():
                if key not in b:
                    return False
                stack.append((member, b[key]))
        elif isinstance(b, list | dict) or a != b:
            return False
    return True


def bounded_contains(items: list[Any], search: Any, budget: Budget) -> bool:
    """``search in items`` with every element comparison charged to the budget."""
    return any(bounded_equal(item, search, budget, top_level=False) for item in items)
