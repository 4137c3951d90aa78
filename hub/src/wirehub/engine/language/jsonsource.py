"""Reading JSON from users strictly: size and depth limits, duplicate keys, values JSON can carry.

Python's ``json`` silently keeps the last of two equal keys; a definition
with ``"url"`` twice in one object is almost always a mistake, so every
duplicate is reported with a pointer to it. It also reads a 5,000-digit
integer (which Python then refuses to convert), ``1e400`` as infinity and
``"\\ud800"`` as a lone surrogate that no encoder can write back; each of
these is a problem with a pointer here, never a traceback later.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wirehub.engine.language import limits
from wirehub.engine.language.problems import Problem, join

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Integers in documents are signed 64-bit, as in expressions."""
_LONGEST_INT = len(str(INT_MIN))
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """The limits a kind of document is read with, and the codes of their problems."""

    what: str
    max_bytes: int
    max_depth: int
    bytes_limit: str
    depth_limit: str
    too_large: str
    too_deep: str


DEFINITION = DocumentLimits(
    "definition",
    limits.MAX_DEFINITION_BYTES,
    limits.MAX_DEFINITION_DEPTH,
    "MAX_DEFINITION_BYTES",
    "MAX_DEFINITION_DEPTH",
    "definition-too-large",
    "definition-too-deep",
)
INPUT = DocumentLimits(
    "input",
    limits.MAX_INPUT_BYTES,
    limits.MAX_INPUT_DEPTH,
    "MAX_INPUT_BYTES",
    "MAX_INPUT_DEPTH",
    "input-too-large",
    "input-too-deep",
)


@dataclass(slots=True)
class ParsedDocument:
    """The result of reading a document.

    Attributes:
        value: The decoded value (the last of duplicate keys wins), or
            ``None`` when it could not be read at all.
        problems: Everything wrong with the text itself.
        readable: ``False`` when ``value`` is unusable (not JSON, too large,
            too deep, or holding a value JSON cannot carry).
    """

    value: Any = None
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True


def _unreadable(message: str, code: str) -> ParsedDocument:
    return ParsedDocument(None, [Problem("", message, code)], readable=False)


def parse_document(source: str | bytes | dict[str, Any], *, kind: DocumentLimits = DEFINITION) -> ParsedDocument:
    """Reads ``source`` (JSON text, UTF-8 bytes, or an already decoded object).

    Args:
        source: The document.
        kind: Its limits and how messages name it (``DEFINITION`` or ``INPUT``).
    """
    what = kind.what
    if isinstance(source, dict):
        problems = value_problems(source, kind)
        return ParsedDocument(None if problems else source, problems, readable=not problems)
    text: str | None
    if isinstance(source, str):
        text = source
        # Every character is at least one byte: only encode what might fit.
        size = len(source) if len(source) > kind.max_bytes else len(source.encode("utf-8", errors="surrogatepass"))
    else:
        size, text = len(source), None
        if size <= kind.max_bytes:
            try:
                text = bytes(source).decode("utf-8")
            except UnicodeDecodeError as exc:
                return _unreadable(f"The {what} is not UTF-8 text (byte {exc.start} is invalid).", "invalid-json")
    if size > kind.max_bytes:
        return _unreadable(
            f"The {what} is {size} bytes long; the limit is {kind.max_bytes} bytes ({kind.bytes_limit}).",
            kind.too_large,
        )
    try:
        value, duplicates = _loads(text or "")
    except json.JSONDecodeError as exc:
        return _unreadable(
            f"The {what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.", "invalid-json"
        )
    except _ConstantError as exc:
        return _unreadable(f"The {what} is not valid JSON: {exc} is not a JSON number.", "invalid-json")
    except RecursionError:
        return _unreadable(f"The {what} nests arrays and objects too deeply to read.", kind.too_deep)
    problems = _walk(value, duplicates, kind, "", sized=False)
    readable = not any(problem.code != "duplicate-key" for problem in problems)
    return ParsedDocument(value if readable else None, problems, readable)


def value_problems(value: Any, kind: DocumentLimits, at: str = "") -> list[Problem]:
    """What makes an already decoded value unfit to stand for a JSON document of ``kind``.

    Checks its nesting and size (strings count their UTF-8 bytes), and that
    it holds only JSON values: objects with string keys, arrays, strings
    without lone surrogates, integers within 64 bits, finite numbers,
    ``true``, ``false`` and ``null``. Walks without recursion, and stops at
    the first problem of size or depth.

    Args:
        value: The decoded value.
        kind: Its limits and how messages name it.
        at: Pointer of the value within the reported document.
    """
    return _walk(value, {}, kind, at, sized=True)


LITERAL = DocumentLimits("literal", 2**62, 2**62, "", "", "", "")
"""An expression's JSON literal: its size and nesting are the expression's own limits."""


def json_text_problem(text: str, kind: DocumentLimits = LITERAL) -> str | None:
    """Why the JSON text ``text`` cannot be used as a value, or ``None`` when it can.

    For small documents whose size and nesting are bounded elsewhere (an
    expression's literals): not JSON, ``NaN``, numbers out of range, lone
    surrogates.
    """
    try:
        value, _ = _loads(text)
    except (ValueError, RecursionError):
        return "it is not JSON"
    problems = value_problems(value, kind)
    return problems[0].message if problems else None


