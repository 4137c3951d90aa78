"""The hub's Prometheus metrics, on prometheus-client's default registry.

Each process counts what it does (the API its requests and the transitions it
commits, a worker its attempts and sweeps) and exposes them: the API at
``/metrics``, a ``wirehub worker`` process on ``WIREHUB_WORKER_METRICS_PORT``.
Sum them across processes in the queries. Labels are bounded: node types and
workflow ids (never an execution id), statuses and outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from prometheus_client import Counter, Gauge, Histogram

NAMESPACE: Final = "wirehub"
_DURATIONS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)

EXECUTIONS_STARTED = Counter("executions_started", "Executions started.", ["workflow"], namespace=NAMESPACE)
EXECUTIONS_FINISHED = Counter(
    "executions_finished", "Executions that reached a terminal status.", ["workflow", "status"], namespace=NAMESPACE
)
STEP_DURATION = Histogram(
    "step_duration_seconds",
    "How long a node ran for one attempt, by node type and outcome.",
    ["node_type", "outcome"],
    namespace=NAMESPACE,
    buckets=_DURATIONS,
)
STEP_RETRIES = Counter(
    "step_retries", "Attempts after the first (retries) that a worker claimed.", ["workflow"], namespace=NAMESPACE
)
SCHEDULE_TO_START = Histogram(
    "schedule_to_start_seconds",
    "From an attempt's dispatch to its claim by a worker.",
    namespace=NAMESPACE,
    buckets=_DURATIONS,
)
LEASES_EXPIRED = Counter(
    "leases_expired", "Attempts whose worker's lease lapsed (the worker died or hung).", namespace=NAMESPACE
)
TIMERS_FIRED = Counter("timers_fired", "Durable timers fired by a sweeper.", namespace=NAMESPACE)
REDISPATCHED = Counter(
    "sweeper_dispatches",
    "Dispatches a sweeper sent: work recovered (lost or never claimed) and attempts its timers made due.",
    namespace=NAMESPACE,
)
REDELIVERED = Counter(
    "sweeper_redelivered",
    "Dispatches a sweeper sent again because no worker claimed them in time (lost, or sent while the broker"
    " was away): work recovered, with leases_expired.",
    namespace=NAMESPACE,
)
TIMERS_PENDING = Gauge("timers_pending", "Durable timers not yet fired.", namespace=NAMESPACE)
QUEUE_DEPTH = Gauge(
    "queue_depth", "Dispatches on the Redis stream not yet read by any worker (lag).", namespace=NAMESPACE
)

CACHE_LOOKUPS = Counter(
    "cache_lookups",
    "Lookups of the definition caches: plans (compiled, in this process) and versions (the shared layer).",
    ["cache", "result"],
    namespace=NAMESPACE,
)
CACHE_LOOKUP_SECONDS = Counter(
    "cache_lookup_seconds",
    "Time the definition caches' lookups took; a miss's includes the database read it caused.",
    ["cache", "result"],
    namespace=NAMESPACE,
)

_TERMINAL = frozenset({"succeeded", "failed", "cancelled", "timed_out"})


def observe_transitions(events: Iterable[Any]) -> None:
    """Counts what committed transitions did, from their events (``wirehub.store.ExecutionEvent``)."""
    for event in events:
        workflow = str(event.workflow_id)
        kind = event.event_type
        if kind == "execution_started":
            EXECUTIONS_STARTED.labels(workflow).inc()
        elif kind == "step_started" and getattr(event.event, "attempt", 1) > 1:
            STEP_RETRIES.labels(workflow).inc()
        if event.status in _TERMINAL:  # an execution's last event: nothing follows a terminal status
            EXECUTIONS_FINISHED.labels(workflow, event.status).inc()


def observe_attempt(node_type: str, seconds: float, outcome: str) -> None:
    """Records one attempt's run time; ``outcome`` is ``succeeded``, ``failed``, ``timed_out``, ``suspended``..."""
    STEP_DURATION.labels(node_type, outcome).observe(max(seconds, 0.0))


def observe_sweep(expired_leases: int, timers_fired: int, redispatched: int, redelivered: int = 0) -> None:
    """Counts what one sweep did; ``redelivered`` of its ``redispatched`` were unclaimed work sent again."""
    if expired_leases:
        LEASES_EXPIRED.inc(expired_leases)
    if timers_fired:
        TIMERS_FIRED.inc(timers_fired)
    if redispatched:
        REDISPATCHED.inc(redispatched)
    if redelivered:
        REDELIVERED.inc(redelivered)


def observe_schedule_to_start(seconds: float) -> None:
    """Records how long one attempt waited from its dispatch to its claim."""
    SCHEDULE_TO_START.observe(max(seconds, 0.0))


def observe_cache(cache: str, result: str, seconds: float) -> None:
    """Counts one lookup of a definition cache (``plans``, ``versions``): ``hit`` or ``miss``."""
    CACHE_LOOKUPS.labels(cache, result).inc()
    CACHE_LOOKUP_SECONDS.labels(cache, result).inc(max(seconds, 0.0))
