"""Node types that break a worker: one holds the interpreter lock in C, one ignores cancellation.

Loaded into ``wirehub worker`` processes as the installed plugin ``test``
through a distribution folder the fault test puts on ``PYTHONPATH``
(``install``).
"""

from __future__ import annotations

import asyncio
import ctypes
import time
from pathlib import Path
from typing import Any, ClassVar

import msgspec

from wirehub_sdk import NodeContext, NodeType, hookimpl


class StuckConfig(msgspec.Struct, forbid_unknown_fields=True):
    seconds: int
    """How long the node misbehaves."""


class HoldLockNode(NodeType):
    """Sleeps in C without releasing the interpreter lock: every thread of its process stops, the event loop too."""

    name = "test.hold_lock"
    Config: ClassVar[type[Any]] = StuckConfig

    async def execute(self, ctx: NodeContext, config: StuckConfig, input: Any) -> Any:
        ctypes.PyDLL(None).sleep(config.seconds)  # a PyDLL call keeps the lock for its whole length
        return {"held": config.seconds}


class IgnoreCancelNode(NodeType):
    """Swallows every cancellation for ``seconds``."""

    name = "test.ignore_cancel"
    Config: ClassVar[type[Any]] = StuckConfig

    async def execute(self, ctx: NodeContext, config: StuckConfig, input: Any) -> Any:
        until = time.monotonic() + config.seconds
        while time.monotonic() < until:
            try:
                await asyncio.sleep(until - time.monotonic())
            except asyncio.CancelledError:
                continue
        return {"ignored": True}


@hookimpl
def wirehub_node_types() -> list[type[NodeType]]:
    return [HoldLockNode, IgnoreCancelNode]


def install(folder: Path) -> Path:
    """Writes a distribution's metadata declaring this module as the plugin ``test``; returns the folder."""
    info = folder / "wirehub_stuck_nodes-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wirehub-stuck-nodes\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[wirehub]\ntest = {__name__}\n")
    return folder
