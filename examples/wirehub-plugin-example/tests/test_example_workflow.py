"""The plugin inside a whole workflow, on the embedded hub (``workflow_runner`` fixture)."""

from __future__ import annotations

from typing import Any

import wirehub_plugin_example
from wirehub_sdk.testing import WorkflowRunner

WORKFLOW: dict[str, Any] = {
    "name": "publish-title",
    "input_schema": {"type": "object", "required": ["title"]},
    "steps": [
        {
            "id": "slug",
            "type": "example.slugify",
            "type_version": 2,
            "config": {"max_length": 16},
            "input": {"text": "input.title"},
        },
        {"id": "count", "type": "example.word_count", "input": {"text": "input.title"}},
        {
            "id": "summary",
            "type": "core.transform",
            "needs": ["slug", "count"],
            "config": {"expression": "{slug: slug.slug, words: count.words}"},  # its input: its sources by id
        },
    ],
    "output": "steps.summary",
}


async def test_the_plugins_node_types_run_in_a_workflow_next_to_core_ones(workflow_runner: WorkflowRunner) -> None:
    result = await workflow_runner(WORKFLOW, {"title": "Hello, wide wide World!"}, plugins=[wirehub_plugin_example])
    assert result.succeeded, result.error
    assert result.output == {"slug": "hello-wide-wide", "words": 4}
    assert [(step, progress.message) for step, _, progress in workflow_runner.progress] == [
        ("count", "counted 4 words")
    ]
