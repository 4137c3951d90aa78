"""Runs one attempt of one step: from a claimed attempt to the one outcome it ends in.

This is the only place a node's ``execute`` is called (``run_attempt``).
Whatever the node does (returns, raises, blocks, swallows cancellation, hangs
past its deadline, returns the wrong shape), the attempt ends in exactly one
outcome; nothing a node does reaches the caller as an exception.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from structlog.contextvars import bound_contextvars

from wirehub.engine import (
    ErrorInfo,
    StepFailed,
    StepPlan,
    StepSucceeded,
    StepSuspended,
    StepTimedOut,
    evaluate,
)
from wirehub.metrics import observe_attempt
from wirehub.runtime.attempts import Attempt, AttemptOutcome, HandedBack, ProgressReport, ProgressSink
from wirehub.runtime.credentials import CredentialSource
from wirehub.runtime.node_threads import Job, NodeJobError, NodeRun, NodeThreads, NoNodeThreadError
from wirehub.runtime.redaction import RedactingLog, redact_outcome, secret_values
from wirehub.runtime.registry import NodeRegistry
from wirehub.tracing import attempt_span
from wirehub_sdk import (
    ConfigError,
    EgressClient,
    NodeContext,
    NodeError,
    NodeType,
    NonRetryableError,
    Route,
    Wait,
)
from wirehub_sdk.host import HostRules, Progress, credential_auth, decode, encode_output, idempotency_key

logger = logging.getLogger("wirehub.runtime")

Clock = Callable[[], datetime]

DRIVER_NODE_TYPES = frozenset({"core.transform", "core.condition", "core.delay", "core.fail"})
"""The hub's own node types that only compute: an expression under the evaluator's budget, a ``Wait``
or an error, no I/O and nothing that blocks, like the input mappings the engine evaluates on the
driver's loop. Their attempts run on that loop, without a node thread's two cross-thread wake-ups.
Only the built-in implementations count (a node class from the ``wirehub_core`` package)."""


def utc_now() -> datetime:
    """The current instant, timezone-aware."""
    return datetime.now(UTC)


@dataclass(slots=True)
class StepEnvironment:
    """What every attempt in this process is run with.

    Close it with ``aclose`` (or use it as an async context manager) on the loop
    that ran the attempts: that ends its node threads.

    Attributes:
        registry: The node and credential types installed in this process.
        threads: The node threads attempts run on, each with an egress HTTP client.
        credentials: Where steps' named credentials come from.
        on_progress: Receives nodes' progress reports, on the caller's loop.
        clock: The current instant; claim instants and event times use the same clock.
        on_driver: Names of node types whose built-in implementations run on the caller's loop
            instead of a node thread (``DRIVER_NODE_TYPES``; empty: every node on a node thread).
    """

    registry: NodeRegistry
    threads: NodeThreads = field(default_factory=NodeThreads)
    credentials: CredentialSource | None = None
    on_progress: ProgressSink | None = None
    clock: Clock = field(default=utc_now)
    on_driver: frozenset[str] = DRIVER_NODE_TYPES

    async def aclose(self) -> None:
        """Stops running attempts (each gets the grace to end) and ends the node threads."""
        await self.threads.aclose()

    async def __aenter__(self) -> StepEnvironment:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def fresh_copy(value: Any, what: str) -> Any:
    """A deep copy of a JSON value, made by encoding it and decoding the bytes.

    Each attempt decodes its config and input from such a copy, so a node that
    mutates what it was given changes neither the cached plan nor an upstream
    step's recorded output. A JSON round trip is about ten times faster than
    ``copy.deepcopy`` for the small documents steps usually get.

    Raises:
        NonRetryableError: Kind ``node.input``: the value is not JSON (a lone surrogate in a string).
    """
    try:
        return msgspec.json.decode(msgspec.json.encode(value))
    except (msgspec.EncodeError, TypeError, UnicodeEncodeError) as exc:
        raise NonRetryableError(f"the {what} is not JSON: {exc}", kind="node.input") from exc


def _error(exc: NodeError) -> ErrorInfo:
    return ErrorInfo(
        kind=exc.kind,
        message=exc.message,
        retryable=exc.retryable,
        retry_after=exc.retry_after,
        details=exc.details,
    )


class _Unavailable(Exception):
    """This process lacks what the attempt needs (a node or credential type); another may have it."""


async def _credential(
    env: StepEnvironment, step: StepPlan, node: NodeType, execution_id: str, hidden: set[str]
) -> tuple[Mapping[str, Any] | None, Any]:
    """The step's credential fields and the auth they put on the node's requests.

    Adds to ``hidden`` the values the attempt's outcome must not show (``redaction.secret_values``).
    """
    if step.credential is None:
        return None, None
    stored = await env.credentials.get(step.credential, execution_id=execution_id) if env.credentials else None
    if stored is None:
        raise ConfigError(f"credential {step.credential!r} does not exist", kind="credential.missing")
    try:
        credential_type = env.registry.credential_type(stored.type)
    except KeyError as exc:
        raise _Unavailable(f"credential type {stored.type!r} is not installed in this process") from exc
    label = f"credential {step.credential!r}"
    try:
        hosts = None if stored.allowed_hosts is None else HostRules(stored.allowed_hosts)
    except ValueError as exc:
        raise ConfigError(f"{label} has an invalid allowed host: {exc}", kind="credential.host") from exc
    auth = credential_auth(node, credential_type, stored.fields, label, allowed_hosts=hosts)
    hidden.update(secret_values(credential_type, stored.fields, decode(stored.fields, credential_type.Fields, label)))
    return stored.fields, auth


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


def _finished(step: StepPlan, node: NodeType, number: int, result: Any, now: datetime) -> AttemptOutcome:
    """The event for what ``execute`` returned, once it is checked against the node type."""
    _check_routing(step, node, result)
    if isinstance(result, Wait):
        if result.until.tzinfo is None:
            raise NodeError(f"{node.name} returned a Wait without a timezone", kind="node.result")
        return StepSuspended(step.id, number, now, until=result.until, output=encode_output(node, result.output))
    branch: str | None = None
    if isinstance(result, Route):
        branch, result = result.branch, result.output
    return StepSucceeded(step.id, number, now, output=encode_output(node, result), branch=branch)


MAX_TRACEBACK_CHARS = 16_000
"""The most of an internal error's traceback that is kept: its first and last frames around a cut."""


