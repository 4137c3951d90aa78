"""Fault test: a step whose node type no running worker has is handed back, not dropped.

A worker that blocks the plugin (``WIREHUB_PLUGINS_DENY=example``) claims the
attempt and gives it back; the attempt stays scheduled until a worker that has
the plugin starts within the step's queue limit and runs it. An execution
whose queue limit passes first fails with ``timeout.queue`` and a message that
says why.
"""

from __future__ import annotations

from typing import Any

from tests.worker.faults_timers.support import Start, fetch, until
from tests.worker.processes import Sender

QUEUE_LIMIT = 3.0
"""The short queue limit, in seconds, of the execution that no worker runs in time."""


def _count_words(queue_timeout: float) -> dict[str, Any]:
    return {
        "name": f"count-words-within-{queue_timeout:g}s",
        "steps": [
            {
                "id": "count",
                "type": "example.word_count",
                "input": {"text": "input.text"},
                "queue_timeout_seconds": queue_timeout,
            }
        ],
        "output": "steps.count.words",
    }


async def test_a_step_no_worker_can_run_waits_for_one_that_can_or_fails_with_a_clear_queue_timeout(
    sender: Sender, hub_workers: Start, postgresql_url: str
) -> None:
    (without,) = hub_workers("without", env={"WIREHUB_PLUGINS_DENY": "example"})
    patient = await sender.start(await sender.workflow(_count_words(120)), {"text": "one two three"})
    hasty = await sender.start(await sender.workflow(_count_words(QUEUE_LIMIT)), {"text": "four five"})

    async def released(execution_id: Any) -> int:
        rows = await fetch(
            postgresql_url,
            "select count(*) from execution_history where execution_id = $1 and event_type = 'step_released'",
            execution_id,
        )
        return int(rows[0][0])

    await until(lambda: released(patient), within=10, what="the worker without the plugin handed the step back")

    hasty_view = await sender.store.wait(hasty, timeout=QUEUE_LIMIT + 20)
    assert hasty_view.status == "failed"
    assert hasty_view.error is not None
    assert hasty_view.error["kind"] == "timeout.queue"
    message = hasty_view.error["message"]
    assert f"not claimed by a worker within its queue timeout of {QUEUE_LIMIT:g} s" in message
    assert "example.word_count" in message  # says which node type no worker had
    assert await released(hasty) >= 1
    assert (await sender.store.get(patient)).status == "running"  # still waiting for a worker, not dropped

    (with_plugin,) = hub_workers("with")
    view = await sender.store.wait(patient, timeout=30)
    assert view.status == "succeeded"
    assert view.output == 3
    assert [run.worker for run in view.steps if run.status == "succeeded"] == ["with"]
    assert {run.worker for run in view.steps if run.status != "succeeded"} <= {"without"}
    for process in (without, with_plugin):
        process.terminate()
    assert [without.wait(15), with_plugin.wait(15)] == [0, 0]
