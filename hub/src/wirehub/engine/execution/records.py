"""Fast copies of the engine's frozen records, for the state machine's hot path.

A frozen dataclass's ``__init__`` (and so ``dataclasses.replace``) sets each
field through ``object.__setattr__``; at a dozen fields that dominates the
cost of a transition. These helpers build the same objects by writing their
slots directly, about twice as fast as the constructor and eight times as
fast as ``replace``. The field lists are checked when this module loads, so
a field added to ``StepRun`` or ``ExecutionState`` cannot be silently dropped.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from wirehub.engine.execution.state import ErrorInfo, ExecutionState, ExecutionStatus, StepRun, StepStatus

_STEP_RUN_FIELDS = (
    "status",
    "attempt",
    "output",
    "branch",
    "error",
    "caught_by",
    "started_at",
    "finished_at",
    "wake_at",
    "resolved_edges",
)
_EXECUTION_FIELDS = (
    "execution_id",
    "status",
    "input",
    "steps",
    "output",
    "error",
    "started_at",
    "finished_at",
    "open_steps",
)
if tuple(f.name for f in fields(StepRun)) != _STEP_RUN_FIELDS:  # pragma: no cover - a guard for maintainers
    raise RuntimeError("wirehub.engine.execution.records: StepRun's fields changed; update evolve()")
if tuple(f.name for f in fields(ExecutionState)) != _EXECUTION_FIELDS:  # pragma: no cover
    raise RuntimeError("wirehub.engine.execution.records: ExecutionState's fields changed; update execution_state()")


def _setter(cls: type, name: str) -> Any:
    return vars(cls)[name].__set__


_new = object.__new__
_R_STATUS, _R_ATTEMPT, _R_OUTPUT, _R_BRANCH, _R_ERROR = (_setter(StepRun, n) for n in _STEP_RUN_FIELDS[:5])
_R_CAUGHT, _R_STARTED, _R_FINISHED, _R_WAKE, _R_RESOLVED = (_setter(StepRun, n) for n in _STEP_RUN_FIELDS[5:])
_X_ID, _X_STATUS, _X_INPUT, _X_STEPS, _X_OUTPUT = (_setter(ExecutionState, n) for n in _EXECUTION_FIELDS[:5])
_X_ERROR, _X_STARTED, _X_FINISHED, _X_OPEN = (_setter(ExecutionState, n) for n in _EXECUTION_FIELDS[5:])


class _Keep:
    """Marks an argument of ``evolve`` that keeps the run's current value."""

    def __repr__(self) -> str:
        return "KEEP"


_KEEP: Any = _Keep()


def evolve(
    run: StepRun,
    *,
    status: StepStatus = _KEEP,
    attempt: int = _KEEP,
    output: Any = _KEEP,
    branch: str | None = _KEEP,
    error: ErrorInfo | None = _KEEP,
    caught_by: str | None = _KEEP,
    started_at: datetime | None = _KEEP,
    finished_at: datetime | None = _KEEP,
    wake_at: datetime | None = _KEEP,
    resolved_edges: int = _KEEP,
) -> StepRun:
    """``dataclasses.replace(run, **changes)``, fast."""
    new: StepRun = _new(StepRun)
    _R_STATUS(new, run.status if status is _KEEP else status)
    _R_ATTEMPT(new, run.attempt if attempt is _KEEP else attempt)
    _R_OUTPUT(new, run.output if output is _KEEP else output)
    _R_BRANCH(new, run.branch if branch is _KEEP else branch)
    _R_ERROR(new, run.error if error is _KEEP else error)
    _R_CAUGHT(new, run.caught_by if caught_by is _KEEP else caught_by)
    _R_STARTED(new, run.started_at if started_at is _KEEP else started_at)
    _R_FINISHED(new, run.finished_at if finished_at is _KEEP else finished_at)
    _R_WAKE(new, run.wake_at if wake_at is _KEEP else wake_at)
    _R_RESOLVED(new, run.resolved_edges if resolved_edges is _KEEP else resolved_edges)
    return new


def execution_state(
    execution_id: str,
    status: ExecutionStatus,
    input: Any,
    steps: dict[str, StepRun],
    output: Any,
    error: ErrorInfo | None,
    started_at: datetime | None,
    finished_at: datetime | None,
    open_steps: int | None,
) -> ExecutionState:
    """``ExecutionState(...)`` with every field given, fast."""
    new: ExecutionState = _new(ExecutionState)
    _X_ID(new, execution_id)
    _X_STATUS(new, status)
    _X_INPUT(new, input)
    _X_STEPS(new, steps)
    _X_OUTPUT(new, output)
    _X_ERROR(new, error)
    _X_STARTED(new, started_at)
    _X_FINISHED(new, finished_at)
    _X_OPEN(new, open_steps)
    return new


def with_steps(state: ExecutionState, steps: dict[str, StepRun]) -> ExecutionState:
    """``dataclasses.replace(state, steps=steps)``, fast."""
    return execution_state(
        state.execution_id,
        state.status,
        state.input,
        steps,
        state.output,
        state.error,
        state.started_at,
        state.finished_at,
        state.open_steps,
    )
