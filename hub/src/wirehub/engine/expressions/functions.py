"""The functions expressions may call: JMESPath's built-ins, bounded, plus a few of the hub's own.

Every function that builds a list, an object or a string says how large the
result will be before building it, so one call cannot allocate past the
evaluation's limits. ``docs/expressions.md`` documents each function; a test
checks that every name in ``FUNCTION_TABLE`` appears there.
"""

from __future__ import annotations

import decimal
import json
import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jmespath import exceptions, functions
from jmespath.functions import signature

from wirehub.engine.expressions.bounds import Budget, TooLargeError, bounded_contains, json_size, utf8_size
from wirehub.engine.language import limits
from wirehub_sdk import ExpressionError

_INT_LIMIT = 2**63
"""Integer results of arithmetic must stay within a signed 64-bit range."""
_INT_DIGITS = len(str(_INT_LIMIT))
"""No integer with more digits than this can be within the range."""
_EXACT_FLOATS = 2.0**53
"""From here on every float is a whole number."""
MAX_ROUND_DIGITS = 15


def _jmespath_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if value is None:
        return "null"
    return "expression" if hasattr(value, "expression") else type(value).__name__


def _number(value: int | float, function: str) -> int | float:
    """Checks an arithmetic result: finite, and integers within 64 bits."""
    if isinstance(value, int):
        if not -_INT_LIMIT <= value < _INT_LIMIT:
            raise ExpressionError(f"{function}() produced an integer outside the 64-bit range")
        return value
    if not math.isfinite(value):
        raise ExpressionError(f"{function}() produced {value!r}, which is not a JSON number")
    return value