class _ConstantError(ValueError):
    """Internal: ``NaN`` or ``Infinity`` in the text."""


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)


@dataclass(frozen=True, slots=True)
class _OutOfRange:
    """Internal: a number in the text that Python could read but JSON consumers cannot all carry."""

    text: str


def _read_int(text: str) -> int | _OutOfRange:
    # int() on thousands of digits is slow, and past 4,300 it raises: count the digits first.
    if len(text) > _LONGEST_INT:
        return _OutOfRange(text)
    number = int(text)
    return number if INT_MIN <= number <= INT_MAX else _OutOfRange(text)


def _read_float(text: str) -> float | _OutOfRange:
    number = float(text)
    return number if math.isfinite(number) else _OutOfRange(text)


def _loads(text: str) -> tuple[Any, dict[int, list[str]]]:
    """Decodes ``text``, recording the repeated keys of each object by the object's id."""
    duplicates: dict[int, list[str]] = {}

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            repeated: list[str] = []
            for key, _ in pairs:
                if key in seen and key not in repeated:
                    repeated.append(key)
                seen.add(key)
            duplicates[id(result)] = repeated
        return result

    value = json.loads(
        text, object_pairs_hook=build, parse_constant=_reject_constant, parse_int=_read_int, parse_float=_read_float
    )
    return value, duplicates


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text)} characters)"


def _scalar_problem(item: Any, what: str) -> tuple[str, str] | None:
    """What is wrong with a value that is not an array or an object, if anything: ``(message, code)``."""
    if item is None or isinstance(item, bool):
        return None
    if isinstance(item, str):
        if not item.isascii() and _SURROGATE.search(item):
            return f"The {what} holds a lone surrogate (\\ud800-\\udfff), which is not text.", "invalid-string"
        return None
    if isinstance(item, int):
        if INT_MIN <= item <= INT_MAX:
            return None
        return f"The {what} holds an integer outside the signed 64-bit range.", "invalid-number"
    if isinstance(item, float):
        if math.isfinite(item):
            return None
        return f"The {what} holds {item!r}, which is not a JSON number.", "invalid-number"
    if isinstance(item, _OutOfRange):
        return (
            f"The number {_shorten(item.text)} is out of range: integers must fit in 64 bits (signed) "
            "and other numbers must be finite.",
            "invalid-number",
        )
    return f"The {what} holds a {type(item).__name__}, which is not a JSON value.", "invalid-json"


def _string_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _walk(value: Any, duplicates: dict[int, list[str]], kind: DocumentLimits, at: str, *, sized: bool) -> list[Problem]:
    """Reports duplicate keys, excessive depth (and size), and values JSON cannot carry, without recursion."""
    problems: list[Problem] = []
    # (value, its parent's pointer, its token there): a scalar's pointer is built only for a problem.
    stack: list[tuple[Any, str, str | int | None, int]] = [(value, at, None, 1)]
    total = 0
    while stack:
        item, parent, token, depth = stack.pop()
        if not isinstance(item, dict | list):
            found = _scalar_problem(item, kind.what)
            if found is not None:
                problems.append(Problem(parent if token is None else join(parent, token), *found))
            if sized:
                total += _string_size(item) + 2 if isinstance(item, str) else 5
        elif depth > kind.max_depth:
            problems.append(
                Problem(
                    parent if token is None else join(parent, token),
                    f"The {kind.what} nests arrays and objects more than {kind.max_depth} levels deep "
                    f"here ({kind.depth_limit}).",
                    kind.too_deep,
                )
            )
            break
        else:
            location = parent if token is None else join(parent, token)
            total += len(item) + 1
            if isinstance(item, dict):
                problems += _key_problems(item, duplicates.get(id(item), ()), location, kind.what)
                total += sum(_string_size(key) + 3 for key in item if isinstance(key, str))
                stack.extend(
                    (member, location, key, depth + 1)
                    for key, member in item.items()
                    if isinstance(key, str) and (key.isascii() or not _SURROGATE.search(key))
                )
            else:
                stack.extend((member, location, index, depth + 1) for index, member in enumerate(item))
        if sized and total > kind.max_bytes:
            problems.append(
                Problem(
                    at,
                    f"The {kind.what} is more than {kind.max_bytes} bytes as JSON ({kind.bytes_limit}).",
                    kind.too_large,
                )
            )
            break
    return problems


def _key_problems(item: dict[Any, Any], duplicates: Iterable[str], location: str, what: str) -> list[Problem]:
    """Duplicate keys, keys that are not strings, keys holding a lone surrogate (whose members are not walked)."""
    problems = [
        Problem(
            join(location, key),
            f'The key "{key}" appears more than once in this object; only its last value would count.',
            "duplicate-key",
        )
        for key in duplicates
    ]
    for key in item:
        if not isinstance(key, str):
            problems.append(Problem(location, f"The {what} has an object key that is not a string.", "invalid-json"))
        elif not key.isascii() and _SURROGATE.search(key):
            # The pointer shows the surrogate escaped: written as is, it could not be printed either.
            shown = key.encode("utf-8", "backslashreplace").decode("utf-8")
            problems.append(
                Problem(
                    join(location, shown),
                    f"The {what} has a key holding a lone surrogate (\\ud800-\\udfff), which is not text.",
                    "invalid-string",
                )
            )
    return problems
