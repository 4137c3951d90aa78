"""Running steps and executions: the part shared by the embedded hub and the workers."""

from wirehub.runtime.attempts import Attempt, AttemptOutcome, HandedBack, ProgressReport, ProgressSink
from wirehub.runtime.credentials import CredentialSource, MappingCredentialSource, StoredCredential
from wirehub.runtime.executor import StepEnvironment, run_attempt
from wirehub.runtime.local import ExecutionResult, LocalExecution
from wirehub.runtime.node_threads import NodeThreads
from wirehub.runtime.workflows import InvalidWorkflowError, compile_definition, default_registry, run_workflow

__all__ = [
    "Attempt",
    "AttemptOutcome",
    "CredentialSource",
    "ExecutionResult",
    "HandedBack",
    "InvalidWorkflowError",
    "LocalExecution",
    "MappingCredentialSource",
    "NodeThreads",
    "ProgressReport",
    "ProgressSink",
    "StepEnvironment",
    "StoredCredential",
    "compile_definition",
    "default_registry",
    "run_attempt",
    "run_workflow",
]
