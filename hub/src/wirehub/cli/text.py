"""Text from definitions, inputs and errors, made safe to print on a terminal."""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line and paragraph separators, bidirectional overrides and isolates
# (they reorder what a reader sees), and lone surrogates (they cannot be encoded at all).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: object) -> str:
    r"""``text`` as a string a terminal shows literally: control characters become ``\x1b``, ``\u2028``...

    A definition can hold an escape sequence that retitles the terminal, or a
    carriage return that overwrites what was printed; escaped, they are seen
    for what they are. Backslashes stay as they are.
    """
    return _UNSAFE.sub(_escaped, str(text))


# In JSON text these can only stand inside strings, where ``\uXXXX`` is the same value.
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(value: object, *, pretty: bool = False) -> str:
    r"""``value`` as JSON a terminal shows literally: the same JSON value, every control character ``\u``-escaped.

    msgspec escapes C0 controls but writes DEL, C1 controls and U+2028 as they
    are, and refuses lone surrogates; those are escaped here too.
    """
    import json

    import msgspec

    try:
        encoded = msgspec.json.encode(value)
        text = (msgspec.json.format(encoded) if pretty else encoded).decode()
    except UnicodeEncodeError:  # a lone surrogate: the standard library escapes it as \udXXX
        text = json.dumps(msgspec.to_builtins(value), indent=2 if pretty else None, ensure_ascii=True)
    return _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
