"""Run a workflow definition to its end on an embedded hub, from code: the SDK test kit's ``workflow_runner``.

The same runtime as ``wirehub run`` and the workers (store, broker, step
runner, sweeper); there is no second driver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from wirehub.runtime import (
    CredentialSource,
    ExecutionResult,
    Observer,
    StepProgress,
    StoredCredential,
    default_registry,
)
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Network, Settings
from wirehub.worker.embedded import run_definition
from wirehub_sdk import EgressPolicy


async def run_workflow(
    definition: str | bytes | dict[str, Any],
    input: Any = None,
    *,
    registry: NodeRegistry | None = None,
    plugins: Sequence[object] = (),
    include_installed: bool = True,
    credentials: CredentialSource | Mapping[str, StoredCredential] | None = None,
    egress: EgressPolicy | None = None,
    observer: Observer | None = None,
    on_progress: StepProgress | None = None,
    settings: Settings | None = None,
    database_url: str | None = None,
) -> ExecutionResult:
    """Validates ``definition`` and ``input``, then runs the execution to its end on an embedded hub.

    The hub lives for this call: a temporary SQLite database (unless
    ``database_url`` names one), the in-process broker, a worker and its sweeper.

    Args:
        definition: JSON text or an already-decoded object.
        input: The execution input, checked against the definition's ``input_schema``.
        registry: Node types to use; by default the installed plugins plus ``plugins``.
        plugins: Extra plugin objects (modules or classes with hook implementations).
        include_installed: Whether to load plugins from the ``wirehub`` entry points.
        credentials: Named credentials steps may use.
        egress: Egress rules for nodes' HTTP clients (hosts, networks and the response limit);
            by default the settings'.
        observer: Called after every event of the execution's history, with the state after it.
        on_progress: Called with ``(step_id, attempt, report)`` for every progress report of a node.
        settings: Lease, grace and the rest; ``Settings.from_env()`` by default (its database and Redis unused).
        database_url: The database; a temporary SQLite file (deleted afterwards) by default.

    Raises:
        InvalidWorkflowError: The definition or the input is not valid; nothing ran.
    """
    settings = settings or Settings.from_env()
    if registry is None:
        registry = default_registry(plugins, include_installed=include_installed, settings=settings)
    if egress is not None:
        settings = msgspec.structs.replace(
            settings,
            egress_allow_hosts=egress.allow_hosts,
            egress_allow_networks=tuple(Network(network) for network in egress.allow_networks),
            egress_max_response_bytes=egress.max_response_bytes,
        )
    return await run_definition(
        definition,
        input,
        registry=registry,
        settings=settings,
        credentials=credentials,
        observer=observer,
        on_progress=on_progress,
        database_url=database_url,
    )
