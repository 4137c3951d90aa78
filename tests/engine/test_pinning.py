"""pin_versions records resolved versions and migrated configs, leaving the original alone."""

from __future__ import annotations

from typing import Any

import msgspec

from wirehub.engine.language.definition import Workflow
from wirehub.engine.language.pinning import pin_versions
from wirehub.engine.plan import build_plan


def test_pin_versions_writes_versions_and_migrated_configs_into_a_copy() -> None:
    definition: dict[str, Any] = {
        "name": "w",
        "steps": [
            {"id": "a", "type": "acme.greet", "config": {"greeting": "hi"}},
            {"id": "b", "type": "acme.plain", "needs": ["a"]},
        ],
    }
    plan = build_plan(
        msgspec.convert(definition, Workflow),
        versions={"a": 3, "b": 1},
        configs={"a": {"text": "hi", "loud": False}, "b": {}},
    )
    pinned = pin_versions(definition, plan.steps)
    assert pinned["steps"][0] == {
        "id": "a",
        "type": "acme.greet",
        "type_version": 3,
        "config": {"text": "hi", "loud": False},
    }
    assert pinned["steps"][1] == {"id": "b", "type": "acme.plain", "needs": ["a"], "type_version": 1}
    assert "type_version" not in definition["steps"][0], "the original is not changed"
