"""What running a workflow definition takes before it runs: the registry, the compiled plan, progress callbacks.

``wirehub.worker.workflows.run_workflow`` runs one on the embedded hub.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from wirehub.engine import Plan, Problem, validate_definition
from wirehub.plugins import build_registry, load_registry
from wirehub.runtime.attempts import ProgressReport, ProgressSink
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings
from wirehub_sdk.host import Progress

StepProgress = Callable[[str, int, Progress], Awaitable[None] | None]
"""A run's progress callback: ``(step_id, attempt, report)``, its execution being the one it runs."""


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


def progress_sink(on_progress: StepProgress | None) -> ProgressSink | None:
    """A ``StepProgress`` callback as the ``ProgressSink`` a ``StepEnvironment`` takes."""
    if on_progress is None:
        return None
    callback = on_progress

    def sink(report: ProgressReport) -> Awaitable[None] | None:
        return callback(report.step_id, report.attempt, report.progress)

    return sink
