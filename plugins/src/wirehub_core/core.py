"""The ``core`` plugin: the hub's built-in node and credential types.

Registered through the ``hub`` entry-point group exactly as a third-party
plugin is; nothing here is known to the hub by any other way.
"""

from __future__ import annotations

from wirehub_core.condition import ConditionNode
from wirehub_core.credentials import CREDENTIAL_TYPES
from wirehub_core.delay import DelayNode
from wirehub_core.fail import FailNode
from wirehub_core.http import HttpNode
from wirehub_core.transform import TransformNode
from wirehub_sdk import CredentialType, NodeType, hookimpl


@hookimpl
def wirehub_node_types() -> list[type[NodeType]]:
    return [TransformNode, ConditionNode, DelayNode, FailNode, HttpNode]


@hookimpl
def wirehub_credential_types() -> list[type[CredentialType]]:
    return list(CREDENTIAL_TYPES)
