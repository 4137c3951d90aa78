"""The engine: the workflow language, its validation and expressions, compiled plans, and the state machine.

Pure and deterministic: no I/O and no clock. The rest of the hub imports
from here, never from the modules below, so the layout inside can change
without touching its users:

- ``validate_definition`` / ``validate_input``: every problem at once, each
  with a JSON pointer; a valid definition comes back as a ``Plan``.
- ``pin_versions`` / ``node_facts`` / ``compile_pinned``: what a saved version
  records, and its plan compiled from that record alone (no node type needed).
  ``read_input`` decodes an input written as JSON text within the input's limits;
  ``parse_document`` reads a definition's JSON within the definition's limits.
- ``prepare`` / ``start`` / ``apply``: ``(plan, state, event) -> (state, commands)``;
  ``prepare_retry`` (what ``RetryRequested`` applies) runs a failed execution again.
- The state (``ExecutionState``, ``StepRun``), the events that change it,
  the commands it emits, ``HistoryEntry`` and ``IllegalTransitionError``:
  frozen msgspec Structs, the persistence schema (events and commands are
  tagged unions on ``"type"``).
- ``live_timers`` / ``due_timers``: every timer of a state, read from the state alone.
- ``evaluate``: the expression language, for nodes that evaluate at run time.
"""

from wirehub.engine.execution.commands import BaseCommand, CancelStep, Command, FinishExecution, RunStep, StartTimer
from wirehub.engine.execution.events import (
    BaseEvent,
    CancelRequested,
    Event,
    ExecutionStarted,
    RetryRequested,
    StepFailed,
    StepReleased,
    StepStarted,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
    TimerFired,
    TimerKind,
)
from wirehub.engine.execution.history import HistoryEntry
from wirehub.engine.execution.machine import apply, prepare, start
from wirehub.engine.execution.rerun import RETRYABLE, kept_steps, prepare_retry
from wirehub.engine.execution.state import (
    INTERNAL_ERROR_KINDS,
    ErrorInfo,
    ExecutionState,
    ExecutionStatus,
    IllegalTransitionError,
    StepRun,
    StepStatus,
)
from wirehub.engine.execution.timers import Timer, due_timers, live_timers
from wirehub.engine.expressions.evaluate import evaluate
from wirehub.engine.language.definition import Workflow
from wirehub.engine.language.jsonsource import parse_document
from wirehub.engine.language.pinning import pin_versions
from wirehub.engine.language.problems import Problem
from wirehub.engine.plan import NodeFacts, Plan, StepPlan, compile_pinned, node_facts
from wirehub.engine.validation.catalog import NodeCatalog
from wirehub.engine.validation.validate import ValidationReport, read_input, validate_definition, validate_input

__all__ = [
    # The language: a definition's shape (its JSON Schema documents the API's bodies)
    "Workflow",
    # Validation and plans
    "NodeCatalog",
    "NodeFacts",
    "Plan",
    "Problem",
    "StepPlan",
    "ValidationReport",
    "compile_pinned",
    "node_facts",
    "parse_document",
    "pin_versions",
    "read_input",
    "validate_definition",
    "validate_input",
    # The state machine
    "apply",
    "prepare",
    "start",
    "prepare_retry",
    "kept_steps",
    "RETRYABLE",
    "ExecutionState",
    "ExecutionStatus",
    "StepRun",
    "StepStatus",
    "ErrorInfo",
    "INTERNAL_ERROR_KINDS",
    "IllegalTransitionError",
    "HistoryEntry",
    # Timers, read from the state
    "Timer",
    "TimerKind",
    "live_timers",
    "due_timers",
    # Events
    "Event",
    "BaseEvent",
    "ExecutionStarted",
    "StepReleased",
    "StepStarted",
    "StepSucceeded",
    "StepFailed",
    "StepTimedOut",
    "StepSuspended",
    "TimerFired",
    "CancelRequested",
    "RetryRequested",
    # Commands
    "Command",
    "BaseCommand",
    "RunStep",
    "StartTimer",
    "CancelStep",
    "FinishExecution",
    # Expressions at run time
    "evaluate",
]
