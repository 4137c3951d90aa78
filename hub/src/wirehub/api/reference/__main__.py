"""``python -m wirehub.api.reference [DIRECTORY] [--check]``: writes (or checks) the API reference (docs/)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wirehub.api.reference import COMMAND, stale_files, write


def main(argv: list[str] | None = None) -> int:
    """Writes the reference's files (exit 0), or with ``--check`` exits 1 when one is out of date."""
    parser = argparse.ArgumentParser(prog="python -m wirehub.api.reference", description=__doc__)
    parser.add_argument("directory", nargs="?", default="docs", type=Path, help="where the files go (docs/)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a file is out of date")
    options = parser.parse_args(argv)
    if not options.directory.is_dir():
        parser.error(f"{options.directory} is not a directory")
    if options.check:
        stale = stale_files(options.directory)
        for name in stale:
            sys.stderr.write(f"{options.directory / name} is out of date: run {COMMAND}\n")
        return 1 if stale else 0
    for name in write(options.directory):
        sys.stderr.write(f"wrote {options.directory / name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
