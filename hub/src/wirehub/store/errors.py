"""The store's errors: one root, each raised at the boundary where the cause is known."""

from __future__ import annotations

from uuid import UUID

from wirehub.engine import Problem


class StoreError(Exception):
    """Something the store cannot do; the message says what."""


class InvalidDefinitionError(StoreError):
    """A definition to save, or a saved one being compiled, has problems.

    Attributes:
        problems: Every problem, each with its JSON pointer.
    """

    def __init__(self, what: str, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem.pointer or '/'}: {problem.message}" for problem in problems)
        super().__init__(f"{what} is not valid:\n{lines}")


class WorkflowNotFoundError(StoreError):
    """No workflow, or no such version of it, is stored."""

    def __init__(self, workflow_id: UUID, version: int | None = None) -> None:
        self.workflow_id = workflow_id
        self.version = version
        what = f"workflow {workflow_id}" if version is None else f"version {version} of workflow {workflow_id}"
        super().__init__(f"{what} is not stored")


class ExecutionNotFoundError(StoreError):
    """No execution with this id is stored."""

    def __init__(self, execution_id: UUID) -> None:
        self.execution_id = execution_id
        super().__init__(f"execution {execution_id} is not stored")


class InvalidInputError(StoreError):
    """An execution's input does not fit its workflow.

    Attributes:
        problems: Every problem, each with its JSON pointer into the input.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {problem.pointer or '/'}: {problem.message}" for problem in problems)
        super().__init__(f"the execution input is not valid:\n{lines}")


class IdempotencyConflictError(StoreError):
    """An idempotency key already started an execution of this workflow with another input."""

    def __init__(self, key: str, execution_id: UUID) -> None:
        self.key = key
        self.execution_id = execution_id
        super().__init__(
            f"idempotency key {key!r} already started execution {execution_id} with a different input; "
            "use a new key for a new input"
        )


class ConcurrentTransitionError(StoreError):
    """Another transaction changed the execution first (its ``lock_version`` moved on); nothing was written."""


class NotRetryableError(StoreError):
    """The execution is not failed, timed out or cancelled, so it cannot be retried."""

    def __init__(self, execution_id: UUID, status: str) -> None:
        self.execution_id = execution_id
        self.status = status
        super().__init__(f"execution {execution_id} is {status}: only a failed, timed-out or cancelled one is retried")
