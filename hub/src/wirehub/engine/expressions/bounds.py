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

    def charge_string(self, size: int) -> None:
        """Checks a string about to be created: its size cap, and its kilobytes as items.

        Args:
            size: The string's size in UTF-8 bytes (``utf8_size``): an astral
                character is 4 bytes here, as it is 4 bytes in memory.
        """
        if size > limits.MAX_STRING_LENGTH:
            raise ExpressionError(
                f"the expression would create a string of {size} bytes; "
                f"the limit is {limits.MAX_STRING_LENGTH} (MAX_STRING_LENGTH)"
            )
        self.charge_items(size // 1024)


def utf8_size(text: str) -> int:
    """The size of ``text`` in UTF-8 bytes.

    Raises:
        ExpressionError: ``text`` holds a lone surrogate, which is not text:
            no encoder can write it, so no result may hold it.
    """
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ExpressionError(
            "the expression produced a string holding a lone surrogate (\\ud800-\\udfff), which is not text"
        ) from None


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
    """The size ``value`` has as compact UTF-8 JSON, walking each distinct array and object once.

    Strings count their UTF-8 bytes plus quotes (escapes are not counted),
    so the figure is a close lower bound. A value that shares structure
    (``[@, @]`` applied twenty times) is sized from its distinct parts, and
    the walk stops once the bytes of the distinct parts seen pass ``limit``:
    either way its cost is bounded by ``limit`` whatever the value's shape.

    Raises:
        TooLargeError: The value is larger than ``limit``.
        ExpressionError: The value holds a number that is not finite, a
            lone surrogate, or something that is not a JSON value (an
            expression reference ``&...``), or contains itself; or the
            budget's deadline passed.
    """
    if not _is_part(value):
        size = _scalar_size(value)
        if size > limit:
            raise TooLargeError(f"more than {limit} bytes as JSON")
        return size
    sizes: dict[int, int] = {}  # finished arrays and objects, capped at limit + 1
    pending: dict[int, tuple[int, list[Any]]] = {}  # started ones: own bytes, array and object members
    seen = 0  # own bytes of every distinct part so far: a lower bound of the total
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, finished = stack.pop()
        key = id(item)
        if finished:
            own, nested = pending.pop(key)
            sizes[key] = min(own + sum(sizes[id(member)] for member in nested), limit + 1)
            continue
        if key in sizes:
            continue
        if key in pending:
            raise ExpressionError("the expression produced a value that contains itself")
        own, nested = _own_bytes(item, limit - seen)
        seen += own
        if seen > limit:
            raise TooLargeError(f"more than {limit} bytes as JSON")
        if budget is not None and not (len(pending) + len(sizes)) % _DEADLINE_CHECK_EVERY:
            budget.check_clock()
        pending[key] = (own, nested)
        stack.append((item, True))
        stack.extend((member, False) for member in nested if id(member) not in sizes)
    total = sizes[id(value)]
    if total > limit:
        raise TooLargeError(f"more than {limit} bytes as JSON")
    return total


def _is_part(item: Any) -> bool:
    """Whether ``item`` is an array or an object, which ``json_size`` walks into."""
    return isinstance(item, dict | list | tuple)


def _own_bytes(item: Any, room: int) -> tuple[int, list[Any]]:
    """An array's or object's own bytes (brackets, commas, keys, scalar members) and its nested parts.

    Stops counting once past ``room``: the caller then refuses the value.
    """
    own = len(item) + 1
    nested: list[Any] = []
    if isinstance(item, dict):
        for key, member in item.items():
            own += (utf8_size(key) if isinstance(key, str) else len(str(key))) + 3
            if _is_part(member):
                nested.append(member)
            else:
                own += _scalar_size(member)
            if own > room:
                break
        return own, nested
    for member in item:
        if _is_part(member):
            nested.append(member)
        else:
            own += _scalar_size(member)
        if own > room:
            break
    return own, nested


def _scalar_size(item: Any) -> int:
    """The JSON size of a value that is not an array or an object; refuses what JSON cannot hold."""
    kind = type(item)
    if kind is str:
        return utf8_size(item) + 2
    if kind is int or kind is float:
        return _number_size(item)
    if item is None or isinstance(item, bool):
        return 5
    if isinstance(item, int | float):
        return _number_size(item)
    if isinstance(item, str):
        return utf8_size(item) + 2
    if hasattr(item, "expression"):
        # jmespath's value for ``&expr``: its repr would print a class name and a heap address.
        raise ExpressionError("an expression reference (&...) is not a value: pass it to sort_by(), map()...")
    raise ExpressionError(f"the expression produced a {type(item).__name__}, which is not a JSON value")


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
