"""Log lines, structured by structlog: JSON for log collectors, readable text in a terminal, never a secret.

The hub's modules log through the standard library (``logging.getLogger("wirehub...")``), as do
uvicorn, httpx and the rest; :func:`configure` gives the root logger one handler whose
:class:`LogFormatter` turns every record into a structlog event. The event carries what structlog's
context variables hold where the record was made: ``execution_id``, ``step_id`` and ``attempt``
inside a step attempt (bound by the runtime), ``correlation_id`` inside an API request (bound by
``wirehub.api.correlation``). Before rendering, every string in it has its URLs redacted (userinfo
and query values become ``***``, request paths included) and every value :func:`hide_secrets` was
given replaced by ``***``; in a terminal, control characters are shown escaped.

``WIREHUB_LOG_FORMAT``: ``json`` (one JSON object a line), ``console``, or ``auto`` (console when
stderr is a terminal, JSON otherwise). ``WIREHUB_LOG_LEVEL``: the lowest level (warning unless set);
``-v`` and ``-vv`` lower it to info and debug. structlog is imported when the first line is
formatted, so a command that logs nothing starts without it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO
from urllib.parse import SplitResult, parse_qsl, urlsplit

from wirehub.cli.text import escape

REDACTED = "***"
MIN_SECRET_LENGTH = 4
"""Shorter credential values are not searched for (they would blank out ordinary words)."""
CONTEXT_KEYS = ("execution_id", "step_id", "attempt", "correlation_id")
"""``extra=`` fields of a standard record that become keys of its event."""

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>`]+")
_PATH_QUERY = re.compile(r"(?<![\w:/])(/[^\s\"'<>`?]*)\?([^\s\"'<>`]+)")
"""A request path with a query, as uvicorn's access lines show it (``GET /live?ticket=...``)."""
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def redact_url(url: str) -> str:
    """``url`` with its userinfo and each query value replaced by ``***`` (parameter names kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0] + (f"?{REDACTED}" if "?" in url else "")
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    fragment = REDACTED if parts.fragment else ""
    return SplitResult(parts.scheme, netloc, parts.path, _redact_query(parts.query), fragment).geturl()


def _redact_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{name}={REDACTED}" for name, _ in pairs) if pairs else REDACTED


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL and request path's query redacted (:func:`redact_url`) and every one of
    ``secrets`` replaced."""
    text = _URL.sub(lambda match: redact_url(match.group()), text)
    text = _PATH_QUERY.sub(lambda match: f"{match.group(1)}?{_redact_query(match.group(2))}", text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class LogFormatter(logging.Formatter):
    """Formats standard records through structlog: JSON lines, or readable lines with key=value context.

    Args:
        json: One JSON object a line; otherwise the console rendering.
        colors: Colour the console rendering (when stderr is a terminal).
        secrets: Values never to print (a credential's token, password...).
    """

    def __init__(self, *, json: bool, colors: bool = False, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.json = json
        self.colors = colors and not json
        self.secrets: set[str] = set()
        self.hide(secrets)
        self._structlog: logging.Formatter | None = None

    def hide(self, values: Iterable[str]) -> None:
        """Adds values never to print."""
        self.secrets.update(value for value in values if len(value) >= MIN_SECRET_LENGTH)

    def format(self, record: logging.LogRecord) -> str:
        if self._structlog is None:
            self._structlog = self._build()
        return self._structlog.format(record)

    def _build(self) -> logging.Formatter:
        import structlog

        chain: list[Any] = [
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(allow=CONTEXT_KEYS),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ]
        final: list[Any] = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            self._redact,
        ]
        if self.json:
            final.append(structlog.processors.JSONRenderer(default=str))
        else:
            final += [
                _escape_values,
                structlog.dev.ConsoleRenderer(
                    colors=self.colors, pad_event_to=0, exception_formatter=structlog.dev.plain_traceback
                ),
            ]
        return structlog.stdlib.ProcessorFormatter(processors=final, foreign_pre_chain=chain)

    def _redact(self, _logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        for key, value in event.items():
            if isinstance(value, str):
                event[key] = redact(value, self.secrets)
        return event


def _escape_values(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Control characters shown escaped; a traceback keeps its line breaks."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = "\n".join(escape(part) for part in value.split("\n")) if key == "exception" else escape(value)
    return event


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record is emitted (a test runner may swap it)."""

    @property  # read-only on purpose: the stream is always sys.stderr
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        del value


def _ours() -> list[_StderrHandler]:
    return [handler for handler in logging.getLogger().handlers if isinstance(handler, _StderrHandler)]


def level_for(verbosity: int, level: str | None = None) -> int:
    """The root level: ``level`` (``WIREHUB_LOG_LEVEL``, warning when unset), lowered by ``-v`` flags."""
    chosen = _LEVELS.get(level or "warning", logging.WARNING)
    flagged = {0: chosen, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    return min(chosen, flagged)


def wants_json(log_format: str, stream: TextIO | None = None) -> bool:
    """Whether ``WIREHUB_LOG_FORMAT`` asks for JSON lines (``auto``: when ``stream`` is not a terminal)."""
    if log_format != "auto":
        return log_format == "json"
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def configure(verbosity: int, *, level: str | None = None, log_format: str = "auto") -> None:
    """Logs to stderr through structlog; see the module's docstring for the settings.

    Calling it again replaces the handler it installed (keeping the secrets it hides).

    Args:
        verbosity: The count of ``-v`` flags.
        level: ``WIREHUB_LOG_LEVEL`` (``debug``, ``info``, ``warning``, ``error``, ``critical``).
        log_format: ``WIREHUB_LOG_FORMAT`` (``auto``, ``json``, ``console``).
    """
    root = logging.getLogger()
    root.setLevel(level_for(verbosity, level))
    json = wants_json(log_format)
    kept: set[str] = set()
    for handler in _ours():
        if isinstance(handler.formatter, LogFormatter):
            kept |= handler.formatter.secrets
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(LogFormatter(json=json, colors=not json and sys.stderr.isatty(), secrets=kept))
    root.addHandler(handler)


def hide_secrets(values: Iterable[str]) -> None:
    """Makes every log line the command prints replace each of ``values`` with ``***``."""
    values = list(values)
    for handler in _ours():
        if isinstance(handler.formatter, LogFormatter):
            handler.formatter.hide(values)
