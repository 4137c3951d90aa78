"""The workers: dispatch messages in, attempts claimed, run under a lease and recorded; a sweeper beside them.

The store (``wirehub.store.ExecutionStore``) decides everything in
transactions; the worker only carries out. Public names:

- ``broker_for(settings)``: taskiq's ``InMemoryBroker`` embedded, a
  ``DispatchStreamBroker`` (``RedisStreamBroker`` configured against its
  traps) distributed.
- ``Worker``: a step runner, a consumer of the broker and a sweeper, stopped
  gracefully; ``serve(settings)`` runs one as the ``wirehub worker`` process.
- ``StepRunner``, ``Dispatcher``, ``Sweeper``, ``Consumer``: its parts.
- ``run_step``: the one taskiq task, named ``TASK_NAME``; ``DispatchOnly``, the
  broker middleware that lets nothing but a dispatch's ids over the broker.
- ``wirehub.worker.embedded``: the embedded hub (``embedded_hub``,
  ``run_definition``) that ``wirehub run`` runs on.
"""

from typing import Any

from wirehub.worker.broker import GROUP, STREAM, TASK_NAME, broker_for
from wirehub.worker.dispatcher import Dispatcher, dispatch_from, message_for
from wirehub.worker.middleware import DispatchOnly
from wirehub.worker.process import Worker, worker_name
from wirehub.worker.serve import WorkerConfigError, serve
from wirehub.worker.steps import StepRunner
from wirehub.worker.sweeper import Sweeper
from wirehub.worker.task import register, run_step

__all__ = [
    "GROUP",
    "STREAM",
    "TASK_NAME",
    "Consumer",
    "DispatchOnly",
    "DispatchStreamBroker",
    "Dispatcher",
    "StepRunner",
    "Sweeper",
    "Worker",
    "WorkerConfigError",
    "broker_for",
    "dispatch_from",
    "message_for",
    "register",
    "run_step",
    "serve",
    "worker_name",
]


def __getattr__(name: str) -> Any:
    # The Redis parts load redis when first used, so the embedded hub never does.
    if name == "Consumer":
        from wirehub.worker.consumer import Consumer

        return Consumer
    if name == "DispatchStreamBroker":
        from wirehub.worker.redis_stream import DispatchStreamBroker

        return DispatchStreamBroker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
