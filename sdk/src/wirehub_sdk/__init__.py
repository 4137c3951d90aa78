"""wirehub-sdk: the whole contract between the hub and a node-type plugin.

A plugin is a module that implements the hooks of ``wirehub_sdk.host.hookspecs``
with ``@hookimpl`` and is declared under the ``wirehub`` entry-point group::

    [project.entry-points.wirehub]
    acme = "acme_hub.plugin"

Everything a plugin may use is exported here, and the test kit is
``wirehub_sdk.testing``. ``wirehub_sdk.host`` is what the hub itself calls;
the underscored modules are private and may change.
"""

from typing import TYPE_CHECKING, Any

from wirehub_sdk._credentials import CredentialType
from wirehub_sdk._decoding import JSONBodyError, decode_json
from wirehub_sdk._errors import (
    ConfigError,
    EgressDeniedError,
    ExpressionError,
    NodeError,
    NonRetryableError,
    RetryableError,
)
from wirehub_sdk._hooks import hookimpl
from wirehub_sdk._node import EmptyConfig, Expression, NodeContext, NodeType
from wirehub_sdk._results import Route, Wait

if TYPE_CHECKING:
    from wirehub_sdk._http import EgressClient, EgressPolicy

__all__ = [
    "ConfigError",
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
    "RetryableError",
    "Route",
    "Wait",
    "decode_json",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    """``EgressClient`` and ``EgressPolicy`` load httpx: only when a plugin asks for them."""
    if name in ("EgressClient", "EgressPolicy"):
        from wirehub_sdk import _http

        return getattr(_http, name)
    raise AttributeError(f"module 'wirehub_sdk' has no attribute {name!r}")
