"""Saving a workflow makes immutable, pinned versions; their plans are compiled once per (workflow, version)."""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.plugins_system.samples import plugin_returning
from wirehub.engine import validate_definition
from wirehub.plugins import Registry, build_registry
from wirehub.store import (
    InvalidDefinitionError,
    PlanCache,
    WorkflowNotFoundError,
    WorkflowVersion,
    WorkflowVersionService,
    content_hash,
    session_factory,
)
from wirehub_core import core
from wirehub_plugin_example import Slugify

# Version 1 of example.slugify took `max_length: 0` for "no limit"; version 2 wants null.
WRITTEN_FOR_V1 = {"separator": "_", "max_length": 0}

DEFINITION: dict[str, Any] = {
    "name": "totals",
    "steps": [
        {"id": "double", "type": "core.transform", "config": {"expression": "multiply(input.n, `2`)"}},
        {"id": "report", "type": "core.transform", "needs": ["double"], "config": {"expression": "steps.double"}},
    ],
}


def _changed(definition: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(definition)
    changed["steps"][0]["config"]["expression"] = "multiply(input.n, `3`)"
    return changed


async def test_an_update_makes_a_new_version_and_leaves_the_old_one_as_it_was(
    migrated: AsyncEngine, registry: Registry
) -> None:
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        service = WorkflowVersionService(session, registry, PlanCache())
        first = await service.create(DEFINITION)
        second = await service.save_version(first.workflow_id, _changed(DEFINITION))
    assert (first.version, second.version) == (1, 2)
    assert first.id != second.id
    assert first.content_hash != second.content_hash

    async with sessions() as session:
        service = WorkflowVersionService(session, registry, PlanCache())
        stored_first = await service.get_version(first.workflow_id, 1)
        latest = await service.get_version(first.workflow_id)
        workflow = await service.workflows.get(first.workflow_id)
    assert stored_first.definition["steps"][0]["config"]["expression"] == "multiply(input.n, `2`)"
    assert latest.version == 2
    assert latest.definition["steps"][0]["config"]["expression"] == "multiply(input.n, `3`)"
    assert workflow.latest_version == 2


async def test_a_saved_version_is_pinned_and_hashed(migrated: AsyncEngine, registry: Registry) -> None:
    async with session_factory(migrated).begin() as session:
        version = await WorkflowVersionService(session, registry, PlanCache()).create(msgspec.json.encode(DEFINITION))
    assert [step["type_version"] for step in version.definition["steps"]] == [1, 1]
    assert "type_version" not in DEFINITION["steps"][0], "the caller's definition is not changed"
    assert version.content_hash == content_hash(version.definition)


async def test_saving_what_the_latest_version_holds_stores_nothing(migrated: AsyncEngine, registry: Registry) -> None:
    async with session_factory(migrated).begin() as session:
        service = WorkflowVersionService(session, registry, PlanCache())
        first = await service.create(DEFINITION)
        again = await service.save_version(first.workflow_id, msgspec.json.encode(DEFINITION))
        count = await session.scalar(select(func.count()).select_from(WorkflowVersion))
    assert again.id == first.id
    assert count == 1


async def test_the_plan_cache_gives_the_same_plan_for_a_version_and_a_new_one_for_a_new_version(
    migrated: AsyncEngine, registry: Registry
) -> None:
    plans = PlanCache()
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        service = WorkflowVersionService(session, registry, plans)
        first = await service.create(DEFINITION)
        second = await service.save_version(first.workflow_id, _changed(DEFINITION))
    async with sessions() as session:
        service = WorkflowVersionService(session, registry, plans)
        plan_1 = await service.load_plan(first.workflow_id, 1)
        plan_1_again = await service.load_plan(first.workflow_id, 1)
        plan_2 = await service.load_plan(second.workflow_id, 2)
    assert plan_1 is plan_1_again
    assert plan_2 is not plan_1
    assert plan_1.steps["double"].config == {"expression": "multiply(input.n, `2`)"}
    assert plan_2.steps["double"].config == {"expression": "multiply(input.n, `3`)"}
    assert len(plans) == 2


async def test_an_invalid_definition_is_refused_with_pointers_and_nothing_is_stored(
    migrated: AsyncEngine, registry: Registry
) -> None:
    broken = copy.deepcopy(DEFINITION)
    broken["steps"][1]["needs"] = ["missing"]
    broken["steps"][0]["type"] = "core.no_such_type"
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        service = WorkflowVersionService(session, registry, PlanCache())
        first = await service.create(DEFINITION)
        with pytest.raises(InvalidDefinitionError) as caught:
            await service.save_version(first.workflow_id, broken)
        with pytest.raises(InvalidDefinitionError):
            await service.create(b'{"name": "x", "steps": [')
        count = await session.scalar(select(func.count()).select_from(WorkflowVersion))
    pointers = {problem.pointer for problem in caught.value.problems}
    assert {"/steps/0/type", "/steps/1/needs/0"} <= pointers
    assert "/steps/1/needs/0" in str(caught.value)
    assert count == 1


async def test_an_unknown_workflow_or_version_is_reported(migrated: AsyncEngine, registry: Registry) -> None:
    unknown = uuid.uuid4()
    async with session_factory(migrated).begin() as session:
        service = WorkflowVersionService(session, registry, PlanCache())
        first = await service.create(DEFINITION)
        with pytest.raises(WorkflowNotFoundError, match="is not stored"):
            await service.save_version(unknown, DEFINITION)
        with pytest.raises(WorkflowNotFoundError) as caught:
            await service.load_plan(first.workflow_id, 7)
    assert caught.value.version == 7


def test_the_plan_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    plans = PlanCache(max_plans=2)
    made: list[object] = []

    def compile_plan() -> Any:
        made.append(object())
        return made[-1]

    a, b, c = (uuid.uuid4(), 1), (uuid.uuid4(), 1), (uuid.uuid4(), 1)
    first_a = plans.get_or_compile(a, compile_plan)
    plans.get_or_compile(b, compile_plan)
    assert plans.get_or_compile(a, compile_plan) is first_a  # a is now the most recently used
    plans.get_or_compile(c, compile_plan)
    assert len(plans) == 2
    assert a in plans
    assert b not in plans
    assert len(made) == 3


async def test_saving_a_version_and_loading_its_plan_is_quick(migrated: AsyncEngine, registry: Registry) -> None:
    """A budget far above what was measured (see docs/data-model.md), to catch a regression by orders of magnitude."""
    sessions = session_factory(migrated)
    async with sessions.begin() as session:
        first = await WorkflowVersionService(session, registry, PlanCache()).create(DEFINITION)
    started = time.perf_counter()
    rounds = 20
    for round_ in range(rounds):
        definition = copy.deepcopy(DEFINITION)
        definition["description"] = f"round {round_}"
        async with sessions.begin() as session:
            service = WorkflowVersionService(session, registry, PlanCache())
            saved = await service.save_version(first.workflow_id, definition)
            await service.load_plan(saved.workflow_id, saved.version)
    per_round = (time.perf_counter() - started) / rounds
    assert per_round < 0.25


async def test_concurrent_saves_get_consecutive_versions(migrated: AsyncEngine, registry: Registry) -> None:
    """The workflow's row is the lock: on PostgreSQL by FOR UPDATE, on SQLite by a transaction begun for writing."""
    sessions = session_factory(migrated, writes=True)
    async with sessions.begin() as session:
        first = await WorkflowVersionService(session, registry, PlanCache()).create(DEFINITION)

    async def save(round_: int) -> int:
        definition = copy.deepcopy(DEFINITION)
        definition["description"] = f"round {round_}"
        async with sessions.begin() as session:
            saved = await WorkflowVersionService(session, registry, PlanCache()).save_version(
                first.workflow_id, definition
            )
            await asyncio.sleep(0.01)  # hold the transaction open while the others try
            return saved.version

    numbers = await asyncio.gather(*(save(round_) for round_ in range(5)))
    assert sorted(numbers) == [2, 3, 4, 5, 6]


PINNED_FACTS_DEFINITION: dict[str, Any] = {
    "name": "routed",
    "steps": [
        {
            "id": "route",
            "type": "core.condition",
            "config": {"branches": [{"name": "big", "when": "input.n > `10`"}], "default": "small"},
        },
        {"id": "fetch", "type": "core.http", "needs": ["route:big"], "config": {"url": "https://example.com/"}},
        {
            "id": "slug",
            "type": "example.slugify",
            "needs": ["route:small"],
            "type_version": 1,
            "config": WRITTEN_FOR_V1,
        },
    ],
}
"""A routing step (branches), a step without a default input, and a config migrated from version 1 to 2."""


def _with_slugify_v2() -> Registry:
    return build_registry([core, plugin_returning(Slugify, plugin_name="example")])


async def test_a_pinned_version_compiles_to_the_same_plan_without_its_node_types_installed(
    migrated: AsyncEngine,
) -> None:
    installed = _with_slugify_v2()
    sessions = session_factory(migrated, writes=True)
    async with sessions.begin() as session:
        saved = await WorkflowVersionService(session, installed, PlanCache()).create(PINNED_FACTS_DEFINITION)
    nothing_installed = build_registry(load_entry_points=False)
    async with sessions() as session:
        with_plugins = await WorkflowVersionService(session, installed, PlanCache()).load_plan(saved.workflow_id, 1)
        without = await WorkflowVersionService(session, nothing_installed, PlanCache()).load_plan(saved.workflow_id, 1)
    at_save = validate_definition(PINNED_FACTS_DEFINITION, installed).plan
    assert without == with_plugins == at_save
    assert saved.node_facts == {"branches": {"route": ["big", "small"]}, "without_default_input": ["fetch"]}
    assert without.steps["route"].branches == ("big", "small")
    assert not without.steps["fetch"].takes_default_input
    assert without.steps["slug"].takes_default_input
    assert (without.steps["slug"].type_version, without.steps["slug"].config) == (
        2,
        {"separator": "_", "max_length": None},
    )


async def test_a_version_saved_without_node_facts_compiles_against_the_installed_node_types(
    migrated: AsyncEngine, registry: Registry
) -> None:
    """Versions saved before node facts were recorded: compiled as before, and only where their node types are."""
    sessions = session_factory(migrated, writes=True)
    async with sessions.begin() as session:
        saved = await WorkflowVersionService(session, registry, PlanCache()).create(DEFINITION)
        recorded = await WorkflowVersionService(session, registry, PlanCache()).load_plan(saved.workflow_id, 1)
        await session.execute(update(WorkflowVersion).where(WorkflowVersion.id == saved.id).values(node_facts=None))
    async with sessions() as session:
        compiled = await WorkflowVersionService(session, registry, PlanCache()).load_plan(saved.workflow_id, 1)
    assert compiled == recorded
    without_core = build_registry(load_entry_points=False)
    plans = PlanCache()
    async with sessions() as session:
        with pytest.raises(InvalidDefinitionError) as caught:
            await WorkflowVersionService(session, without_core, plans).load_plan(saved.workflow_id, 1)
    assert "/steps/0/type" in {problem.pointer for problem in caught.value.problems}
    assert str(caught.value).startswith(f"version 1 of workflow {saved.workflow_id} is not valid")
    assert len(plans) == 0, "a failed compilation is not cached"
