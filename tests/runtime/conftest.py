from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hub.plugins import build_registry
from hub.runtime import ExecutionResult, run_workflow
from hub.runtime.registry import NodeRegistry
from hub_plugins import core
from hub_sdk import EgressPolicy
from tests.runtime import testing_plugin


@pytest.fixture
def calls() -> testing_plugin.Calls:
    testing_plugin.CALLS.__init__()  # type: ignore[misc]
    return testing_plugin.CALLS


@pytest.fixture(scope="session")
def registry() -> NodeRegistry:
    """The built-in node types plus the test ones; nothing else that happens to be installed."""
    return build_registry(extra_plugins=[core, testing_plugin], load_entry_points=False)


@pytest.fixture
def run(registry: NodeRegistry) -> Callable[..., Awaitable[ExecutionResult]]:
    async def run(definition: dict[str, Any], input: Any = None, **kwargs: Any) -> ExecutionResult:
        kwargs.setdefault("egress", EgressPolicy())
        return await asyncio.wait_for(run_workflow(definition, input, registry=registry, **kwargs), timeout=20)

    return run
