from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.runtime import testing_plugin
from tests.support.local_http import server  # noqa: F401  # fixture
from wirehub.plugins import build_registry
from wirehub.runtime import ExecutionResult
from wirehub.runtime.registry import NodeRegistry
from wirehub.worker.workflows import run_workflow
from wirehub_core import core
from wirehub_sdk import EgressPolicy


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
    """``run_workflow`` on the test node types: an embedded hub on a temporary SQLite database per run."""

    async def run(definition: dict[str, Any], input: Any = None, **kwargs: Any) -> ExecutionResult:
        kwargs.setdefault("egress", EgressPolicy())
        return await asyncio.wait_for(run_workflow(definition, input, registry=registry, **kwargs), timeout=20)

    return run
