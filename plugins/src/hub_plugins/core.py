"""The ``core`` plugin: the hub's built-in node and credential types.

Registered through the ``hub`` entry-point group exactly as a third-party
plugin is; nothing here is known to the hub by any other way.
"""

from __future__ import annotations

from hub_plugins.condition import ConditionNode
from hub_plugins.credentials import CREDENTIAL_TYPES
from hub_plugins.delay import DelayNode
from hub_plugins.fail import FailNode
from hub_plugins.http import HttpNode
from hub_plugins.transform import TransformNode
from hub_sdk import CredentialType, NodeType, hookimpl


@hookimpl
def hub_node_types() -> list[type[NodeType]]:
    return [TransformNode, ConditionNode, DelayNode, FailNode, HttpNode]


@hookimpl
def hub_credential_types() -> list[type[CredentialType]]:
    return list(CREDENTIAL_TYPES)
