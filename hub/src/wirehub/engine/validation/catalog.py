"""What the engine needs to know of installed node types, as a protocol.

The plugin registry (``wirehub.plugins``) implements it; the engine never
imports the registry, so it stays free of plugin loading.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from wirehub_sdk import NodeType


class NodeCatalog(Protocol):
    """Read-only view of the node types installed in this process."""

    def node_type_versions(self, name: str) -> Mapping[int, type[NodeType]]:
        """Every installed version of the node type ``name``; empty when none is."""
        ...

    def node_type_names(self) -> Collection[str]:
        """Every installed node type's name: where validation looks for what a typo meant."""
        ...

    def unavailable_reason(self, name: str) -> str | None:
        """Why ``name`` is missing when a plugin of its namespace failed or claimed it, else ``None``.

        For example ``"plugin 'acme' failed to load: ModuleNotFoundError: ..."``.
        """
        ...
