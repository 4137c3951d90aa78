"""``Worker.running()``: a worker in a task of this loop for the length of a block."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from tests.worker.redis_server import free_port
from wirehub.runtime import NodeThreads, StepEnvironment
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub.store import ExecutionStore, PlanCache, database_engine, session_factory, upgrade_database
from wirehub.worker import Worker


async def test_a_worker_whose_broker_never_comes_up_is_stopped_and_raises_after_within(
    tmp_path: Path, registry: NodeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wirehub.worker")
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    engine = database_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    try:
        await upgrade_database(engine)
        store = ExecutionStore(session_factory(engine, writes=True), PlanCache(), catalog=registry)
        async with StepEnvironment(registry, NodeThreads(settings.egress_policy)) as env:
            worker = Worker(settings, store, env, name="unreachable")
            began = time.monotonic()
            with pytest.raises(TimeoutError, match=r"did not start within 0\.5 s"):
                async with worker.running(within=0.5):
                    pytest.fail("the block ran without a broker")
            assert time.monotonic() - began < 5
            assert not worker.started.is_set()
    finally:
        await engine.dispose()
    assert "cannot reach the broker" in caplog.text
