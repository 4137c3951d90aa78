"""Log lines that say which execution, step and attempt they come from."""

from __future__ import annotations

import logging


class ContextFormatter(logging.Formatter):
    """Appends ``[execution step#attempt]`` to records logged through a node's bound logger."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        step = getattr(record, "step_id", None)
        if step is None:
            return line
        return f"{line} [{getattr(record, 'execution_id', '?')} {step}#{getattr(record, 'attempt', '?')}]"


def configure(verbosity: int) -> None:
    """Logs to stderr: WARNING by default, INFO with ``-v``, DEBUG with ``-vv``."""
    root = logging.getLogger()
    root.setLevel({0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG))
    if not any(isinstance(h.formatter, ContextFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(ContextFormatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
