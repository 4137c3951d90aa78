"""Reading a JSON document strictly: size and depth limits, duplicate keys, positions in errors.

Python's ``json`` silently keeps the last of two equal keys; a definition
with ``"url"`` twice in one object is almost always a mistake, so every
duplicate is reported with a pointer to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import msgspec

from wirehub.engine.language import limits
from wirehub.engine.language.problems import Problem, join


@dataclass(slots=True)
class ParsedDocument:
    """The result of reading a document.

    Attributes:
        value: The decoded value (the last of duplicate keys wins), or
            ``None`` when it could not be read at all.
        problems: Everything wrong with the text itself.
        readable: ``False`` when ``value`` is unusable (not JSON, too large,
            too deep).
    """

    value: Any = None
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True


def _unreadable(message: str, code: str) -> ParsedDocument:
    return ParsedDocument(None, [Problem("", message, code)], readable=False)


def parse_document(
    source: str | bytes | dict[str, Any],
    *,
    what: str = "definition",
    max_bytes: int = limits.MAX_DEFINITION_BYTES,
    max_depth: int = limits.MAX_DEFINITION_DEPTH,
) -> ParsedDocument:
    """Reads ``source`` (JSON text, UTF-8 bytes, or an already decoded object).

    Args:
        source: The document.
        what: How messages name the document (``"definition"``).
        max_bytes: Largest accepted size in bytes of UTF-8 JSON.
        max_depth: Deepest accepted nesting of arrays and objects.
    """
    if isinstance(source, dict):
        try:
            size = len(msgspec.json.encode(source))
        except (TypeError, ValueError, OverflowError, RecursionError) as exc:
            return _unreadable(f"The {what} holds a value that is not JSON: {exc}.", "invalid-json")
        text: str | None = None
    elif isinstance(source, str):
        text = source
        # Every character is at least one byte: only encode what might fit.
        size = len(source) if len(source) > max_bytes else len(source.encode("utf-8", errors="surrogatepass"))
    else:
        size, text = len(source), None
        if size <= max_bytes:
            try:
                text = bytes(source).decode("utf-8")
            except UnicodeDecodeError as exc:
                return _unreadable(f"The {what} is not UTF-8 text (byte {exc.start} is invalid).", "invalid-json")
    if size > max_bytes:
        return _unreadable(
            f"The {what} is {size} bytes long; the limit is {max_bytes} bytes (MAX_DEFINITION_BYTES).",
            "definition-too-large",
        )
    if isinstance(source, dict):
        value: Any = source
        duplicates: dict[int, list[str]] = {}
    else:
        try:
            value, duplicates = _loads(text or "")
        except json.JSONDecodeError as exc:
            return _unreadable(
                f"The {what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.", "invalid-json"
            )
        except _ConstantError as exc:
            return _unreadable(f"The {what} is not valid JSON: {exc} is not a JSON number.", "invalid-json")
        except RecursionError:
            return _unreadable(f"The {what} nests arrays and objects too deeply to read.", "definition-too-deep")
    problems = _walk(value, duplicates, max_depth, what)
    readable = not any(problem.code == "definition-too-deep" for problem in problems)
    return ParsedDocument(value if readable else None, problems, readable)


class _ConstantError(ValueError):
    """Internal: ``NaN`` or ``Infinity`` in the text."""


def _reject_constant(name: str) -> Any:
    raise _ConstantError(name)


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

    value = json.loads(text, object_pairs_hook=build, parse_constant=_reject_constant)
    return value, duplicates


def _walk(value: Any, duplicates: dict[int, list[str]], max_depth: int, what: str) -> list[Problem]:
    """Reports duplicate keys and excessive depth, without recursion."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, location, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            problems.append(
                Problem(
                    location,
                    f"The {what} nests arrays and objects more than {max_depth} levels deep "
                    "here (MAX_DEFINITION_DEPTH).",
                    "definition-too-deep",
                )
            )
            break
        if isinstance(item, dict):
            for key in duplicates.get(id(item), ()):
                problems.append(
                    Problem(
                        join(location, key),
                        f'The key "{key}" appears more than once in this object; only its last value would count.',
                        "duplicate-key",
                    )
                )
            stack.extend((member, join(location, key), depth + 1) for key, member in item.items())
        else:
            stack.extend((member, join(location, index), depth + 1) for index, member in enumerate(item))
    return problems
