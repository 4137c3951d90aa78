"""Per-process counters of the floor, in memory shared with the harness.

Each worker process gets its own array of four 64-bit cells (written by that process only, so
no lock is needed); the harness process counts in a plain list. Redis commands are counted by
the connection class every broker connection uses, so pipelines and lock scripts count too.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Any

from redis.asyncio.connection import Connection

from bench.durable.protocol import Counters

STEPS, STATEMENTS, COMMITS, REDIS_COMMANDS = range(4)
CELLS = 4

_cells: MutableSequence[int] = [0] * CELLS


def install(cells: MutableSequence[int]) -> None:
    """Makes ``cells`` the counters of this process."""
    global _cells
    _cells = cells


def add(cell: int, amount: int = 1) -> None:
    """Adds ``amount`` to one counter of this process."""
    _cells[cell] += amount


def read(cells: MutableSequence[int]) -> Counters:
    """A snapshot of one process's counters."""
    return Counters(cells[STEPS], cells[STATEMENTS], cells[COMMITS], cells[REDIS_COMMANDS])


class CountingConnection(Connection):
    """A Redis connection that counts every command it encodes (pipelines encode each command)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        _cells[REDIS_COMMANDS] += 1
        return super().pack_command(*args)
