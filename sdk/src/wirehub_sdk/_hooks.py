"""The hook specifications: how a plugin tells the hub what it provides."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from wirehub_sdk._credentials import CredentialType
    from wirehub_sdk._node import NodeType

PROJECT_NAME = "wirehub"
"""The pluggy project name and the entry-point group plugins declare."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Decorate a plugin module's hook functions with this."""


@hookspec
def wirehub_node_types() -> list[type[NodeType]]:
    """Return the node types this plugin provides.

    Called once, when the hub builds its plugin manager at startup (API,
    worker and CLI alike); never per step. Each class must subclass
    ``NodeType`` and carry a namespaced ``name`` and a ``version``.

    Returns:
        A list of node-type classes. An empty list (or not implementing the
        hook) means the plugin provides none. Two classes with the same name
        and version, from this plugin or any other, are a conflict: the
        second is rejected and reported, the first stays.
    """
    raise NotImplementedError


@hookspec
def wirehub_credential_types() -> list[type[CredentialType]]:
    """Return the credential types this plugin provides.

    Called once at startup, like ``wirehub_node_types``.

    Returns:
        A list of credential-type classes. An empty list means none. A name
        that another plugin already registered is rejected and reported.
    """
    raise NotImplementedError
