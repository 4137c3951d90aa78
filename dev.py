#!/usr/bin/env python3
"""The project's two everyday commands, on any machine with Python 3.11+ and pip.

    python3 dev.py run       serve the hub (API, worker and sweeper) on its embedded defaults
    python3 dev.py example   run an example workflow end to end, without the API
    python3 dev.py test      run the whole test suite
    python3 dev.py check     lint, format check and type check
    python3 dev.py unasync   write the SDK's synchronous client (client/_sync.py) from client/_async.py

uv is bootstrapped when it is missing; it then builds the locked environment
in .venv on first use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BOOTSTRAP = ROOT / ".venv-bootstrap"


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    if subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True).returncode == 0:
        return [sys.executable, "-m", "uv"]
    local = BOOTSTRAP / "bin" / "uv"
    if local.exists():
        return [str(local)]
    print("uv is missing: installing it into .venv-bootstrap", file=sys.stderr)
    made = subprocess.run([sys.executable, "-m", "venv", str(BOOTSTRAP)]).returncode == 0
    if made:
        subprocess.run([str(BOOTSTRAP / "bin" / "python"), "-m", "pip", "install", "-q", "uv"], check=True)
        return [str(local)]
    # No venv module (Debian without python3-venv): fall back to a user install.
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--user", "uv"], check=True)
    return [sys.executable, "-m", "uv"]


def _uv_run(*args: str) -> int:
    # Installed packages are byte-compiled once, at install: every process (the
    # suite starts many workers) then skips compiling them, also where the
    # environment sets PYTHONDONTWRITEBYTECODE.
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_COMPILE_BYTECODE": "1"}
    return subprocess.run([*_uv(), "run", "--locked", *args], cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    task = argv[0] if argv else "help"
    rest = argv[1:]
    if task == "run":
        return _uv_run("wirehub", "serve", *rest)
    if task == "example":
        return _uv_run("wirehub", "run", "examples/branching.json", "--input", "@examples/inputs/branching.json", *rest)
    if task == "test":
        return _uv_run("pytest", *rest)
    if task == "check":
        for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
            code = _uv_run(*command)
            if code:
                return code
        return 0
    if task == "unasync":
        return _uv_run("python", "sdk/scripts/unasync.py")
    print(__doc__, file=sys.stderr)
    return 0 if task == "help" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
