"""The broker's one middleware: nothing but a dispatch's ids ever goes over the broker."""

from __future__ import annotations

from taskiq import TaskiqMessage, TaskiqMiddleware

from wirehub.worker.broker import TASK_NAME

DISPATCH_FIELDS = frozenset({"dispatch_id", "execution_id", "step_id", "attempt"})


class DispatchOnly(TaskiqMiddleware):
    """Refuses to send any message but ``run_step`` with exactly a dispatch's four fields.

    Inputs, outputs and credentials stay in the database: a message that
    would carry one (a bug in the sender) raises before anything reaches Redis.
    """

    def pre_send(self, message: TaskiqMessage) -> TaskiqMessage:
        if message.task_name != TASK_NAME:
            raise ValueError(f"only {TASK_NAME!r} goes over the dispatch broker, not {message.task_name!r}")
        payloads = [*message.args, *message.kwargs.values()]
        if len(payloads) != 1 or not isinstance(payloads[0], dict) or set(payloads[0]) != DISPATCH_FIELDS:
            raise ValueError("a dispatch message carries the four ids of a dispatch and nothing else")
        return message
