"""CPU time of a running process, read from Linux's /proc: steadier than rates on a shared machine."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds ``pid`` has used so far (Linux only)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name, in parentheses, may contain spaces: the fields that follow it are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS
