"""The Redis stream broker, made harmless: each trap of taskiq-redis against a real redis-server."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from redis.asyncio import Redis
from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends

from tests.worker.redis_server import RedisServer
from wirehub.settings import Settings
from wirehub.worker import STREAM, TASK_NAME, Consumer, DispatchStreamBroker, broker_for, register

GROUP = "wirehub-workers"


class Recorder:
    """A test task's memory: which payloads ran, and a gate holding them."""

    def __init__(self) -> None:
        self.started: list[Any] = []
        self.finished: list[Any] = []
        self.gate = asyncio.Event()
        self.gate.set()


def _broker(url: str, *, lease: float = 30.0, concurrency: int = 4) -> DispatchStreamBroker:
    settings = Settings(redis_url=url, lease_seconds=lease, worker_concurrency=concurrency)
    broker = broker_for(settings, stream=f"test:{uuid.uuid4().hex}")
    assert isinstance(broker, DispatchStreamBroker)
    broker.middlewares.clear()  # these tests send payloads of their own, not dispatches
    return broker


def _with_task(broker: AsyncBroker, recorder: Recorder) -> None:
    async def record(payload: Any, context: Annotated[Context, TaskiqDepends()]) -> None:
        recorder.started.append(payload)
        if context.is_ackable:
            await context.ack()
        await recorder.gate.wait()
        recorder.finished.append(payload)

    broker.register_task(record, task_name="test.record")


async def _send(broker: AsyncBroker, payload: Any) -> None:
    task = broker.find_task("test.record")
    assert task is not None
    await task.kiq(payload)


@contextlib.asynccontextmanager
async def _consuming(broker: DispatchStreamBroker, concurrency: int) -> AsyncIterator[Consumer]:
    await broker.startup()
    consumer = Consumer(broker, concurrency=concurrency)
    stop = asyncio.Event()
    loop = asyncio.create_task(consumer.run(stop))
    try:
        yield consumer
    finally:
        stop.set()
        await asyncio.wait_for(loop, 10)
        await broker.shutdown()


