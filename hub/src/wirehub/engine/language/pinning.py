"""Recording in a definition the node-type versions it was validated against."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Protocol


class ResolvedStep(Protocol):
    """What pinning needs of a compiled step (``wirehub.engine.StepPlan`` is one)."""

    @property
    def type_version(self) -> int: ...

    @property
    def config(self) -> dict[str, Any]: ...


def pin_versions(definition: dict[str, Any], steps: Mapping[str, ResolvedStep]) -> dict[str, Any]:
    """Returns a copy of ``definition`` with every step's ``type_version`` and migrated config.

    A saved definition carries the version of each node type it was written
    for, so a later upgrade of a plugin cannot silently change what it means.

    Args:
        definition: The decoded definition that ``steps`` were compiled from.
        steps: Its compiled steps by id (``plan.steps``), each with its
            resolved version and migrated config.
    """
    pinned = copy.deepcopy(definition)
    for step in pinned["steps"]:
        compiled = steps[step["id"]]
        step["type_version"] = compiled.type_version
        if compiled.config or "config" in step:
            step["config"] = copy.deepcopy(compiled.config)
    return pinned
