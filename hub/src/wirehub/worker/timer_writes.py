"""Tells a sweeper when a transaction of this process that wrote a timer has ended.

The embedded hub's sweeper sleeps until the earliest stored timer is due; a
transition that stores a new timer (a retry's backoff, a delay, a timeout)
must wake it. Rather than ask every caller, this watches the engine: an
``INSERT`` into the timers table marks its connection (with the earliest due
instant among its rows, when the statement carries them as parameters), and
when the connection goes back to the pool, its transaction over, the sweeper
is told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.sql import Insert

from wirehub.store import Timer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from wirehub.worker.sweeper import Sweeper

_KEY = "wirehub_timer_written"
"""The connection's ``info`` entry: the earliest due instant written in its transaction, or ``None`` if unknown."""


def watch_timer_writes(engine: AsyncEngine, sweeper: Sweeper) -> None:
    """Calls ``sweeper.timer_written`` after each transaction on ``engine`` that inserted a timer."""
    timers = Timer.__table__

    def before_execute(
        connection: Any, statement: Any, multiparams: Sequence[Any], params: Mapping[str, Any], _options: Any
    ) -> None:
        if not isinstance(statement, Insert) or statement.table is not timers:
            return
        due = _earliest(multiparams, params)
        info = connection.info
        if _KEY in info:
            known = info[_KEY]
            due = None if due is None or known is None else min(due, known)
        info[_KEY] = due

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and _KEY in record.info:
            sweeper.timer_written(record.info.pop(_KEY))

    event.listen(engine.sync_engine, "before_execute", before_execute)
    event.listen(engine.sync_engine.pool, "checkin", checkin)


def _earliest(multiparams: Sequence[Any], params: Mapping[str, Any]) -> datetime | None:
    """The earliest ``due_at`` among the statement's parameter rows; ``None`` when they do not say."""
    dues: list[datetime] = []
    for row in [*multiparams, params] if params else multiparams:
        due = row.get("due_at") if isinstance(row, Mapping) else None
        if not isinstance(due, datetime):
            return None
        dues.append(due)
    return min(dues) if dues else None
