"""Fault test: nodes that block their worker's event loop or ignore cancellation, under a supervisor.

``wirehub worker --processes 2`` runs two worker processes and replaces one
whose event loop stops sending heartbeats. One step holds the interpreter lock
(its whole process stops, heartbeat included), another swallows every
cancellation. The sweeper of the other process times both attempts out on
time, the stuck process is killed and replaced, and other executions finish
meanwhile. A child killed outright is started again too, and SIGTERM to the
supervisor stops both children gracefully.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.worker.faults_timers import stuck_plugin
from tests.worker.faults_timers.support import LEASE, SWEEP, Start, fetch
from tests.worker.processes import Sender, WorkerProcess
from wirehub.plugins import Registry, build_registry

STEP_TIMEOUT = 3
HEARTBEAT_TIMEOUT = 2.0
MARGIN = 3.0
"""Time for a sweep and a transition on a busy two-core machine."""
OTHERS = 20
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def sender_registry() -> Registry:
    return build_registry(extra_plugins=[stuck_plugin], load_entry_points=True)


@pytest.fixture
def supervisor(hub_workers: Start, tmp_path: Path) -> WorkerProcess:
    site = stuck_plugin.install(tmp_path / "site")
    env = {
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "WIREHUB_WORKER_HEARTBEAT_TIMEOUT_SECONDS": str(HEARTBEAT_TIMEOUT),
    }
    (process,) = hub_workers("sup", env=env, args=["--processes", "2"], wait=False)
    process.wait_for("worker sup-1 started")
    process.wait_for("worker sup-2 started")
    return process


def _one(step_type: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": step_type.replace(".", "-"),
        "steps": [{"id": "stuck", "type": step_type, "config": config, "timeout_seconds": STEP_TIMEOUT}],
    }


QUICK: dict[str, Any] = {
    "name": "quick",
    "steps": [{"id": "echo", "type": "core.transform", "config": {"expression": "input"}}],
}


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def _started_and_ended(url: str, execution_id: Any) -> tuple[datetime, datetime]:
    rows = await fetch(
        url,
        "select event_type, event->>'at' as at from execution_history where execution_id = $1 order by sequence",
        execution_id,
    )
    started = next(row["at"] for row in rows if row["event_type"] == "step_started")
    ended = rows[-1]["at"]
    return datetime.fromisoformat(started), datetime.fromisoformat(ended)


@pytest.mark.skipif(sys.platform != "linux", reason="the lock-holding node calls the C library's sleep")
async def test_a_blocked_worker_is_timed_out_by_the_sweeper_and_replaced_while_other_executions_finish(
    sender: Sender, supervisor: WorkerProcess, postgresql_url: str
) -> None:
    blocked = await sender.start(await sender.workflow(_one("test.hold_lock", {"seconds": 120})), {})
    ignoring = await sender.start(await sender.workflow(_one("test.ignore_cancel", {"seconds": 30})), {})
    quick = await sender.workflow(QUICK)
    supervisor.wait_for("sent no heartbeat for", within=30)
    others = [await sender.start(quick, {"n": index}) for index in range(OTHERS)]

    for execution_id in (blocked, ignoring):
        view = await sender.store.wait(execution_id, timeout=30)
        assert view.status == "failed"
        assert view.error is not None
        assert view.error["kind"].startswith("timeout")
        started, ended = await _started_and_ended(postgresql_url, execution_id)
        assert (ended - started).total_seconds() <= STEP_TIMEOUT + SWEEP + MARGIN  # on time, by the sweeper

    views = [await sender.store.wait(execution_id, timeout=30) for execution_id in others]
    assert [view.status for view in views] == ["succeeded"] * OTHERS
    supervisor.wait_for(" replaced (pid ")  # the stuck process was killed and a new one started ...
    supervisor.wait_for(" started", count=4)  # ... and it runs: two started first, and its replacement
    assert supervisor.text.count("sent no heartbeat for") == 1  # the one that ignored cancellation kept beating
    assert supervisor.process.poll() is None

    # A child that dies is started again too.
    child = _children(supervisor.process.pid)[0]
    os.kill(child, signal.SIGKILL)
    supervisor.wait_for(f"(pid {child}) exited with -9; starting it again")
    supervisor.wait_for(" replaced (pid ", count=2)

    supervisor.terminate()
    assert supervisor.wait(2.0 + 10 + MARGIN) == 0
    assert "supervisor stopped" in supervisor.text
    assert LEASE < STEP_TIMEOUT  # the blocked attempt's lease lapses first: the sweeper needs no heartbeat of it
