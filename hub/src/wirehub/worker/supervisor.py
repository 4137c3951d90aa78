"""``wirehub worker --processes N``: N worker processes, each replaced when it exits or its heartbeat stops.

A worker whose event loop is blocked (a node that holds the interpreter in C
code, a deadlock) cannot renew its leases or stop on SIGTERM: the sweeper of
another process times its attempts out, but the process itself would stay
stuck. So each child's event loop touches a heartbeat file of its own (see
``serve``); the supervisor SIGKILLs a child whose file is older than the
heartbeat timeout, and starts a new one in its place, as it does for a child
that exits. SIGTERM or SIGINT to the supervisor is passed on to every child,
which finishes or hands back its attempts within the shutdown grace; a child
still running after the grace and a margin is killed.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

logger = logging.getLogger("wirehub.worker")

POLL_SECONDS = 0.2
"""How often the supervisor looks at its children."""
START_ALLOWANCE_SECONDS = 60.0
"""How long a new child may take to import, connect and write its first heartbeat."""
STOP_MARGIN_SECONDS = 10.0
"""How long past the shutdown grace a stopping child may take before it is killed."""
RESPAWN_BACKOFF_MAX = 30.0
"""Longest pause before starting again a child that keeps exiting soon after its start."""
QUICK_EXIT_SECONDS = 5.0
"""A child that exits sooner than this after its start is started again with backoff."""

ChildCommand = Callable[[str, Path], Sequence[str]]
"""The command line of a child from its name and its heartbeat file."""


def beat(path: Path) -> None:
    """Writes one heartbeat: the file's modification time becomes now."""
    path.touch()


@dataclass
class _Child:
    name: str
    heartbeat: Path
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    spawned_at_ns: int = 0
    restarts: int = 0
    not_before: float = 0.0
    backoff: float = 1.0


class Supervisor:
    """Runs ``processes`` worker children and keeps them running until stopped.

    Args:
        command: Builds a child's command line from its name and heartbeat file.
        names: One name per child (``NAME-1``, ``NAME-2``...); a replacement keeps its slot's name.
        heartbeat_timeout: Seconds without a heartbeat after which a child is killed and replaced.
        grace: The children's shutdown grace (``shutdown_grace_seconds``).
    """

    def __init__(self, command: ChildCommand, names: Sequence[str], *, heartbeat_timeout: float, grace: float) -> None:
        self.command = command
        self.heartbeat_timeout = heartbeat_timeout
        self.grace = grace
        self.folder = Path(tempfile.mkdtemp(prefix="wirehub-heartbeats-"))
        self.children = [_Child(name, self.folder / f"{index}.beat") for index, name in enumerate(names)]
        self.replacements = 0
        """Children started again because they exited or went silent."""
        self._stopping = False

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Asks the supervisor to stop its children and return (a signal handler)."""
        self._stopping = True

    def run(self) -> int:
        """Starts the children and replaces those that exit or go silent, until ``stop()``.

        Returns:
            0 when every child stopped cleanly on SIGTERM, 1 otherwise.
        """
        previous = {signum: signal.signal(signum, self.stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            for child in self.children:
                self._spawn(child)
            logger.info("supervisor started %d worker processes", len(self.children))
            while not self._stopping:
                for child in self.children:
                    self._check(child)
                time.sleep(POLL_SECONDS)
            return self._stop_all()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for child in self.children:
                if child.process is not None and child.process.poll() is None:
                    child.process.kill()
                    child.process.wait()
            shutil.rmtree(self.folder, ignore_errors=True)

    def _spawn(self, child: _Child) -> None:
        beat(child.heartbeat)
        child.spawned_at_ns = child.heartbeat.stat().st_mtime_ns
        child.started = time.monotonic()
        child.process = subprocess.Popen(list(self.command(child.name, child.heartbeat)))  # noqa: S603  # our own command

    def _check(self, child: _Child) -> None:
        """Replaces ``child`` if it exited or its heartbeat is too old."""
        process = child.process
        now = time.monotonic()
        if process is None:
            if now >= child.not_before:
                self._respawn(child)
            return
        code = process.poll()
        if code is not None:
            logger.warning("worker %s (pid %d) exited with %d; starting it again", child.name, process.pid, code)
            self._schedule_respawn(child, now)
            return
        silent = self._silence(child, now)
        if silent is not None:
            logger.warning(
                "worker %s (pid %d) sent no heartbeat for %.1fs; killing it and starting another",
                child.name,
                process.pid,
                silent,
            )
            process.kill()
            process.wait()
            self._schedule_respawn(child, now)

    def _silence(self, child: _Child, now: float) -> float | None:
        """Seconds since ``child``'s last heartbeat, when beyond its bound; ``None`` while it is alive."""
        try:
            stamp = child.heartbeat.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = child.spawned_at_ns
        if stamp <= child.spawned_at_ns:  # not one heartbeat yet: it is still starting
            waited = now - child.started
            return waited if waited > START_ALLOWANCE_SECONDS else None
        silent = time.time() - stamp / 1e9
        return silent if silent > self.heartbeat_timeout else None

    def _schedule_respawn(self, child: _Child, now: float) -> None:
        quick = now - child.started < QUICK_EXIT_SECONDS
        child.backoff = min(child.backoff * 2, RESPAWN_BACKOFF_MAX) if quick else 1.0
        child.not_before = now + (child.backoff if quick else 0.0)
        child.process = None

    def _respawn(self, child: _Child) -> None:
        self.replacements += 1
        child.restarts += 1
        self._spawn(child)
        assert child.process is not None
        logger.info("worker %s replaced (pid %d)", child.name, child.process.pid)

    def _stop_all(self) -> int:
        """Passes SIGTERM on, waits the grace and a margin, then kills what is left."""
        running = [child.process for child in self.children if child.process is not None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace + STOP_MARGIN_SECONDS
        codes = []
        for process in running:
            try:
                codes.append(process.wait(timeout=max(0.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                logger.warning("worker pid %d did not stop within the grace; killing it", process.pid)
                process.kill()
                codes.append(process.wait())
        logger.info("supervisor stopped")
        # A child still starting when the signal came ends by it, before it could handle it: a clean stop too.
        return 0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1


def child_names(base: str, processes: int) -> list[str]:
    """The children's names: ``BASE-1`` ... ``BASE-N``."""
    return [f"{base}-{index}" for index in range(1, processes + 1)]
