"""Runs one attempt of one step: from a ``RunStep`` command to the event it ends in.

This is the only place a node's ``execute`` is called. Whatever the node
does (returns, raises, hangs past its deadline, returns the wrong shape), the
attempt ends in exactly one engine event; nothing a node does reaches the
caller as an exception.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from wirehub.engine import (
    ErrorInfo,
    Event,
    RunStep,
    StepFailed,
    StepPlan,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
    evaluate,
)
from wirehub.runtime.credentials import CredentialSource
from wirehub.runtime.registry import NodeRegistry
from wirehub_sdk import (
    ConfigError,
    EgressClient,
    NodeContext,
    NodeError,
    NodeType,
    Progress,
    Route,
    Wait,
)
from wirehub_sdk.host import credential_auth, decode, encode_output, idempotency_key

logger = logging.getLogger("wirehub.runtime")

ProgressSink = Callable[[str, int, Progress], Awaitable[None] | None]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current instant, timezone-aware."""
    return datetime.now(UTC)


@dataclass(slots=True)
class StepEnvironment:
    """What every attempt in this process is run with."""

    registry: NodeRegistry
    http: EgressClient
    credentials: CredentialSource | None = None
    on_progress: ProgressSink | None = None
    clock: Clock = field(default=utc_now)


def _error(exc: NodeError) -> ErrorInfo:
    return ErrorInfo(
        kind=exc.kind,
        message=exc.message,
        retryable=exc.retryable,
        retry_after=exc.retry_after,
        details=exc.details,
    )


def _attach_credential(env: StepEnvironment, step: StepPlan, node: NodeType, ctx: NodeContext) -> None:
    if step.credential is None:
        return
    stored = env.credentials.get(step.credential) if env.credentials else None
    if stored is None:
        raise ConfigError(f"credential {step.credential!r} does not exist", kind="credential.missing")
    try:
        credential_type = env.registry.credential_type(stored.type)
    except KeyError as exc:
        raise ConfigError(f"credential type {stored.type!r} is not installed", kind="credential.type") from exc
    ctx.credential_auth = credential_auth(node, credential_type, stored.fields, f"credential {step.credential!r}")
    ctx.credential = stored.fields


async def _execute(env: StepEnvironment, step: StepPlan, command: RunStep, ctx: NodeContext) -> Event:
    node = env.registry.node(step.type, step.type_version)
    _attach_credential(env, step, node, ctx)
    config = decode(step.config, node.Config, f"config of step {step.id!r}")
    node_input = decode(command.input, node.Input, f"input of step {step.id!r}")
    result = await node.execute(ctx, config, node_input)
    _check_routing(step, node, result)
    now = env.clock()
    if isinstance(result, Wait):
        if result.until.tzinfo is None:
            raise NodeError(f"{node.name} returned a Wait without a timezone", kind="node.result")
        output = encode_output(node, result.output)
        return StepSuspended(step.id, command.attempt, now, until=result.until, output=output)
    branch: str | None = None
    if isinstance(result, Route):
        branch, result = result.branch, result.output
    return StepSucceeded(step.id, command.attempt, now, output=encode_output(node, result), branch=branch)


def _check_routing(step: StepPlan, node: NodeType, result: Any) -> None:
    """A routing step must end in a ``Route`` to one of its branches; any other step must not.

    The engine would refuse anything else as an illegal event; here it fails the step instead,
    naming the node type, so a misbehaving plugin cannot stop the execution's driver.
    """
    if step.branches is None:
        if isinstance(result, Route):
            raise NodeError(f"{node.name} returned a Route, but it names no branches", kind="node.result")
        return
    if not isinstance(result, Route):
        raise NodeError(f"{node.name} is a routing node type and must return a Route", kind="node.result")
    if result.branch not in step.branches:
        choices = ", ".join(step.branches)
        raise NodeError(f"{node.name} chose branch {result.branch!r}; its branches are {choices}", kind="node.result")


async def run_attempt(
    env: StepEnvironment, step: StepPlan, command: RunStep, execution_id: str, cancelled: asyncio.Event
) -> Event:
    """Runs one attempt and returns the event it ended in.

    Args:
        env: The registry, HTTP client and credentials of this process.
        step: The step's plan.
        command: The engine's ``RunStep`` for this attempt.
        execution_id: The execution the step belongs to.
        cancelled: Set by the caller to ask the node to stop.
    """
    log = logging.LoggerAdapter(logger, {"execution_id": execution_id, "step_id": step.id, "attempt": command.attempt})

    async def progress(report: Progress) -> None:
        if env.on_progress is not None:
            result = env.on_progress(step.id, command.attempt, report)
            if result is not None:
                await result

    # The run deadline starts at the claim, which is now: RunStep carries the step's timeout, not an instant.
    seconds = command.timeout_seconds
    deadline = None if seconds is None else env.clock() + timedelta(seconds=seconds)
    ctx = NodeContext(
        execution_id=execution_id,
        step_id=step.id,
        attempt=command.attempt,
        idempotency_key=idempotency_key(execution_id, step.id),
        logger=log,
        http=env.http,
        deadline=deadline,
        cancelled=cancelled,
        evaluator=evaluate,
        progress_sink=progress,
    )
    timeout = None if deadline is None else (deadline - env.clock()).total_seconds()
    try:
        async with asyncio.timeout(timeout):
            return await _execute(env, step, command, ctx)
    except TimeoutError:
        log.warning("attempt timed out")
        return StepTimedOut(step.id, command.attempt, env.clock())
    except NodeError as exc:
        return StepFailed(step.id, command.attempt, env.clock(), _error(exc))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("node raised an unexpected exception")
        error = ErrorInfo(kind="node.unexpected", message=f"{type(exc).__name__}: {exc}")
        return StepFailed(step.id, command.attempt, env.clock(), error)
