"""The node threads: reuse, results across threads, stop, abandonment and closing."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from wirehub.runtime.node_threads import NodeJobError, NodeThreads
from wirehub_sdk import EgressClient

GRACE = 0.2


async def thread_name(cancelled: asyncio.Event, http: EgressClient) -> str:
    return threading.current_thread().name


async def test_jobs_run_off_the_callers_thread_and_threads_are_reused() -> None:
    threads = NodeThreads(grace_seconds=GRACE)
    try:
        names = [await (await threads.start(thread_name, label=f"job {i}")).wait() for i in range(5)]
    finally:
        await threads.aclose()
    assert threading.current_thread().name not in names
    assert len(set(names)) == 1, "one job after another reuses one thread"
    assert threads.started == 1


async def test_each_thread_has_its_own_loop_and_http_client() -> None:
    release = threading.Event()

    async def hold(cancelled: asyncio.Event, http: EgressClient) -> tuple[int, int]:
        await asyncio.to_thread(release.wait, 5)
        return id(asyncio.get_running_loop()), id(http)

    threads = NodeThreads(grace_seconds=GRACE)
    try:
        runs = [await threads.start(hold, label=f"hold {i}") for i in range(3)]
        await asyncio.sleep(0.05)
        release.set()
        seen = [await run.wait(5) for run in runs]
    finally:
        await threads.aclose()
    assert len({loop for loop, _ in seen}) == 3
    assert len({http for _, http in seen}) == 3
    assert id(asyncio.get_running_loop()) not in {loop for loop, _ in seen}


async def test_a_job_that_raises_reaches_the_caller_as_node_job_error() -> None:
    async def broken(cancelled: asyncio.Event, http: EgressClient) -> None:
        raise SystemExit(3)

    threads = NodeThreads(grace_seconds=GRACE)
    try:
        with pytest.raises(NodeJobError) as caught:
            await (await threads.start(broken, label="broken")).wait(5)
        assert isinstance(caught.value.__cause__, SystemExit)
        assert await (await threads.start(thread_name, label="after")).wait(5), "the thread survived SystemExit"
    finally:
        await threads.aclose()
    assert threads.started == 1


async def test_stop_sets_the_cancel_signal_and_cancels_the_job() -> None:
    saw: list[bool] = []

    async def wait_forever(cancelled: asyncio.Event, http: EgressClient) -> None:
        try:
            await asyncio.sleep(60)
        finally:
            saw.append(cancelled.is_set())

    threads = NodeThreads(grace_seconds=GRACE)
    try:
        run = await threads.start(wait_forever, label="forever")
        with pytest.raises(TimeoutError):
            await run.wait(0.05)
        run.stop()
    finally:
        await threads.aclose()
    assert saw == [True], "the job saw its cancel signal set when it was cancelled"
    assert threads.abandoned == 0


async def test_a_thread_whose_job_ignores_stop_is_abandoned_and_replaced() -> None:
    async def stubborn(cancelled: asyncio.Event, http: EgressClient) -> str:
        time.sleep(1)  # noqa: ASYNC251  # blocks its own loop: stop cannot reach it
        return "late"

    threads = NodeThreads(grace_seconds=GRACE)
    try:
        run = await threads.start(stubborn, label="stubborn")
        await asyncio.sleep(0.05)
        run.stop()
        await asyncio.sleep(GRACE + 0.1)
        assert threads.abandoned == 1
        started = time.monotonic()
        name = await (await threads.start(thread_name, label="next")).wait(5)
        assert time.monotonic() - started < 0.5, "the next job did not wait for the stubborn one"
        assert name == "wirehub-node-2"
    finally:
        await threads.aclose()


async def test_closing_waits_at_most_the_grace_for_a_stubborn_job() -> None:
    async def stubborn(cancelled: asyncio.Event, http: EgressClient) -> None:
        time.sleep(1.5)  # noqa: ASYNC251  # the misbehaviour under test

    threads = NodeThreads(grace_seconds=GRACE)
    await threads.start(stubborn, label="stubborn")
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await threads.aclose()
    assert time.monotonic() - started < GRACE + 0.3
    assert threads.abandoned == 1
    with pytest.raises(RuntimeError, match="closed"):
        await threads.start(thread_name, label="too late")


async def test_jobs_beyond_max_threads_wait_for_a_free_thread() -> None:
    release = threading.Event()

    async def hold(cancelled: asyncio.Event, http: EgressClient) -> str:
        await asyncio.to_thread(release.wait, 5)
        return threading.current_thread().name

    threads = NodeThreads(grace_seconds=GRACE, max_threads=2)
    try:
        first = [await threads.start(hold, label=f"hold {i}") for i in range(2)]
        third = asyncio.create_task(threads.start(hold, label="third"))
        await asyncio.sleep(0.1)
        assert not third.done(), "two jobs hold both threads"
        release.set()
        names = {await run.wait(5) for run in first}
        assert await (await third).wait(5) in names, "the third job reused a thread"
    finally:
        await threads.aclose()
    assert threads.started == 2
