"""The synchronous client, ``client/_sync.py``, is what ``sdk/scripts/unasync.py`` writes from ``client/_async.py``."""

from __future__ import annotations

from sdk.scripts.unasync import ASYNC_FILE, COMMAND, HEADER, SYNC_FILE, generate, unasync


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    generated = generate(ASYNC_FILE.read_text(encoding="utf-8"))
    assert generated.startswith(HEADER)
    assert generated == SYNC_FILE.read_text(encoding="utf-8"), f"{SYNC_FILE.name} is out of date: run {COMMAND}"


def test_the_substitutions_turn_asyncio_code_into_synchronous_code() -> None:
    source = """import asyncio

class AsyncPoller:
    \"\"\"Polls from asyncio code.\"\"\"

    async def __aenter__(self) -> AsyncPoller:
        self._lock = asyncio.Lock()
        return self

    async def poll(self, timeout: float) -> AsyncIterator[int]:  # noqa: ASYNC109 - as the sync one
        async with self._lock:
            await asyncio.sleep(0.1)
            async for page in every_item_async(self._page):
                yield [item async for item in page]
        await self._http.aclose()
"""
    assert (
        unasync(source)
        == """import threading

class Poller:
    \"\"\"Polls from synchronous code.\"\"\"

    def __enter__(self) -> Poller:
        self._lock = threading.Lock()
        return self

    def poll(self, timeout: float) -> Iterator[int]:
        with self._lock:
            time.sleep(0.1)
            for page in every_item(self._page):
                yield [item for item in page]
        self._http.close()
"""
    )
