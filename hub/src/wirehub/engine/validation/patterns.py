"""Regular expressions from users' schemas, compiled and matched by RE2 in linear time.

Python's ``re`` backtracks: ``^(a+)+$`` against 29 characters takes
seconds, doubling with each character. RE2 never backtracks, so matching
costs time linear in the input whatever the pattern; in exchange it refuses
backreferences and lookaround, which a schema pattern rarely needs. Its
``\\d``, ``\\w`` and ``\\s`` are ASCII only, as in ECMA-262, the dialect
JSON Schema names.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_LENGTH = 1_000
"""Characters in one pattern of an input schema."""

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # refusals are reported as problems, not printed on stderr


class UnsupportedPatternError(ValueError):
    """A pattern RE2 cannot compile (backreferences, lookaround, bad syntax, too large)."""


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    """The compiled form of ``pattern``, cached.

    Raises:
        UnsupportedPatternError: RE2 refuses the pattern; the message says why.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsupportedPatternError(f"it is {len(pattern)} characters long; the limit is {MAX_PATTERN_LENGTH}")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsupportedPatternError(reason) from None
    except UnicodeEncodeError:
        raise UnsupportedPatternError("it holds a lone surrogate, which is not text") from None


def pattern_problem(pattern: str) -> str | None:
    """Why RE2 cannot use ``pattern``, or ``None`` when it can."""
    try:
        compile_pattern(pattern)
    except UnsupportedPatternError as exc:
        return str(exc)
    return None


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches anywhere in ``text`` (JSON Schema patterns are not anchored).

    Raises:
        UnsupportedPatternError: RE2 refuses the pattern.
    """
    return compile_pattern(pattern).search(text) is not None
