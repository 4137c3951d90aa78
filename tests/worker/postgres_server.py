"""A private PostgreSQL 15 server on a free 127.0.0.1 port, which a test may restart: the shared one is left alone.

``initdb`` and ``pg_ctl`` refuse to run as root, so when the tests run as root
(as in CI) they run as the ``postgres`` user, in a folder under ``/tmp`` that
user owns. Authentication is ``trust`` and durability is off (``fsync``): the
server is as throwaway as the data it holds.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.worker.redis_server import free_port

BINARIES = Path("/usr/lib/postgresql/15/bin")
"""Where Debian and Ubuntu install PostgreSQL 15 (``postgresql-15``)."""


class PostgresServer:
    """A PostgreSQL cluster of its own, started, stopped and restarted with ``pg_ctl``.

    Raises:
        FileNotFoundError: No PostgreSQL 15 binaries (or, as root, no ``postgres`` user to run them).
    """

    def __init__(self) -> None:
        if not (BINARIES / "pg_ctl").exists():
            raise FileNotFoundError(str(BINARIES / "pg_ctl"))
        self.as_user: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise FileNotFoundError("a postgres user to run initdb as") from exc
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.folder = Path(tempfile.mkdtemp(prefix="wirehub-pg-"))
        if owner is not None:
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self.data = self.folder / "data"
        self.port = free_port()
        self._run(BINARIES / "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")

    @property
    def url(self) -> str:
        """The URL of its ``postgres`` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Starts the server and waits until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            BINARIES / "pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-o", options, "-w", "start"
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"postgres did not start:\n{self.log}")

    def stop(self, mode: str = "fast") -> None:
        """Stops the server: ``fast`` disconnects every client, ``immediate`` is a crash (recovery on start)."""
        self._run(BINARIES / "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def close(self) -> None:
        """Stops the server if it runs, and removes its files."""
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self.as_user, str(BINARIES / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def log(self) -> str:
        path = self.folder / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _run(self, *command: str | Path) -> None:
        done = subprocess.run([*self.as_user, *map(str, command)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n{self.log}")
