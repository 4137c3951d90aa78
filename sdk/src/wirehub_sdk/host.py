"""The host-side API: what a host of node types (the hub, the test kit) calls to run an attempt.

Plugin authors never need this module; it is public so that the hub does not
reach into the SDK's private modules, and so that the hub and the test kit
treat a node's config, input and output exactly alike. It follows the SDK's
version like the rest of ``wirehub_sdk``.
"""

from wirehub_sdk._invoke import OutputError, credential_auth, decode, encode_output, idempotency_key

__all__ = ["OutputError", "credential_auth", "decode", "encode_output", "idempotency_key"]
