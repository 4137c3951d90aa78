"""What a node may return besides its plain output."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class Route(msgspec.Struct, frozen=True):
    """The result of a routing node: the branch it chose, and its output.

    Only node types that name their branches (``NodeType.branches``) may
    return it. Steps that wait on other branches of this step end ``skipped``.
    """

    branch: str
    output: Any = None


class Wait(msgspec.Struct, frozen=True):
    """Ends the attempt without finishing the step: the engine wakes it later.

    The step's run waits on a durable timer, holding no worker, and succeeds
    with ``output`` at ``until`` (a timezone-aware instant).
    """

    until: datetime
    output: Any = None
