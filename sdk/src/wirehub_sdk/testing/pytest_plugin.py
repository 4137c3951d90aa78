"""The wirehub-sdk pytest plugin: fixtures for testing node types.

Active wherever ``wirehub-sdk`` is installed (``pytest11`` entry point). It
imports nothing of the hub; ``workflow_runner`` looks for the hub when a test
asks for it.
"""

from __future__ import annotations

import pytest

from wirehub_sdk.testing._runners import NodeRunner, WorkflowRunner, load_run_workflow


@pytest.fixture
def node_runner() -> NodeRunner:
    """Runs one node type in isolation: ``await node_runner(MyNode, config={...}, input={...})``.

    Config and input are converted as the hub converts a step's
    (``ConfigError`` when they do not fit), the output is checked against
    ``Output`` (``OutputError`` naming the field), and progress reports are
    kept in ``node_runner.progress``.
    """
    return NodeRunner()


@pytest.fixture
def workflow_runner() -> WorkflowRunner:
    """Runs a whole workflow on the embedded hub: ``await workflow_runner(definition, input, plugins=[mod])``.

    The installed plugins load too (``include_installed=False`` turns that
    off). Returns the hub's execution result (``status``, ``output``,
    ``error``). Skips the test when the hub is not installed.
    """
    run_workflow = load_run_workflow()
    if run_workflow is None:
        pytest.skip("workflow_runner needs the hub installed (pip install hub)")
    return WorkflowRunner(run_workflow)
