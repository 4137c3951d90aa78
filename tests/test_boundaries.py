"""The import arrows of docs/architecture.md: engine and SDK stay free of the service."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INFRASTRUCTURE = {"litestar", "sqlalchemy", "advanced_alchemy", "asyncpg", "redis", "taskiq", "taskiq_redis", "httpx"}
HUB_SERVICE_PARTS = {"hub.api", "hub.store", "hub.worker", "hub.cli", "hub.plugins", "hub.runtime", "hub.settings"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (TYPE_CHECKING blocks included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files(*parts: str) -> list[Path]:
    found = sorted(ROOT.joinpath(*parts).rglob("*.py"))
    assert found, f"no Python files under {'/'.join(parts)}"
    return found


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", files("hub", "engine"), ids=lambda p: p.name)
def test_engine_imports_no_infrastructure_and_no_other_hub_part(path: Path) -> None:
    modules = imported_modules(path)
    assert not {m for m in modules if top(m) in INFRASTRUCTURE}
    assert not {m for m in modules if any(m == part or m.startswith(part + ".") for part in HUB_SERVICE_PARTS)}


@pytest.mark.parametrize("path", files("sdk", "src", "hub_sdk"), ids=lambda p: str(p.relative_to(ROOT)))
def test_sdk_never_imports_the_hub_or_service_infrastructure(path: Path) -> None:
    modules = imported_modules(path)
    assert not {m for m in modules if top(m) == "hub"}
    assert not {m for m in modules if top(m) in INFRASTRUCTURE - {"httpx"}}


@pytest.mark.parametrize("path", files("plugins", "src", "hub_plugins"), ids=lambda p: p.name)
def test_builtin_plugins_import_only_the_sdk(path: Path) -> None:
    modules = imported_modules(path)
    assert not {m for m in modules if top(m) == "hub"}
    # httpx is part of the SDK's surface (responses, requests handed to credential types).
    assert not {m for m in modules if top(m) in INFRASTRUCTURE - {"httpx"}}


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sqlalchemy.orm\n")
    assert "sqlalchemy.orm" in imported_modules(sample)


def test_importing_the_sdk_loads_nothing_of_the_hub_or_its_service_dependencies() -> None:
    code = (
        "import sys, hub_sdk, hub_sdk.testing, hub_plugins.core\n"
        "banned = {'hub', 'jmespath', 'jsonschema', 'asyncpg', 'redis', 'sqlalchemy', 'litestar', 'taskiq'}\n"
        "print(sorted(banned & {name.split('.')[0] for name in sys.modules}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT.parent)
    assert result.stdout.strip() == "[]"