def formatted_traceback(exc: BaseException) -> str:
    """``exc``'s traceback as text, at most ``MAX_TRACEBACK_CHARS`` (the middle cut out)."""
    text = "".join(traceback.format_exception(exc))
    if len(text) <= MAX_TRACEBACK_CHARS:
        return text
    half = MAX_TRACEBACK_CHARS // 2
    return f"{text[:half]}\n... [{len(text) - 2 * half} characters cut] ...\n{text[-half:]}"


def _unexpected(step: StepPlan, number: int, exc: BaseException, now: datetime) -> StepFailed:
    """An internal error: the exception's type and message for everyone, its traceback for admins."""
    error = ErrorInfo(
        kind="node.unexpected",
        message=f"{type(exc).__name__}: {exc}"[:1000],
        traceback=formatted_traceback(exc),
    )
    return StepFailed(step.id, number, now, error)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What the driver resolves before the node runs: the node type, its copies of config and input."""

    node: NodeType
    config: Any
    input: Any
    credential: Mapping[str, Any] | None = None
    credential_auth: Any = None


async def _prepare(env: StepEnvironment, step: StepPlan, attempt: Attempt, hidden: set[str]) -> _Prepared:
    try:
        node = env.registry.node(step.type, step.type_version)
    except KeyError as exc:
        raise _Unavailable(f"node type {step.type} v{step.type_version} is not installed in this process") from exc
    config_label, input_label = f"config of step {step.id!r}", f"input of step {step.id!r}"
    config = decode(fresh_copy(step.config, config_label), node.Config, config_label)
    node_input = decode(fresh_copy(attempt.input, input_label), node.Input, input_label)
    credential, auth = await _credential(env, step, node, attempt.execution_id, hidden)
    return _Prepared(node, config, node_input, credential, auth)


async def run_attempt(env: StepEnvironment, step: StepPlan, attempt: Attempt) -> AttemptOutcome:
    """Runs one attempt of a step and returns the one outcome it ended in, its credential's secrets hidden.

    This is the only place a node's ``execute`` is called. Whatever the node
    does (returns, raises, blocks its thread, swallows cancellation, returns
    the wrong shape), the attempt ends in exactly one outcome, at the latest at
    its deadline: the claim instant plus the step's ``timeout_seconds``.
    Nothing a node does reaches the caller as an exception.

    The node runs on a node thread (see ``wirehub.runtime.node_threads``), so
    the caller's event loop never waits on it. To stop the attempt, cancel the
    task awaiting this coroutine: the node's ``ctx.cancelled`` is set, its task
    cancelled on its own loop, and ``asyncio.CancelledError`` propagates here
    at once (no outcome: the caller asked).

    Args:
        env: What every attempt of this process runs with.
        step: The step's plan.
        attempt: The claimed attempt: execution, number, input and claim instant.

    Returns:
        ``StepSucceeded``, ``StepSuspended`` (the node returned a ``Wait``),
        ``StepFailed`` or ``StepTimedOut`` (engine events for this attempt), or
        ``HandedBack`` when this process lacks the step's node type or its
        credential's type, or cannot start a node thread: the node did not
        run, and the caller decides.

    Raises:
        asyncio.CancelledError: The caller cancelled the awaiting task.
        RuntimeError: ``env`` is closed.

    A value of the step's credential that the node's output or error holds
    (a remote API echoing the token it was sent) is replaced by ``[redacted]``
    before anything is recorded (``wirehub.runtime.redaction``).
    """
    began = time.perf_counter()
    hidden: set[str] = set()
    # Every line logged while the attempt runs (its node thread's included) names the attempt.
    ids = bound_contextvars(execution_id=attempt.execution_id, step_id=step.id, attempt=attempt.number)
    with ids, attempt_span(attempt.execution_id, step.id, attempt.number, step.type) as span:
        outcome = redact_outcome(await _run_attempt(env, step, attempt, hidden), frozenset(hidden))
        name = _outcome_name(outcome)
        span.set_attribute("wirehub.outcome", name)
    observe_attempt(step.type, time.perf_counter() - began, name)
    return outcome


def _outcome_name(outcome: AttemptOutcome) -> str:
    if isinstance(outcome, HandedBack):
        return "handed_back"
    return {
        StepSucceeded: "succeeded",
        StepFailed: "failed",
        StepTimedOut: "timed_out",
        StepSuspended: "suspended",
    }.get(type(outcome), "other")


async def _run_attempt(env: StepEnvironment, step: StepPlan, attempt: Attempt, hidden: set[str]) -> AttemptOutcome:
    number = attempt.number
    ids = {"execution_id": attempt.execution_id, "step_id": step.id, "attempt": number}
    log = RedactingLog(logger, ids, hidden)  # hidden: the credential's values, once it is known
    deadline = None if step.timeout_seconds is None else attempt.claimed_at + timedelta(seconds=step.timeout_seconds)
    driver = asyncio.get_running_loop()
    # The deadline on the loop's clock, once: preparing (a credential source may wait on a database) counts too.
    expires = None if deadline is None else driver.time() + (deadline - env.clock()).total_seconds()
    try:
        async with asyncio.timeout_at(expires):
            prepared = await _prepare(env, step, attempt, hidden)
    except TimeoutError:
        log.warning("attempt timed out before its node started")
        return StepTimedOut(step.id, number, env.clock())
    except _Unavailable as exc:
        log.warning("handing the attempt back: %s", exc)
        return HandedBack(step.id, number, str(exc))
    except NodeError as exc:
        return StepFailed(step.id, number, env.clock(), _error(exc))
    except Exception as exc:
        log.exception("preparing the attempt failed")
        return _unexpected(step, number, exc, env.clock())
    if expires is not None and expires <= driver.time():
        log.warning("attempt timed out before its node started")
        return StepTimedOut(step.id, number, env.clock())
    run: NodeRun[AttemptOutcome] | None = None

    async def progress(report: Progress) -> None:
        sink = env.on_progress
        # ``run`` is still None while ``start`` returns: a node may report progress at once.
        if sink is None or (run is not None and run.stopped) or driver.is_closed():
            return
        delivery = asyncio.run_coroutine_threadsafe(
            _deliver(sink, ProgressReport(attempt.execution_id, step.id, number, report)), driver
        )
        await asyncio.wrap_future(delivery)

    async def on_node_thread(cancelled: asyncio.Event, http: EgressClient) -> AttemptOutcome:
        node = prepared.node
        ctx = NodeContext(
            execution_id=attempt.execution_id,
            step_id=step.id,
            attempt=number,
            idempotency_key=idempotency_key(attempt.execution_id, step.id),
            logger=log,
            http=http,
            deadline=deadline,
            cancelled=cancelled,
            credential=prepared.credential,
            credential_auth=prepared.credential_auth,
            evaluator=evaluate,
            progress_sink=progress,
        )
        try:
            result = await node.execute(ctx, prepared.config, prepared.input)
            return _finished(step, node, number, result, env.clock())
        except NodeError as exc:
            return StepFailed(step.id, number, env.clock(), _error(exc))
        except asyncio.CancelledError:
            if cancelled.is_set():
                raise  # stopped: the driver has moved on and ignores what this returns
            log.exception("node raised CancelledError without being cancelled")
            return _unexpected(step, number, asyncio.CancelledError("the node cancelled itself"), env.clock())
        except Exception as exc:
            log.exception("node raised an unexpected exception")
            return _unexpected(step, number, exc, env.clock())
        except BaseException as exc:  # SystemExit or KeyboardInterrupt from a node fails its step only
            log.exception("node raised %s", type(exc).__name__)
            return _unexpected(step, number, exc, env.clock())

    label = f"{attempt.execution_id}/{step.id}#{number}"
    if _runs_on_driver(env, prepared.node):
        outcome = await _run_on_driver(on_node_thread, env.threads.driver_http(), expires, label)
        if outcome is None:
            log.warning("attempt timed out")
            return StepTimedOut(step.id, number, env.clock())
        return outcome
    try:
        async with asyncio.timeout_at(expires):
            run = await env.threads.start(on_node_thread, label=label)
    except TimeoutError:
        log.warning("attempt timed out waiting for a node thread")
        return StepTimedOut(step.id, number, env.clock())
    except NoNodeThreadError as exc:
        log.warning("handing the attempt back: %s", exc)
        return HandedBack(step.id, number, str(exc))
    try:
        return await run.wait(None if expires is None else max(0.0, expires - driver.time()))
    except TimeoutError:
        run.stop()
        log.warning("attempt timed out")
        return StepTimedOut(step.id, number, env.clock())
    except asyncio.CancelledError:
        run.stop()
        raise
    except NodeJobError as exc:  # on_node_thread returns every outcome; this is a defect of the runtime itself
        logger.error("node thread job failed", exc_info=exc.__cause__)
        return _unexpected(step, number, exc.__cause__ or exc, env.clock())


def _runs_on_driver(env: StepEnvironment, node: NodeType) -> bool:
    return node.name in env.on_driver and type(node).__module__.partition(".")[0] == "wirehub_core"


async def _run_on_driver(
    job: Job[AttemptOutcome],
    http: EgressClient,
    expires: float | None,
    label: str,
) -> AttemptOutcome | None:
    """Runs ``job`` in a task of the caller's loop; ``None`` when ``expires`` (loop time) came first.

    On a timeout or the caller's cancellation the job is stopped as on a node
    thread: its cancel signal set, then its task cancelled.
    """
    loop = asyncio.get_running_loop()
    cancelled = asyncio.Event()
    task = loop.create_task(job(cancelled, http), name=label)
    try:
        done, _ = await asyncio.wait((task,), timeout=None if expires is None else max(0.0, expires - loop.time()))
    except asyncio.CancelledError:
        cancelled.set()
        task.cancel()
        raise
    if not done:
        cancelled.set()
        task.cancel()
        return None
    return task.result()


async def _deliver(sink: ProgressSink, report: ProgressReport) -> None:
    result = sink(report)
    if result is not None:
        await result
