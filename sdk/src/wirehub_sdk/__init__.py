"""wirehub-sdk: the whole contract between the hub and a node-type plugin.

A plugin is a module that implements the hooks below with ``@hookimpl`` and
is declared under the ``hub`` entry-point group::

    [project.entry-points.wirehub]
    acme = "acme_hub.plugin"

Everything a plugin may use is exported here; the underscored modules are
private and may change.
"""

from wirehub_sdk import _hooks as hookspecs
from wirehub_sdk._credentials import CredentialAuth, CredentialType
from wirehub_sdk._decoding import JSONBodyError, decode_json
from wirehub_sdk._errors import (
    CancelledError,
    ConfigError,
    EgressDeniedError,
    ExpressionError,
    NodeError,
    NonRetryableError,
    RetryableError,
)
from wirehub_sdk._hooks import PROJECT_NAME, hookimpl, hookspec
from wirehub_sdk._http import EgressClient, EgressPolicy
from wirehub_sdk._node import EmptyConfig, Expression, NodeContext, NodeType, Progress
from wirehub_sdk._results import Route, Wait

__all__ = [
    "PROJECT_NAME",
    "CancelledError",
    "ConfigError",
    "CredentialAuth",
    "CredentialType",
    "EgressClient",
    "EgressDeniedError",
    "EgressPolicy",
    "EmptyConfig",
    "Expression",
    "ExpressionError",
    "JSONBodyError",
    "NodeContext",
    "NodeError",
    "NodeType",
    "NonRetryableError",
    "Progress",
    "RetryableError",
    "Route",
    "Wait",
    "decode_json",
    "hookimpl",
    "hookspec",
    "hookspecs",
]
