"""A uvicorn server on a thread of the test process, up before the test talks to it and stopped after."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

START_WITHIN = 30.0
"""Seconds a server may take to start."""


@contextlib.contextmanager
def serving(server: uvicorn.Server, thread: threading.Thread, listener: socket.socket) -> Iterator[str]:
    """Starts ``thread``, which runs ``server`` on ``listener`` (bound to 127.0.0.1), and gives its URL once it serves.

    On exit the server is told to stop, the thread joined and the listener closed.
    """
    port = listener.getsockname()[1]
    thread.start()
    try:
        deadline = time.monotonic() + START_WITHIN
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        listener.close()
