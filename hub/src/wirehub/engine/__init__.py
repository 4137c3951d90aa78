"""The engine: the workflow language, its validation and expressions, compiled plans, and the state machine.

Pure and deterministic: no I/O and no clock. The rest of the hub imports
from here, never from the modules below, so the layout inside can change
without touching its users:

- ``validate_definition`` / ``validate_input``: every problem at once, each
  with a JSON pointer; a valid definition comes back as a ``Plan``.
  ``read_input`` decodes an input written as JSON text within the input's limits.
- ``prepare`` / ``start`` / ``apply``: ``(plan, state, event) -> (state, commands)``.
- The state (``ExecutionState``, ``StepRun``), the events that change it,
  the commands it emits, and ``IllegalTransitionError``.
- ``evaluate``: the expression language, for nodes that evaluate at run time.
"""

from wirehub.engine.execution.machine import apply, prepare, start
from wirehub.engine.execution.state import (
    CancelRequested,
    CancelStep,
    Command,
    ErrorInfo,
    Event,
    ExecutionStarted,
    ExecutionState,
    ExecutionStatus,
    ExecutionTimedOut,
    FinishExecution,
    IllegalTransitionError,
    RunStep,
    StartExecutionTimer,
    StartTimer,
    StepFailed,
    StepRun,
    StepStarted,
    StepStatus,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
    TimerFired,
)
from wirehub.engine.expressions.evaluate import evaluate
from wirehub.engine.language.pinning import pin_versions
from wirehub.engine.language.problems import Problem
from wirehub.engine.plan import Plan, StepPlan
from wirehub.engine.validation.catalog import NodeCatalog
from wirehub.engine.validation.validate import ValidationReport, read_input, validate_definition, validate_input

__all__ = [
    # Validation and plans
    "NodeCatalog",
    "Plan",
    "Problem",
    "StepPlan",
    "ValidationReport",
    "pin_versions",
    "read_input",
    "validate_definition",
    "validate_input",
    # The state machine
    "apply",
    "prepare",
    "start",
    "ExecutionState",
    "ExecutionStatus",
    "StepRun",
    "StepStatus",
    "ErrorInfo",
    "IllegalTransitionError",
    # Events
    "Event",
    "ExecutionStarted",
    "StepStarted",
    "StepSucceeded",
    "StepFailed",
    "StepTimedOut",
    "StepSuspended",
    "TimerFired",
    "CancelRequested",
    "ExecutionTimedOut",
    # Commands
    "Command",
    "RunStep",
    "StartTimer",
    "CancelStep",
    "StartExecutionTimer",
    "FinishExecution",
    # Expressions at run time
    "evaluate",
]
