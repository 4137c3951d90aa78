"""``run_workflow`` and the SDK's ``workflow_runner`` run on the embedded hub: the store, the broker, a worker."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest

from tests.runtime import testing_plugin
from wirehub.engine import ExecutionStatus
from wirehub.runtime import InvalidWorkflowError
from wirehub.runtime.registry import NodeRegistry
from wirehub.store import ExecutionStore, PlanCache, database_engine, session_factory
from wirehub.worker import workflows
from wirehub_core import core
from wirehub_sdk.host import Progress
from wirehub_sdk.testing import WorkflowRunner, load_run_workflow

WHO = {"name": "who", "steps": [{"id": "who", "type": "test.whoami"}]}


async def test_an_execution_is_recorded_in_the_hubs_database_with_its_history(
    registry: NodeRegistry, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    result = await workflows.run_workflow(WHO, registry=registry, database_url=url)
    assert result.status is ExecutionStatus.SUCCEEDED, result.error
    engine = database_engine(url)
    try:
        store = ExecutionStore(session_factory(engine, writes=True), PlanCache(), catalog=registry)
        view = await store.get(UUID(result.execution_id))
        history = await store.history(UUID(result.execution_id))
    finally:
        await engine.dispose()
    assert (view.status, view.output) == ("succeeded", result.output)
    assert [(run.step_id, run.attempt, run.status) for run in view.steps] == [("who", 1, "succeeded")]
    kinds = [type(entry.event).__name__ for entry in history]
    assert (kinds[0], kinds[-1]) == ("ExecutionStarted", "StepSucceeded")
    assert [entry.sequence for entry in history] == list(range(1, len(history) + 1))


async def test_an_invalid_definition_runs_nothing(registry: NodeRegistry, tmp_path: Path) -> None:
    definition = {"name": "bad", "steps": [{"id": "a", "type": "core.transform", "needs": ["ghost"]}]}
    with pytest.raises(InvalidWorkflowError) as caught:
        await workflows.run_workflow(definition, registry=registry)
    assert any(p.pointer.startswith("/steps/0/needs") for p in caught.value.problems)


def test_the_test_kit_finds_the_hubs_run_workflow() -> None:
    assert load_run_workflow() is workflows.run_workflow


async def test_the_workflow_runner_runs_a_plugin_on_the_embedded_hub() -> None:
    run_workflow = load_run_workflow()
    assert run_workflow is not None
    runner = WorkflowRunner(run_workflow, plugins=[testing_plugin], include_installed=False)
    result = await runner(
        {"name": "who", "steps": [{"id": "t", "type": "core.transform", "needs": []}, *WHO["steps"]]},
        plugins=[core],
    )
    assert result.succeeded, result.error
    assert runner.progress == [("who", 1, Progress("looking", 0.5))]
