"""Running steps: the part shared by the embedded hub and the workers (which drive executions)."""

from wirehub.runtime.attempts import Attempt, AttemptOutcome, HandedBack, ProgressReport, ProgressSink
from wirehub.runtime.credentials import CredentialSource, MappingCredentialSource, StoredCredential
from wirehub.runtime.executor import StepEnvironment, run_attempt
from wirehub.runtime.node_threads import NodeThreads
from wirehub.runtime.results import ExecutionResult, Observer
from wirehub.runtime.workflows import (
    InvalidWorkflowError,
    StepProgress,
    compile_definition,
    default_registry,
    progress_sink,
)

__all__ = [
    "Attempt",
    "AttemptOutcome",
    "CredentialSource",
    "ExecutionResult",
    "HandedBack",
    "InvalidWorkflowError",
    "MappingCredentialSource",
    "NodeThreads",
    "Observer",
    "ProgressReport",
    "ProgressSink",
    "StepEnvironment",
    "StepProgress",
    "StoredCredential",
    "compile_definition",
    "default_registry",
    "progress_sink",
    "run_attempt",
]
