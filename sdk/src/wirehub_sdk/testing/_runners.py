"""The objects behind the ``node_runner`` and ``workflow_runner`` fixtures."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from wirehub_sdk._http import EgressPolicy
from wirehub_sdk._node import NodeType, Progress
from wirehub_sdk.testing._runner import run_node

RunWorkflow = Callable[..., Awaitable[Any]]


class NodeRunner:
    """Runs node types in isolation (see ``run_node``) and keeps their progress reports.

    Args:
        egress_policy: Egress rules for every run; the default policy when omitted.

    Attributes:
        progress: Every ``Progress`` reported by the nodes run so far, in order.
    """

    def __init__(self, *, egress_policy: EgressPolicy | None = None) -> None:
        self.egress_policy = egress_policy
        self.progress: list[Progress] = []

    async def __call__(
        self, node: type[NodeType] | NodeType, *, config: Any = None, input: Any = None, **options: Any
    ) -> Any:
        """Runs one attempt of ``node``; ``options`` are those of ``run_node``."""
        options.setdefault("egress_policy", self.egress_policy)
        options.setdefault("on_progress", self.progress.append)
        return await run_node(node, config=config, input=input, **options)


def load_run_workflow() -> RunWorkflow | None:
    """``wirehub.worker.workflows.run_workflow`` when the hub is installed, else ``None``.

    It runs each workflow on an embedded hub (a temporary SQLite database,
    the in-process broker, a worker): the runtime ``wirehub run`` and the
    workers use. Imported on call, never when ``wirehub_sdk`` is imported. A
    hub that is installed but fails to import raises, rather than passing for absent.
    """
    try:
        module = importlib.import_module("wirehub.worker.workflows")
    except ModuleNotFoundError as exc:
        if exc.name in {"wirehub", "wirehub.worker", "wirehub.worker.workflows"}:
            return None
        raise
    return cast(RunWorkflow | None, getattr(module, "run_workflow", None))


class WorkflowRunner:
    """Runs whole workflow definitions on the embedded hub, in this process.

    Args:
        run_workflow: The hub's ``wirehub.worker.workflows.run_workflow``.
        plugins: Plugin objects (modules or classes with ``@hookimpl``
            functions) added to every run.
        include_installed: Whether runs also load the installed plugins
            (the built-in ``core.*`` node types among them).

    Attributes:
        progress: ``(step_id, attempt, Progress)`` for every progress report.
    """

    def __init__(
        self, run_workflow: RunWorkflow, *, plugins: Sequence[object] = (), include_installed: bool = True
    ) -> None:
        self._run_workflow = run_workflow
        self.plugins = list(plugins)
        self.include_installed = include_installed
        self.progress: list[tuple[str, int, Progress]] = []

    def _record(self, step_id: str, attempt: int, progress: Progress) -> None:
        self.progress.append((step_id, attempt, progress))

    async def __call__(
        self,
        definition: dict[str, Any] | str | bytes,
        input: Any = None,
        *,
        plugins: Sequence[object] = (),
        include_installed: bool | None = None,
        **options: Any,
    ) -> Any:
        """Validates and runs ``definition`` to its end; returns the hub's execution result.

        Args:
            definition: The workflow definition (a dict or JSON text).
            input: The execution input.
            plugins: Plugin objects for this run, besides the runner's own.
            include_installed: Overrides the runner's setting for this run.
            options: Passed on to ``wirehub.worker.workflows.run_workflow``
                (``credentials``, ``egress``, ``settings``...).
        """
        options.setdefault("on_progress", self._record)
        return await self._run_workflow(
            definition,
            input,
            plugins=[*self.plugins, *plugins],
            include_installed=self.include_installed if include_installed is None else include_installed,
            **options,
        )
