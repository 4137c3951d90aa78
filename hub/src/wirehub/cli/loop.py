"""Runs a command's coroutine on libuv's event loop (uvloop) where it is installed, asyncio's otherwise.

uvicorn picks uvloop for ``wirehub serve`` by itself; a worker's loop is ours to choose. Under load a
worker's process spends a sixth of its CPU in the event loop's own machinery (scheduling tasks,
reading and writing sockets); uvloop does that work in C.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` when uvloop is installed (CPython off Windows), else ``None`` (asyncio's)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)``, on uvloop when it is installed."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coroutine)
