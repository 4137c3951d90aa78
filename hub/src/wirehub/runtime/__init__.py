"""Running steps and executions: the part shared by the embedded hub and the workers."""

from wirehub.runtime.credentials import CredentialSource, MappingCredentialSource, StoredCredential
from wirehub.runtime.executor import StepEnvironment, run_attempt
from wirehub.runtime.local import ExecutionResult, LocalExecution
from wirehub.runtime.workflows import InvalidWorkflowError, compile_definition, default_registry, run_workflow

__all__ = [
    "CredentialSource",
    "ExecutionResult",
    "InvalidWorkflowError",
    "LocalExecution",
    "MappingCredentialSource",
    "StepEnvironment",
    "StoredCredential",
    "compile_definition",
    "default_registry",
    "run_attempt",
    "run_workflow",
]
