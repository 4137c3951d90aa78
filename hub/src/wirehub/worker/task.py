"""The one taskiq task: a dispatch message in, the attempt it names run by this process's ``StepRunner``."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from taskiq import AsyncBroker, Context, TaskiqDepends

from wirehub.worker.broker import TASK_NAME
from wirehub.worker.dispatcher import dispatch_from
from wirehub.worker.steps import StepRunner

logger = logging.getLogger("wirehub.worker")

_RUNNER = "wirehub_step_runner"


async def run_step(dispatch: Any, context: Annotated[Context, TaskiqDepends()]) -> None:
    """Runs the attempt a dispatch message names (see ``StepRunner.handle``).

    A message that is not a dispatch is logged and acknowledged: redelivering
    it could never help, and the database dispatches again whatever it owes.
    """
    ack = context.ack if context.is_ackable else None
    try:
        parsed = dispatch_from(dispatch)
    except msgspec.ValidationError as exc:
        logger.warning("dropping a malformed dispatch message: %s", exc)
        if ack is not None:
            await ack()
        return
    runner: StepRunner = getattr(context.state, _RUNNER)
    await runner.handle(parsed, ack)


def register(broker: AsyncBroker, runner: StepRunner | None = None) -> None:
    """Registers ``run_step`` on ``broker`` (once), run by ``runner``.

    A process that only sends dispatches (an API replica) registers it without a runner.
    """
    if runner is not None:
        setattr(broker.state, _RUNNER, runner)
    if broker.find_task(TASK_NAME) is None:
        broker.register_task(run_step, task_name=TASK_NAME)
