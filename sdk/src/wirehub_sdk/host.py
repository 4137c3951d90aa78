"""The host-side API: what a host of node types (the hub, the test kit) calls to load and run them.

Plugin authors never need this module; it is public so that the hub does not
reach into the SDK's private modules, and so that the hub and the test kit
check node types and treat a node's config, input and output exactly alike.
It follows the SDK's version like the rest of ``wirehub_sdk``.

- Loading: ``PROJECT_NAME``, ``hookspec`` and ``hookspecs`` (the pluggy
  project, its spec marker and the module of specifications), and the class
  checks ``check_node_type`` and ``check_credential_type`` with their
  ``InvalidTypeError``, ``claimed_name`` and ``NAME_PATTERN``.
- Running an attempt: ``decode``, ``encode_output`` with its ``OutputError``,
  ``credential_auth`` with the ``CredentialAuth`` it returns (bound to
  ``HostRules`` when given; ``parse_host_rule`` checks one rule; a hop outside
  them raises ``CredentialHostError``, kind ``credential.host``),
  ``idempotency_key``, and ``Progress``, what ``ctx.report_progress`` sends.
"""

from wirehub_sdk import _hooks as hookspecs
from wirehub_sdk._checks import NAME_PATTERN, InvalidTypeError, check_credential_type, check_node_type, claimed_name
from wirehub_sdk._credential_auth import CredentialAuth
from wirehub_sdk._credentials import CredentialHostError, HostRules, parse_host_rule
from wirehub_sdk._hooks import PROJECT_NAME, hookspec
from wirehub_sdk._invoke import OutputError, credential_auth, decode, encode_output, idempotency_key
from wirehub_sdk._node import Progress

__all__ = [
    "NAME_PATTERN",
    "PROJECT_NAME",
    "CredentialAuth",
    "CredentialHostError",
    "HostRules",
    "InvalidTypeError",
    "OutputError",
    "Progress",
    "check_credential_type",
    "check_node_type",
    "claimed_name",
    "credential_auth",
    "decode",
    "encode_output",
    "hookspec",
    "hookspecs",
    "idempotency_key",
    "parse_host_rule",
]
