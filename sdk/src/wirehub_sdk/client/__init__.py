"""A Python client for a running hub: ``Client`` (synchronous) and ``AsyncClient`` (asyncio), over httpx.

Importing ``wirehub_sdk`` does not load this module; it needs the ``client`` extra
(``pip install 'wirehub-sdk[client]'``) for live events over the WebSocket::

    from wirehub_sdk.client import Client

    with Client("http://localhost:8000") as hub:
        hub.login("ada", "...")
        workflow = hub.push(Path("order.json"))
        execution = hub.start(workflow.id, {"order": 42})
        for event in hub.stream(execution.id):
            print(event.sequence, event.event_type, event.step_id)
        print(hub.wait(execution.id).output)

Every refusal is a ``ProblemError`` (``NotFoundError``, ``InvalidRequestError``...) carrying
the hub's problem details; an unreachable hub is a ``TransportError``. Both are ``ClientError``.
"""

from wirehub_sdk.client._async import AsyncClient
from wirehub_sdk.client._errors import (
    AuthenticationError,
    ClientError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProblemError,
    ProblemItem,
    RateLimitedError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from wirehub_sdk.client._models import (
    TERMINAL_STATUSES,
    Execution,
    ExecutionPage,
    Failure,
    FailurePage,
    HistoryEntry,
    HistoryPage,
    LiveEvent,
    NodePlugin,
    NodeType,
    NodeTypeVersion,
    StepRun,
    Tokens,
    Validation,
    VersionPage,
    Workflow,
    WorkflowPage,
    WorkflowVersion,
    Workspace,
)
from wirehub_sdk.client._sync import Client

__all__ = [
    "AsyncClient",
    "Client",
    "Tokens",
    "Workspace",
    "Workflow",
    "WorkflowPage",
    "WorkflowVersion",
    "VersionPage",
    "Validation",
    "Execution",
    "ExecutionPage",
    "Failure",
    "FailurePage",
    "StepRun",
    "HistoryEntry",
    "HistoryPage",
    "LiveEvent",
    "NodeType",
    "NodeTypeVersion",
    "NodePlugin",
    "TERMINAL_STATUSES",
    "ClientError",
    "TransportError",
    "WaitTimeoutError",
    "ProblemError",
    "ProblemItem",
    "InvalidRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitedError",
    "ServerError",
]
