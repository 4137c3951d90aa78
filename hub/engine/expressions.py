"""The expression language: JMESPath, compiled once and evaluated within bounds.

(First cut: compile and evaluate. Bounds and static checks are being added.)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from hub_sdk import ExpressionError


class ExpressionSyntaxError(ValueError):
    """An expression does not parse, or breaks a limit of the language."""


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Any:
    """Parses ``text`` once. Raises ``ExpressionSyntaxError``."""
    try:
        return jmespath.compile(text)
    except JMESPathError as exc:
        raise ExpressionSyntaxError(str(exc)) from exc


def evaluate(text: str, data: Any) -> Any:
    """Evaluates ``text`` against ``data``. Raises ``ExpressionError``."""
    try:
        return compile_expression(text).search(data)
    except ExpressionSyntaxError as exc:
        raise ExpressionError(f"expression does not parse: {exc}") from exc
    except JMESPathError as exc:
        raise ExpressionError(f"expression failed: {exc}") from exc
