"""How an execution ended, and the observer that sees each of its events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from wirehub.engine import ErrorInfo, Event, ExecutionState, ExecutionStatus

Observer = Callable[[Event, ExecutionState], Awaitable[None] | None]
"""Called after every event of an execution's history, with the state it led to."""


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """How an execution ended."""

    execution_id: str
    status: ExecutionStatus
    output: Any
    error: ErrorInfo | None
    state: ExecutionState

    @property
    def succeeded(self) -> bool:
        return self.status is ExecutionStatus.SUCCEEDED
