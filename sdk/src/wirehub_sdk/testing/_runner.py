"""Running one node type in isolation, the way the hub runs one attempt of a step."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, cast

from wirehub_sdk._checks import check_credential_type, check_node_type
from wirehub_sdk._credentials import CredentialType
from wirehub_sdk._errors import RetryableError
from wirehub_sdk._http import EgressClient, EgressPolicy
from wirehub_sdk._invoke import credential_auth, decode, encode_output, idempotency_key
from wirehub_sdk._node import NodeContext, NodeType, Progress
from wirehub_sdk._results import Route, Wait

Evaluator = Callable[[str, Any], Any]
ProgressSink = Callable[[Progress], Awaitable[None] | None]


@cache
def hub_evaluator() -> Evaluator | None:
    """The hub's expression evaluator when the hub is importable, else ``None``.

    ``wirehub_sdk`` never imports the hub at import time; this looks for it on
    first use. Without the hub, ``ctx.evaluate`` raises ``ExpressionError``
    unless the test passes its own ``evaluator``.
    """
    try:
        module = importlib.import_module("wirehub.engine.expressions.evaluate")
    except ImportError:
        return None
    return cast(Evaluator, module.evaluate)


def check_output(node: NodeType, value: Any) -> None:
    """Checks ``value`` against the node type's ``Output``, as the hub does.

    Raises:
        OutputError: Naming the field that does not match.
    """
    encode_output(node, value)


def make_context(
    node: NodeType,
    *,
    http: EgressClient,
    execution_id: str = "test-execution",
    step_id: str = "step",
    attempt: int = 1,
    timeout_seconds: float | None = None,
    cancelled: asyncio.Event | None = None,
    credential: Mapping[str, Any] | None = None,
    credential_type: CredentialType | type[CredentialType] | None = None,
    evaluator: Evaluator | None = None,
    on_progress: ProgressSink | None = None,
) -> NodeContext:
    """Builds the ``NodeContext`` of one attempt, as the hub would.

    Raises:
        InvalidTypeError: The credential type is one the hub would reject.
        ConfigError: The credential does not fit its type, or the node type
            does not accept that credential type.
    """
    auth = None
    if credential is not None and credential_type is not None:
        if isinstance(credential_type, type):
            instance = check_credential_type(credential_type)()
        else:
            check_credential_type(type(credential_type))
            instance = credential_type
        auth = credential_auth(node, instance, credential, "the credential")
    logger = logging.LoggerAdapter(
        logging.getLogger(f"hub.node.{node.name}"),
        {"execution_id": execution_id, "step_id": step_id, "attempt": attempt},
    )
    return NodeContext(
        execution_id=execution_id,
        step_id=step_id,
        attempt=attempt,
        idempotency_key=idempotency_key(execution_id, step_id),
        logger=logger,
        http=http,
        deadline=None if timeout_seconds is None else datetime.now(UTC) + timedelta(seconds=timeout_seconds),
        cancelled=cancelled or asyncio.Event(),
        credential=credential,
        credential_auth=auth,
        evaluator=evaluator if evaluator is not None else hub_evaluator(),
        progress_sink=on_progress or (lambda _: None),
    )


async def run_node(
    node: type[NodeType] | NodeType,
    *,
    config: Any = None,
    input: Any = None,
    credential: Mapping[str, Any] | None = None,
    credential_type: CredentialType | type[CredentialType] | None = None,
    egress_policy: EgressPolicy | None = None,
    timeout_seconds: float | None = None,
    execution_id: str = "test-execution",
    step_id: str = "step",
    attempt: int = 1,
    cancelled: asyncio.Event | None = None,
    evaluator: Evaluator | None = None,
    on_progress: ProgressSink | None = None,
) -> Any:
    """Runs one attempt of ``node`` outside the hub and returns what it returned.

    The class is first checked as the hub checks what a plugin offers (a
    class the hub would reject raises ``InvalidTypeError`` with the message
    the hub would report). The config and input are converted into the node
    type's ``Config`` and ``Input`` as the hub converts a step's, the result
    is checked against ``Output``, and the attempt gets a fresh
    ``EgressClient``.

    Args:
        node: A node-type class (instantiated here) or instance.
        config: The step's config as a dict (or a ``Config`` instance);
            ``None`` is an empty config.
        input: The step's mapped input.
        credential: The fields of the step's credential, if any.
        credential_type: The credential's type; with ``credential`` it sets
            ``ctx.credential_auth``.
        egress_policy: Egress rules of the attempt's HTTP client; the default
            policy (public addresses only) when omitted.
        timeout_seconds: Seconds before the attempt times out, as the
            step's ``timeout_seconds``; sets ``ctx.deadline``.
        execution_id: The execution id the node sees.
        step_id: The step id the node sees.
        attempt: The attempt number the node sees.
        cancelled: An event the test may set to cancel the attempt.
        evaluator: Evaluates ``ctx.evaluate``; by default the hub's own when
            the hub is installed, else none (``ctx.evaluate`` then raises).
        on_progress: Receives each ``ctx.report_progress``.

    Returns:
        The node's output, or the ``Route`` or ``Wait`` it returned.

    Raises:
        InvalidTypeError: The node type (or credential type) is malformed:
            the hub would not load it.
        ConfigError: The config, input or credential does not fit the node type.
        OutputError: The output does not match ``Output``.
        RetryableError: Kind ``timeout`` when ``timeout_seconds`` passed.
        NodeError: Whatever the node raised.
    """
    check_node_type(node if isinstance(node, type) else type(node))
    instance = node() if isinstance(node, type) else node
    label = f"{instance.name} v{instance.version}"
    parsed_config = decode({} if config is None else config, instance.Config, f"config of {label}")
    parsed_input = decode(input, instance.Input, f"input of {label}")
    http = EgressClient(egress_policy)
    try:
        ctx = make_context(
            instance,
            http=http,
            execution_id=execution_id,
            step_id=step_id,
            attempt=attempt,
            timeout_seconds=timeout_seconds,
            cancelled=cancelled,
            credential=credential,
            credential_type=credential_type,
            evaluator=evaluator,
            on_progress=on_progress,
        )
        try:
            async with asyncio.timeout(timeout_seconds):
                result = await instance.execute(ctx, parsed_config, parsed_input)
        except TimeoutError as exc:
            raise RetryableError(f"{label} timed out after {timeout_seconds} s", kind="timeout") from exc
    finally:
        await http.aclose()
    check_output(instance, result.output if isinstance(result, Route | Wait) else result)
    return result
