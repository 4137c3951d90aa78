"""What the runtime needs of the plugin registry, as a protocol."""

from __future__ import annotations

from typing import Protocol

from wirehub.engine import NodeCatalog
from wirehub_sdk import CredentialType, NodeType


class NodeRegistry(NodeCatalog, Protocol):
    """Installed node and credential types, ready to run."""

    def node(self, name: str, version: int) -> NodeType:
        """The node-type instance for ``name`` at ``version``. Raises ``KeyError``."""
        ...

    def credential_type(self, name: str) -> CredentialType:
        """The credential-type instance called ``name``. Raises ``KeyError``."""
        ...
