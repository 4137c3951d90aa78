"""Runs a script under cProfile with a CPU-time clock: ``python -m bench.api.profiled OUT SCRIPT ARGS...``.

The CPU clock (``time.thread_time``) leaves out the time the process waited for a core, which on a
shared machine otherwise lands on whatever call was running (a socket's ``send``, say). The profile
is written to ``OUT`` when the script ends, by ``KeyboardInterrupt`` (SIGINT) too.
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    out, script, *arguments = sys.argv[1:]
    sys.argv = [script, *arguments]
    profile = cProfile.Profile(time.thread_time)
    try:
        profile.runcall(runpy.run_path, script, run_name="__main__")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