async def _until(condition: Any, within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110  # the state is in Redis and in other tasks: poll it
            await asyncio.sleep(0.01)


def test_embedded_mode_uses_the_in_process_broker() -> None:
    assert isinstance(broker_for(Settings()), InMemoryBroker)


def test_the_stream_broker_is_configured_against_the_traps() -> None:
    broker = broker_for(Settings(redis_url="redis://127.0.0.1:1/0", lease_seconds=120))
    assert isinstance(broker, DispatchStreamBroker)
    assert broker.queue_name == STREAM
    assert broker.count == 1  # never reserve a message it cannot start
    assert broker.maxlen is None  # trimming drops unread and pending entries


async def test_messages_sent_before_any_worker_started_are_read(redis_server: RedisServer) -> None:
    broker = _broker(redis_server.url)
    recorder = Recorder()
    _with_task(broker, recorder)
    # Only the sending side exists: taskiq's default group would start at "$" and skip these.
    for n in range(3):
        await _send(broker, n)
    async with _consuming(broker, concurrency=4):
        await _until(lambda: len(recorder.finished) == 3)
    assert sorted(recorder.finished) == [0, 1, 2]


async def test_a_worker_reads_only_what_it_can_start(redis_server: RedisServer) -> None:
    first, second = _broker(redis_server.url), _broker(redis_server.url)
    second.queue_name = first.queue_name
    busy, idle = Recorder(), Recorder()
    busy.gate.clear()  # the first worker's one slot stays taken
    _with_task(first, busy)
    _with_task(second, idle)
    await first.startup()
    for payload in ["held", 0, 1, 2, 3, 4]:  # all waiting before the first worker reads
        await _send(first, payload)
    async with _consuming(first, concurrency=1):
        await _until(lambda: busy.started == ["held"])
        await asyncio.sleep(0.3)
        assert busy.started == ["held"]
        # What the first worker cannot start stays in the stream for others (taskiq's default
        # xread_count=100 would have reserved all six to the first worker).
        async with _consuming(second, concurrency=5):
            await _until(lambda: len(idle.finished) == 5)
        busy.gate.set()
        await _until(lambda: busy.finished == ["held"])
    assert sorted(idle.finished) == [0, 1, 2, 3, 4]


async def test_a_worker_takes_one_message_then_one_per_free_slot_without_waiting(redis_server: RedisServer) -> None:
    """Waiting messages start together (their claims then share a transaction), never more than the free slots."""
    broker = _broker(redis_server.url)
    recorder = Recorder()
    recorder.gate.clear()  # every task holds its slot
    _with_task(broker, recorder)
    await broker.startup()
    reads: list[tuple[int, bool]] = []
    read = broker.read

    async def counted(count: int, *, wait: bool = True) -> list[Any]:
        reads.append((count, wait))
        messages: list[Any] = await read(count, wait=wait)
        return messages

    broker.read = counted
    for payload in range(5):
        await _send(broker, payload)
    async with _consuming(broker, concurrency=3):
        await _until(lambda: len(recorder.started) == 3)
        await asyncio.sleep(0.3)
        assert sorted(recorder.started) == [0, 1, 2]  # three slots: three messages, the rest left in the stream
        assert reads[:2] == [(1, True), (2, False)]  # one message waited for, then one per free slot at once
        recorder.gate.set()
        await _until(lambda: len(recorder.finished) == 5)
    assert sorted(recorder.finished) == [0, 1, 2, 3, 4]


async def test_unknown_tasks_and_malformed_messages_are_acknowledged_and_the_worker_goes_on(
    redis_server: RedisServer,
) -> None:
    broker = _broker(redis_server.url)
    recorder = Recorder()
    _with_task(broker, recorder)
    async with _consuming(broker, concurrency=2):
        redis = Redis.from_url(redis_server.url)
        try:
            await redis.xadd(broker.queue_name, {b"data": b"\x00not json"})
            await redis.xadd(
                broker.queue_name,
                {b"data": b'{"task_id": "x", "task_name": "nobody.knows", "labels": {}, "args": [], "kwargs": {}}'},
            )
            await _send(broker, "after")
            await _until(lambda: recorder.finished == ["after"])
            async with asyncio.timeout(5):
                while (pending := await redis.xpending(broker.queue_name, GROUP))["pending"]:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
        finally:
            await redis.aclose()
    assert pending["pending"] == 0


async def test_a_redis_restart_with_its_data_lost_does_not_stop_the_worker_or_its_running_task(
    redis_server: RedisServer,
) -> None:
    broker = _broker(redis_server.url)
    recorder = Recorder()
    recorder.gate.clear()
    _with_task(broker, recorder)
    async with _consuming(broker, concurrency=4) as consumer:
        await _send(broker, "running")
        await _until(lambda: recorder.started == ["running"])
        redis_server.kill()
        await asyncio.sleep(1.0)
        redis_server.start()  # empty: no stream, no consumer group
        recorder.gate.set()
        await _until(lambda: recorder.finished == ["running"])  # the running task was not killed
        await _until(lambda: consumer.reconnects >= 1)
        await _send(broker, "after the restart")
        await _until(lambda: recorder.finished == ["running", "after the restart"], within=10)


async def test_nothing_but_a_dispatch_goes_over_the_broker() -> None:
    broker = broker_for(Settings())
    register(broker)
    task = broker.find_task(TASK_NAME)
    assert task is not None
    ids = {"dispatch_id": str(uuid.uuid4()), "execution_id": str(uuid.uuid4()), "step_id": "s", "attempt": 1}
    with pytest.raises(ValueError, match="nothing else"):
        await task.kiq({**ids, "input": {"password": "hunter2"}})
    broker.register_task(lambda: None, task_name="other")
    other = broker.find_task("other")
    assert other is not None
    with pytest.raises(ValueError, match=r"only 'wirehub\.run_step'"):
        await other.kiq()


async def test_pending_messages_are_never_redelivered_by_the_broker(redis_server: RedisServer) -> None:
    """A message read but never acknowledged (its worker died) is left to the database, not reclaimed."""
    first, second = _broker(redis_server.url), _broker(redis_server.url)
    second.queue_name = first.queue_name
    first.idle_timeout = second.idle_timeout = 0  # taskiq-redis would reclaim such a message at once
    dead, alive = Recorder(), Recorder()
    dead.gate.clear()
    _with_task(first, dead)
    _with_task(second, alive)
    await first.startup()
    await _send(first, "taken")
    messages = aiter(first.listen())
    taken = await anext(messages)  # read, never acknowledged: its worker "dies" here
    await messages.aclose()
    await first.shutdown()
    assert b"taken" in taken.data
    async with _consuming(second, concurrency=2):
        await _send(second, "new")
        await _until(lambda: alive.finished == ["new"])
        await asyncio.sleep(0.2)
    assert alive.finished == ["new"]  # "taken" was not delivered again by the broker


async def test_acknowledgements_given_together_go_as_one_xack(redis_server: RedisServer) -> None:
    broker = _broker(redis_server.url)
    _with_task(broker, Recorder())
    await broker.startup()
    try:
        for index in range(5):
            await _send(broker, f"m{index}")
        messages = aiter(broker.listen())
        read = [await anext(messages) for _ in range(5)]
        await messages.aclose()
        async with Redis.from_url(redis_server.url) as redis:
            before = (await redis.info("commandstats")).get("cmdstat_xack", {}).get("calls", 0)
            acks = [message.ack() for message in read]
            await asyncio.gather(*(ack for ack in acks if ack is not None))
            pending = await redis.xpending(broker.queue_name, broker.consumer_group_name)
            assert pending["pending"] == 5  # gathered for a few milliseconds, not sent yet
            await _until(lambda: broker._acknowledging is not None and broker._acknowledging.done())
            pending = await redis.xpending(broker.queue_name, broker.consumer_group_name)
            after = (await redis.info("commandstats")).get("cmdstat_xack", {}).get("calls", 0)
        assert pending["pending"] == 0
        assert after - before == 1
    finally:
        await broker.shutdown()


async def test_trimming_removes_only_what_every_worker_read_and_acknowledged(redis_server: RedisServer) -> None:
    broker = _broker(redis_server.url)
    _with_task(broker, Recorder())
    await broker.startup()
    try:
        for n in range(6):
            await _send(broker, n)
        assert await broker.trim() == 0  # nothing read yet: every entry is still owed to a worker

        read = await broker.read(4)
        for message in read[:2]:
            await message.ack()
        await asyncio.sleep(0.1)  # acknowledgements are gathered for a few milliseconds
        assert await broker.trim() == 2  # the two acknowledged; the two pending and the two unread stay
        assert await broker.unread() == 2

        for message in read[2:]:
            await message.ack()
        for message in await broker.read(2):
            await message.ack()
        await asyncio.sleep(0.1)
        assert await broker.trim() == 3  # all but the last entry given to the group
        async with Redis.from_url(redis_server.url) as redis:
            assert await redis.xlen(broker.queue_name) == 1
    finally:
        await broker.shutdown()


async def test_trimming_acknowledges_a_message_a_dead_worker_read_long_ago(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wirehub.worker import redis_stream

    monkeypatch.setattr(redis_stream, "ABANDONED_PENDING_SECONDS", 0.2)
    broker = _broker(redis_server.url)
    _with_task(broker, Recorder())
    await broker.startup()
    try:
        for n in range(3):
            await _send(broker, n)
        await broker.read(1)  # read by a worker that dies before acknowledging it
        for message in await broker.read(2):
            await message.ack()
        await asyncio.sleep(0.1)
        assert await broker.trim() == 0  # the dead worker's entry is the oldest pending: it holds the rest
        await asyncio.sleep(0.2)
        assert await broker.trim() == 2  # abandoned for longer than the bound: acknowledged, then trimmed
    finally:
        await broker.shutdown()
