"""Recording in a definition the node-type versions it was validated against."""

from __future__ import annotations

import copy
from typing import Any

from hub.engine.plan import Plan


def pin_versions(definition: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """Returns a copy of ``definition`` with every step's ``type_version`` and migrated config.

    A saved definition carries the version of each node type it was written
    for, so a later upgrade of a plugin cannot silently change what it means.

    Args:
        definition: The decoded definition that ``plan`` was compiled from.
        plan: Its plan, with each step's resolved version and migrated config.
    """
    pinned = copy.deepcopy(definition)
    for step in pinned["steps"]:
        compiled = plan.steps[step["id"]]
        step["type_version"] = compiled.type_version
        if compiled.config or "config" in step:
            step["config"] = copy.deepcopy(compiled.config)
    return pinned
