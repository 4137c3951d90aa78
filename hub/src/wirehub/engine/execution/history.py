"""An execution's history: its accepted events, numbered.

Replaying the entries of one execution in sequence order through
``wirehub.engine.execution.machine.apply``, from ``prepare``, reproduces its
state exactly; the store appends one entry per accepted event.
"""

from __future__ import annotations

import msgspec

from wirehub.engine.execution.events import Event


class HistoryEntry(msgspec.Struct, frozen=True, gc=False):
    """One accepted event of one execution.

    Attributes:
        execution_id: The execution the event was applied to.
        sequence: Its position in the execution's history, from 1, without gaps.
        event: What happened.
    """

    execution_id: str
    sequence: int
    event: Event
