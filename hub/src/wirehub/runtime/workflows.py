"""Run a workflow definition to its end in this process: the embedded hub's core."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from wirehub.engine import Plan, Problem, validate_definition, validate_input
from wirehub.plugins import build_registry, load_registry
from wirehub.runtime.attempts import ProgressReport, ProgressSink
from wirehub.runtime.credentials import CredentialSource, MappingCredentialSource, StoredCredential
from wirehub.runtime.executor import StepEnvironment
from wirehub.runtime.local import ExecutionResult, LocalExecution, Observer
from wirehub.runtime.node_threads import NodeThreads
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub_sdk import EgressPolicy
from wirehub_sdk.host import Progress

StepProgress = Callable[[str, int, Progress], Awaitable[None] | None]
"""``run_workflow``'s progress callback: ``(step_id, attempt, report)``, its execution being the one it runs."""


class InvalidWorkflowError(ValueError):
    """The definition or the execution input has problems; nothing ran."""

    def __init__(self, what: str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p.pointer or '/'}: {p.message}" for p in problems)
        super().__init__(f"{what} is not valid:\n{lines}")


def compile_definition(definition: str | bytes | dict[str, Any], registry: NodeRegistry) -> Plan:
    """Validates a definition against the installed node types and compiles it.

    Raises:
        InvalidWorkflowError: With every problem found, each with its JSON pointer.
    """
    report = validate_definition(definition, registry)
    if report.problems or report.plan is None:
        raise InvalidWorkflowError("the workflow definition", report.problems)
    return report.plan


def default_registry(
    plugins: Sequence[object] = (), *, include_installed: bool = True, settings: Settings | None = None
) -> NodeRegistry:
    """The registry of installed plugins (per settings), plus ``plugins`` given in code.

    Without extra plugins this is the process's cached registry (``load_registry``),
    so entry points are scanned once however many workflows run.
    """
    settings = settings or Settings.from_env()
    allow = frozenset(settings.plugins_allow) or None
    deny = frozenset(settings.plugins_deny)
    if include_installed and not plugins:
        return load_registry(allow=allow, deny=deny)
    return build_registry(extra_plugins=plugins, load_entry_points=include_installed, allow=allow, deny=deny)


async def run_workflow(
    definition: str | bytes | dict[str, Any],
    input: Any = None,
    *,
    registry: NodeRegistry | None = None,
    plugins: Sequence[object] = (),
    include_installed: bool = True,
    credentials: CredentialSource | Mapping[str, StoredCredential] | None = None,
    egress: EgressPolicy | None = None,
    observer: Observer | None = None,
    on_progress: StepProgress | None = None,
    execution_id: str | None = None,
) -> ExecutionResult:
    """Validates ``definition`` and ``input``, then runs the execution to its end here.

    Args:
        definition: JSON text or an already-decoded object.
        input: The execution input, checked against the definition's ``input_schema``.
        registry: Node types to use; by default the installed plugins plus ``plugins``.
        plugins: Extra plugin objects (modules or classes with hook implementations).
        include_installed: Whether to load plugins from the ``wirehub`` entry points.
        credentials: Named credentials steps may use.
        egress: Egress rules for nodes' HTTP clients; by default the settings'.
        observer: Called after every event the engine accepts, with the new state.
        on_progress: Called with ``(step_id, attempt, report)`` for every progress report of a node.
        execution_id: An id for the execution; a new UUID by default.

    Raises:
        InvalidWorkflowError: The definition or the input is not valid.
    """
    settings = Settings.from_env()
    if registry is None:
        registry = default_registry(plugins, include_installed=include_installed, settings=settings)
    plan = compile_definition(definition, registry)
    problems = validate_input(plan, input)
    if problems:
        raise InvalidWorkflowError("the execution input", problems)
    if egress is None:
        egress = settings.egress_policy
    source = MappingCredentialSource(credentials) if isinstance(credentials, Mapping) else credentials
    threads = NodeThreads(egress)
    async with StepEnvironment(registry, threads, credentials=source, on_progress=progress_sink(on_progress)) as env:
        execution = LocalExecution(plan, env, input, execution_id=execution_id or str(uuid.uuid4()), observer=observer)
        return await execution.run()


def progress_sink(on_progress: StepProgress | None) -> ProgressSink | None:
    """A ``StepProgress`` callback as the ``ProgressSink`` a ``StepEnvironment`` takes."""
    if on_progress is None:
        return None
    callback = on_progress

    def sink(report: ProgressReport) -> Awaitable[None] | None:
        return callback(report.step_id, report.attempt, report.progress)

    return sink