class HubFunctions(functions.Functions):
    """JMESPath functions with size bounds, plus arithmetic and string helpers.

    Args:
        budget: The evaluation's budget; results are charged to it.
    """

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def call_function(self, function_name: str, resolved_args: Iterable[Any]) -> Any:
        """Calls a function, charging the items it visits as steps and what it creates as items."""
        args = list(resolved_args)
        if function_name not in _CONSTANT_TIME:
            # max() over millions of items runs in C between two interpreter steps: count them first.
            self.budget.charge_steps(sum(len(arg) for arg in args if isinstance(arg, list | dict)))
        try:
            result = super().call_function(function_name, args)
        except exceptions.JMESPathTypeError as exc:
            # Not chained: the cause's message prints the offending value in full,
            # and that value may be enormous once written out.
            actual = functions.TYPES_MAP.get(exc.actual_type, exc.actual_type)
            expected = ", ".join(exc.expected_types)
            raise ExpressionError(f"{function_name}() got {actual}, expected {expected}") from None
        if function_name in _SIZED_BEFORE or any(result is arg for arg in args):
            return result
        if isinstance(result, list | dict):
            self.budget.charge_items(len(result))
        elif isinstance(result, str):
            self.budget.charge_string(utf8_size(result))
        return result

    # -- built-ins whose results can be large: same semantics, sized first --

    @signature({"types": ["string"]}, {"types": ["array-string"]})
    def _func_join(self, separator: str, array: list[str]) -> str:
        self.budget.charge_string(sum(map(utf8_size, array)) + utf8_size(separator) * max(len(array) - 1, 0))
        return separator.join(array)

    @signature({"types": []})
    def _func_to_string(self, arg: Any) -> str:
        if isinstance(arg, str):
            return arg
        try:
            size = json_size(arg, limits.MAX_STRING_LENGTH, self.budget)
        except TooLargeError as exc:
            raise ExpressionError(f"to_string() would create a string of {exc} (limit MAX_STRING_LENGTH)") from None
        self.budget.charge_string(size)
        # json_size refused anything that is not a JSON value (``&expr`` included): no default= needed.
        return json.dumps(arg, separators=(",", ":"), ensure_ascii=False)

    @signature({"types": []})
    def _func_to_number(self, arg: Any) -> int | float | None:
        if isinstance(arg, bool) or not isinstance(arg, int | float | str):
            return None
        if isinstance(arg, int | float):
            return _number(arg, "to_number")
        digits = arg.strip().lstrip("+-").replace("_", "").lstrip("0")
        if digits.isdigit() and len(digits) > _INT_DIGITS:
            # int() of thousands of digits is slow, and past 4,300 it raises.
            raise ExpressionError("to_number() produced an integer outside the 64-bit range")
        try:
            return _number(int(arg), "to_number")
        except ValueError:
            try:
                number = float(arg)
            except ValueError:
                return None
            return number if math.isfinite(number) else None

    @signature({"types": ["array-number"]})
    def _func_sum(self, items: list[int | float]) -> int | float:
        return _number(sum(items), "sum")

    @signature({"types": ["array-number"]})
    def _func_avg(self, items: list[int | float]) -> int | float | None:
        return _number(sum(items) / len(items), "avg") if items else None

    @signature({"types": ["number"]})
    def _func_abs(self, value: int | float) -> int | float:
        return _number(abs(value), "abs")

    @signature({"types": ["number"]})
    def _func_ceil(self, value: int | float) -> int | float:
        return _number(math.ceil(value), "ceil")

    @signature({"types": ["number"]})
    def _func_floor(self, value: int | float) -> int | float:
        return _number(math.floor(value), "floor")

    @signature({"types": ["array", "string"]}, {"types": []})
    def _func_contains(self, subject: list[Any] | str, search: Any) -> bool:
        if isinstance(subject, str):
            return isinstance(search, str) and search in subject
        return bounded_contains(subject, search, self.budget)

    @signature({"types": ["object"], "variadic": True})
    def _func_merge(self, *arguments: dict[str, Any]) -> dict[str, Any]:
        self.budget.charge_items(sum(len(argument) for argument in arguments))
        merged: dict[str, Any] = {}
        for argument in arguments:
            merged.update(argument)
        return merged

    # -- arithmetic --

    @signature({"types": ["number"]}, {"types": ["number"]})
    def _func_add(self, left: int | float, right: int | float) -> int | float:
        return _number(left + right, "add")

    @signature({"types": ["number"]}, {"types": ["number"]})
    def _func_subtract(self, left: int | float, right: int | float) -> int | float:
        return _number(left - right, "subtract")

    @signature({"types": ["number"]}, {"types": ["number"]})
    def _func_multiply(self, left: int | float, right: int | float) -> int | float:
        if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > 128:
            raise ExpressionError("multiply() produced an integer outside the 64-bit range")
        return _number(left * right, "multiply")

    @signature({"types": ["number"]}, {"types": ["number"]})
    def _func_divide(self, left: int | float, right: int | float) -> int | float:
        if right == 0:
            raise ExpressionError("divide() by zero")
        if isinstance(left, int) and isinstance(right, int) and left % right == 0:
            return _number(left // right, "divide")
        return _number(left / right, "divide")

    @signature({"types": ["number"]}, {"types": ["number"]})
    def _func_mod(self, left: int | float, right: int | float) -> int | float:
        if right == 0:
            raise ExpressionError("mod() by zero")
        return _number(left % right, "mod")

    @signature({"types": ["number"]}, {"types": ["number"]})
    def _func_round(self, value: int | float, digits: int | float) -> int | float:
        if not isinstance(digits, int) or not 0 <= digits <= MAX_ROUND_DIGITS:
            raise ExpressionError(f"round() takes a whole number of digits from 0 to {MAX_ROUND_DIGITS}")
        if isinstance(value, int):
            return value
        _number(value, "round")
        if abs(value) >= _EXACT_FLOATS:
            # Past 2**53 every float is a whole number: there is nothing to round.
            return _number(int(value), "round") if digits == 0 else value
        # At most 16 integer digits and 15 decimals: a precision of 40 is always enough to quantize.
        context = decimal.Context(prec=40)
        rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=context)
        return _number(int(rounded), "round") if digits == 0 else float(rounded)

    # -- strings --

    @signature({"types": ["string"]}, {"types": ["string"], "variadic": True})
    def _func_concat(self, *parts: Any) -> str:
        for position, part in enumerate(parts, start=1):
            if not isinstance(part, str):
                raise ExpressionError(
                    f"concat() takes strings; argument {position} is {_jmespath_type(part)} (use to_string())"
                )
        self.budget.charge_string(sum(map(utf8_size, parts)))
        return "".join(parts)

    @signature({"types": ["string"]})
    def _func_lower(self, text: str) -> str:
        return text.lower()

    @signature({"types": ["string"]})
    def _func_upper(self, text: str) -> str:
        return text.upper()

    @signature({"types": ["string"]})
    def _func_trim(self, text: str) -> str:
        return text.strip()

    @signature({"types": ["string"]}, {"types": ["string"]})
    def _func_split(self, text: str, separator: str) -> list[str]:
        if not separator:
            raise ExpressionError("split() needs a separator that is not empty")
        self.budget.charge_items(text.count(separator) + 1)
        return text.split(separator)

    @signature({"types": ["string"]}, {"types": ["string"]}, {"types": ["string"]})
    def _func_replace(self, text: str, old: str, new: str) -> str:
        if not old:
            raise ExpressionError("replace() needs a substring to replace that is not empty")
        self.budget.charge_string(utf8_size(text) + text.count(old) * (utf8_size(new) - utf8_size(old)))
        return text.replace(old, new)

    # -- values and objects --

    @signature({"types": []}, {"types": []})
    def _func_default(self, value: Any, fallback: Any) -> Any:
        return fallback if value is None else value

    @signature({"types": ["object"]})
    def _func_to_entries(self, value: dict[str, Any]) -> list[dict[str, Any]]:
        self.budget.charge_items(len(value) * 3)
        return [{"key": key, "value": member} for key, member in value.items()]

    @signature({"types": ["array"]})
    def _func_from_entries(self, entries: list[Any]) -> dict[str, Any]:
        self.budget.charge_items(len(entries))
        result: dict[str, Any] = {}
        for position, entry in enumerate(entries):
            if isinstance(entry, list) and len(entry) == 2:
                key, member = entry
            elif isinstance(entry, dict) and "key" in entry:
                key, member = entry["key"], entry.get("value")
            else:
                raise ExpressionError(
                    f"from_entries() takes [key, value] pairs or {{key, value}} objects; entry {position} is neither"
                )
            if not isinstance(key, str):
                raise ExpressionError(
                    f"from_entries(): the key of entry {position} is {_jmespath_type(key)}, not a string"
                )
            result[key] = member
        return result


_CONSTANT_TIME = frozenset({"length", "type", "not_null", "default", "to_array"})
"""Functions that do not walk their arguments: they spend no step per item."""

_SIZED_BEFORE = frozenset({"join", "to_string", "merge", "concat", "split", "replace", "to_entries", "from_entries"})
"""Functions that charge their results to the budget before building them."""

FUNCTION_NAMES: frozenset[str] = frozenset(HubFunctions.FUNCTION_TABLE)
"""Every function an expression may call."""


def arity(name: str) -> tuple[int, bool]:
    """How many arguments ``name`` takes, and whether more may follow (variadic)."""
    spec = HubFunctions.FUNCTION_TABLE[name]["signature"]
    variadic = bool(spec) and bool(spec[-1].get("variadic"))
    return len(spec), variadic
