"""WAL checkpoints of a SQLite file on a thread of their own, so that no commit on the event loop waits for the disk.

In WAL mode with ``synchronous=NORMAL`` a commit only appends to the WAL file;
the disk is waited for (``fsync``) when the WAL is copied back into the
database, a checkpoint, which SQLite runs by itself in the commit that makes
the WAL pass 1,000 pages. On the embedded hub's engine, whose statements run
in the event loop's thread, that commit would hold the loop for as long as
the disk takes (about 10 ms here, once every hundred commits or so). Here the
engine's connections do no checkpoint of their own and a thread runs a
``PASSIVE`` one (it never waits for, nor holds up, a reader or a writer)
every ``interval`` seconds, and a last one on close. Durability is unchanged:
what a commit appended to the WAL is in the database file as far as any
reader, a crashed process's successor included, is concerned.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("wirehub.store")

CHECKPOINT_SECONDS = 0.5
"""How often the thread checkpoints the WAL."""


class WalCheckpoints:
    """Checkpoints a SQLite file's WAL on a daemon thread, in place of its connections' automatic checkpoints.

    Args:
        path: The database file.
        interval: Seconds between two checkpoints.
    """

    def __init__(self, path: str | Path, *, interval: float = CHECKPOINT_SECONDS) -> None:
        self.path = str(path)
        self.interval = interval
        self.checkpoints = 0
        """Checkpoints run so far."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wirehub-wal-checkpoints", daemon=True)

    @classmethod
    def of(cls, engine: AsyncEngine) -> WalCheckpoints | None:
        """Checkpoints for ``engine``'s database when it is a SQLite file, else ``None``."""
        url = engine.url
        database = url.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file:") or url.query.get("mode") == "memory"
        return None if url.get_backend_name() != "sqlite" or in_memory else cls(database)

    def attach(self, engine: AsyncEngine) -> None:
        """Turns off the automatic checkpoints of the connections ``engine`` opens from now on."""

        def no_automatic_checkpoints(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

        event.listen(engine.sync_engine, "connect", no_automatic_checkpoints)

    def start(self) -> None:
        """Starts the thread (once the database exists, in WAL mode)."""
        self._thread.start()

    def close(self) -> None:
        """Stops the thread after a last checkpoint (waiting for the one under way, if any)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                self._checkpoint(connection)
            self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # the next one tries again; the WAL only grows meanwhile
            logger.warning("WAL checkpoint of %s failed: %s", self.path, exc)
