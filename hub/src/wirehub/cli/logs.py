"""Log lines that say which execution, step and attempt they come from, and reveal no secret.

Every line the ``wirehub`` command logs passes through :class:`ContextFormatter`,
which rewrites URLs (userinfo and query values become ``***``), replaces the
values of loaded credentials with ``***``, and escapes control characters.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO
from urllib.parse import SplitResult, parse_qsl, urlsplit

from wirehub.cli.text import escape

REDACTED = "***"
MIN_SECRET_LENGTH = 4
"""Shorter credential values are not searched for (they would blank out ordinary words)."""

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>`]+")


def redact_url(url: str) -> str:
    """``url`` with its userinfo and each query value replaced by ``***`` (parameter names kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0] + (f"?{REDACTED}" if "?" in url else "")
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(f"{name}={REDACTED}" for name, _ in pairs) if pairs else REDACTED
    fragment = REDACTED if parts.fragment else ""
    return SplitResult(parts.scheme, netloc, parts.path, query, fragment).geturl()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL redacted (:func:`redact_url`) and every one of ``secrets`` replaced."""
    text = _URL.sub(lambda match: redact_url(match.group()), text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class ContextFormatter(logging.Formatter):
    """Appends ``[execution step#attempt]`` to a node's records; redacts and escapes every line.

    Args:
        fmt: The ``logging`` format string.
        secrets: Values never to print (a credential's token, password...).
    """

    def __init__(self, fmt: str | None = None, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets: set[str] = {value for value in secrets if len(value) >= MIN_SECRET_LENGTH}

    def hide(self, values: Iterable[str]) -> None:
        """Adds values never to print."""
        self.secrets.update(value for value in values if len(value) >= MIN_SECRET_LENGTH)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        step = getattr(record, "step_id", None)
        if step is not None:
            line = f"{line} [{getattr(record, 'execution_id', '?')} {step}#{getattr(record, 'attempt', '?')}]"
        # A traceback keeps its line breaks; every other control character is shown escaped.
        return "\n".join(escape(part) for part in redact(line, self.secrets).split("\n"))


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record is emitted (a test runner may swap it)."""

    @property  # read-only on purpose: the stream is always sys.stderr
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        del value


def _formatters() -> list[ContextFormatter]:
    root = logging.getLogger()
    return [h.formatter for h in root.handlers if isinstance(h.formatter, ContextFormatter)]


def configure(verbosity: int) -> None:
    """Logs to stderr: WARNING by default, INFO with ``-v``, DEBUG with ``-vv``."""
    root = logging.getLogger()
    root.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    if not _formatters():
        handler = _StderrHandler()
        handler.setFormatter(ContextFormatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)


def hide_secrets(values: Iterable[str]) -> None:
    """Makes every log line the command prints replace each of ``values`` with ``***``."""
    values = list(values)
    for formatter in _formatters():
        formatter.hide(values)
