"""How one attempt of a node is invoked: shared by the hub's runtime and the test kit.

Keeping these in one place means a node tested with ``wirehub_sdk.testing``
sees its config, input and output treated exactly as the hub treats them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

from wirehub_sdk._credential_auth import CredentialAuth
from wirehub_sdk._credentials import CredentialType, HostRules
from wirehub_sdk._errors import ConfigError, NonRetryableError
from wirehub_sdk._node import NodeType


class OutputError(NonRetryableError):
    """What a node returned does not match its ``Output`` type."""

    kind = "node.output"


def idempotency_key(execution_id: str, step_id: str) -> str:
    """The key every attempt of one step of one execution shares."""
    return hashlib.sha256(f"{execution_id}/{step_id}".encode()).hexdigest()[:32]


def decode(value: Any, target: Any, what: str) -> Any:
    """Converts a step's ``what`` (config, input, credential) into ``target``.

    Raises:
        ConfigError: Naming the field that does not fit.
    """
    if target is Any:
        return value
    try:
        return msgspec.convert(value, target, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"the {what} does not match: {exc}") from exc


def encode_output(node: NodeType, value: Any) -> Any:
    """Checks ``value`` against the node type's ``Output`` and returns it as JSON-ready builtins.

    Raises:
        OutputError: Naming the field that does not match.
    """
    try:
        builtins = msgspec.to_builtins(value)
        if node.Output is not Any:
            msgspec.convert(builtins, node.Output)
    except (msgspec.ValidationError, TypeError) as exc:
        raise OutputError(f"{node.name} v{node.version} returned an output that does not match Output: {exc}") from exc
    return builtins


def credential_auth(
    node: NodeType,
    credential_type: CredentialType,
    fields: Mapping[str, Any],
    label: str,
    *,
    allowed_hosts: HostRules | None = None,
) -> CredentialAuth:
    """The auth a step's credential puts on the node's requests, once the node type accepts it.

    Args:
        node: The node type the step runs.
        credential_type: The credential's type.
        fields: The credential's fields, secrets included.
        label: How messages name the credential, e.g. ``"credential 'crm'"``.
        allowed_hosts: The only hosts its requests may go to (``None``: not bound).

    Raises:
        ConfigError: Kind ``credential.type`` when the node type does not accept
            this credential type; kind ``node.config`` when the fields do not fit.
    """
    if node.credential_types and credential_type.name not in node.credential_types:
        accepted = ", ".join(node.credential_types)
        raise ConfigError(
            f"{node.name} accepts {accepted}, not {credential_type.name} ({label})", kind="credential.type"
        )
    return CredentialAuth(credential_type, decode(fields, credential_type.Fields, label), allowed_hosts)
