"""A test kit for node types: run one in isolation, or a whole workflow on the embedded hub.

The pytest plugin (registered through the ``pytest11`` entry point, so it is
active wherever ``wirehub-sdk`` is installed) offers the same as fixtures:
``node_runner`` and ``workflow_runner``.

A node type is checked as the hub checks what a plugin offers before it
runs (``InvalidTypeError``, with the hub's message), so a class the hub would
reject never passes its own tests.

``wirehub_sdk`` never imports the hub at import time. ``ctx.evaluate`` uses the
hub's expression evaluator when the hub is installed; without it, pass an
``evaluator`` or expect ``ExpressionError``. ``workflow_runner`` needs the
hub and skips the test without it.
"""

from wirehub_sdk._checks import InvalidTypeError
from wirehub_sdk._invoke import OutputError, idempotency_key
from wirehub_sdk._node import Progress
from wirehub_sdk.testing._runner import check_output, hub_evaluator, make_context, run_node
from wirehub_sdk.testing._runners import NodeRunner, WorkflowRunner, load_run_workflow

__all__ = [
    "InvalidTypeError",
    "NodeRunner",
    "OutputError",
    "Progress",
    "WorkflowRunner",
    "check_output",
    "hub_evaluator",
    "idempotency_key",
    "load_run_workflow",
    "make_context",
    "run_node",
]
