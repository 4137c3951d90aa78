"""A plugin publishes version 2 of a node type: pinned steps migrate, unpinned ones are told to pin."""

from __future__ import annotations

from typing import Any

from tests.plugins_system.samples import plugin_returning
from wirehub.engine import pin_versions, validate_definition
from wirehub.plugins import Registry, build_registry
from wirehub_plugin_example import Slugify, WordCount

# Version 1 of example.slugify took `max_length: 0` for "no limit"; version 2 wants null.
WRITTEN_FOR_V1 = {"separator": "_", "max_length": 0}


def only_version_2() -> Registry:
    """A hub where the plugin's newest release dropped version 1."""
    return build_registry([plugin_returning(Slugify, plugin_name="example")])


def definition(**step: Any) -> dict[str, Any]:
    return {"name": "slugs", "steps": [{"id": "slug", "type": "example.slugify", **step}]}


def test_a_step_pinned_to_version_1_is_migrated_and_pinning_records_version_2() -> None:
    source = definition(type_version=1, config=WRITTEN_FOR_V1)
    report = validate_definition(source, only_version_2())
    assert report.problems == []
    assert report.plan is not None
    [step] = pin_versions(source, report.plan.steps)["steps"]
    assert (step["type_version"], step["config"]) == (2, {"separator": "_", "max_length": None})


def test_an_unpinned_step_is_not_migrated_and_its_error_says_to_pin() -> None:
    report = validate_definition(definition(config=WRITTEN_FOR_V1), only_version_2())
    [problem] = report.problems
    assert problem.pointer == "/steps/0/config/max_length"
    assert problem.message.endswith(
        'The step has no "type_version", so it runs version 2, the newest installed; if it was written for an '
        'earlier version, set "type_version" to that version and its config is migrated '
        "(`wirehub validate --pin` then records the migrated config)."
    )


def test_a_node_type_at_version_1_gives_no_pinning_hint() -> None:
    source = {"name": "words", "steps": [{"id": "count", "type": "example.word_count", "config": {"min_length": 0}}]}
    report = validate_definition(source, build_registry([plugin_returning(WordCount, plugin_name="example")]))
    [problem] = report.problems
    assert problem.pointer == "/steps/0/config/min_length"
    assert "type_version" not in problem.message
