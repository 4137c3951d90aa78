"""The import arrows of ../docs/architecture.md, held by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command, "import-linter is not installed in this environment"
    return subprocess.run([command, "--no-cache", *args], capture_output=True, text=True, cwd=cwd, check=False)


def test_every_import_contract_is_kept() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 7 kept, 0 broken." in result.stdout


def test_a_forbidden_import_breaks_a_contract(tmp_path: Path) -> None:
    # The same contracts over a copy of the tree in which the engine reaches into the runtime.
    for part in ("hub", "sdk", "plugins"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    plan = tmp_path / "hub" / "src" / "wirehub" / "engine" / "plan.py"
    plan.write_text(plan.read_text() + "\nimport wirehub.runtime  # noqa\n")
    env_path = f"{tmp_path}/hub/src:{tmp_path}/sdk/src:{tmp_path}/plugins/src"
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command
    result = subprocess.run(
        [command, "--no-cache"], capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": env_path}, check=False
    )
    assert result.returncode == 1
    assert "wirehub.engine is not allowed to import wirehub.runtime" in result.stdout


def test_importing_the_sdk_loads_nothing_of_the_hub_or_its_service_dependencies() -> None:
    code = (
        "import sys, wirehub_sdk, wirehub_sdk.testing, wirehub_core.core\n"
        "banned = {'wirehub', 'jmespath', 'jsonschema', 'asyncpg', 'redis', 'sqlalchemy', 'litestar', 'taskiq'}\n"
        "print(sorted(banned & {name.split('.')[0] for name in sys.modules}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT.parent)
    assert result.stdout.strip() == "[]"
