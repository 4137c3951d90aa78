"""docs/plugins.md stays true to the code: every hook, every SDK name, and the tutorial plugin itself."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import wirehub_sdk
import wirehub_sdk.testing
from wirehub.plugins import PluginState, build_registry
from wirehub.plugins.hookdocs import current_reference, render_reference
from wirehub_sdk.host import PROJECT_NAME, hookspecs

ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = ROOT / "docs" / "plugins.md"
DOC = DOC_PATH.read_text()
REGENERATE = "run `uv run python -m wirehub.plugins.hookdocs docs/plugins.md`"

# A hook's entry: its heading, then a python block of `@hookimpl` and the signature line.
HOOK_ENTRY = re.compile(r"^### `(?P<name>\w+)`\n\n```python\n@hookimpl\n(?P<signature>def [^\n]+)\n```", re.M)
CODE_BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```", re.M | re.S)
FILE_BLOCK = re.compile(r"^```(?:python|toml)\n(?P<code>.*?)^```", re.M | re.S)


def hook_functions() -> list[Callable[..., Any]]:
    """The hook specifications, found in the module by pluggy's marker."""
    return [f for _, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "wirehub_spec")]


def expected_signature(function: Callable[..., Any]) -> str:
    """The documented form: ``def name(p: T, ...) -> R`` with annotations as written in the source.

    ``wirehub_sdk.hookspecs`` postpones annotations, so ``inspect.signature`` holds each one as the
    source text; it is shown without quotes.
    """
    signature = inspect.signature(function)

    def text(annotation: Any) -> str:
        return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)

    params = ", ".join(
        p.name if p.annotation is inspect.Parameter.empty else f"{p.name}: {text(p.annotation)}"
        for p in signature.parameters.values()
    )
    returns = (
        "" if signature.return_annotation is inspect.Signature.empty else f" -> {text(signature.return_annotation)}"
    )
    return f"def {function.__name__}({params}){returns}"


def documented_hooks() -> dict[str, str]:
    return {m["name"]: m["signature"] for m in HOOK_ENTRY.finditer(DOC)}


def test_the_hooks_are_found() -> None:
    assert {f.__name__ for f in hook_functions()} >= {"wirehub_node_types", "wirehub_credential_types"}


@pytest.mark.parametrize("hook", hook_functions(), ids=lambda f: f.__name__)
def test_every_hook_is_documented_with_its_signature(hook: Callable[..., Any]) -> None:
    documented = documented_hooks()
    assert hook.__name__ in documented, f"{hook.__name__} is missing from docs/plugins.md: {REGENERATE}"
    assert documented[hook.__name__] == expected_signature(hook), f"the signature differs: {REGENERATE}"


def test_no_documented_hook_is_gone_from_the_code() -> None:
    assert set(documented_hooks()) == {f.__name__ for f in hook_functions()}


def test_the_hook_reference_is_the_generated_one() -> None:
    """Docstrings and calling conventions too, not only signatures."""
    assert current_reference(DOC) == render_reference(), REGENERATE


def test_the_signature_convention_matches_an_example() -> None:
    def sample(config: dict[str, int], *, strict: bool) -> list[str]:
        raise NotImplementedError

    assert expected_signature(sample) == "def sample(config: dict[str, int], strict: bool) -> list[str]"


@pytest.mark.parametrize("name", wirehub_sdk.__all__)
def test_every_sdk_name_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC, f"wirehub_sdk.{name} is not mentioned in docs/plugins.md"


@pytest.mark.parametrize("name", wirehub_sdk.testing.__all__)
def test_every_testing_kit_name_is_documented(name: str) -> None:
    assert f"`{name}`" in DOC, f"wirehub_sdk.testing.{name} is not mentioned in docs/plugins.md"


@pytest.mark.parametrize("fixture", ["node_runner", "workflow_runner"])
def test_the_fixtures_are_documented(fixture: str) -> None:
    assert f"**`{fixture}`**" in DOC


def python_blocks() -> list[str]:
    reference = current_reference(DOC) or ""
    return [m["code"] for m in CODE_BLOCK.finditer(DOC.replace(reference, ""))]


@pytest.mark.parametrize("code", python_blocks(), ids=lambda code: code.splitlines()[0])
def test_every_python_example_parses(code: str) -> None:
    ast.parse(code)


def test_the_pyproject_example_declares_the_entry_point_the_hub_reads() -> None:
    project = tomllib.loads(template_files()["pyproject.toml"])["project"]
    assert project["entry-points"][PROJECT_NAME] == {"acme": "acme_hub.plugin"}
    assert [d.split(">")[0] for d in project["dependencies"]] == ["wirehub-sdk"]


def test_the_pyproject_example_takes_wirehub_from_a_checkout_beside_it() -> None:
    sources = tomllib.loads(template_files()["pyproject.toml"])["tool"]["uv"]["sources"]
    assert sources == {
        "wirehub-sdk": {"path": "../wirehub/sdk", "editable": True},
        "wirehub": {"path": "../wirehub", "editable": True},
    }
    assert (ROOT / "sdk" / "pyproject.toml").is_file()


def template_files() -> dict[str, str]:
    """The template's files: code blocks whose first line is a ``# path`` comment, by path."""
    files = {}
    for match in FILE_BLOCK.finditer(DOC.replace(current_reference(DOC) or "", "")):
        first, _, _ = match["code"].partition("\n")
        if first.startswith("# ") and re.fullmatch(r"[\w./-]+\.(py|toml)", first[2:]):
            files[first[2:]] = match["code"]
    return files


def test_the_template_has_every_file_of_its_layout() -> None:
    assert set(template_files()) == {
        "pyproject.toml",
        "src/acme_hub/__init__.py",
        "src/acme_hub/plugin.py",
        "src/acme_hub/nodes.py",
        "src/acme_hub/credentials.py",
        "tests/test_nodes.py",
    }


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The template's ``acme_hub`` package, written out and imported in this process."""
    for path, code in template_files().items():
        if path.startswith("src/"):
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    yield importlib.import_module("acme_hub.plugin")
    for name in [m for m in sys.modules if m == "acme_hub" or m.startswith("acme_hub.")]:
        del sys.modules[name]


def test_the_tutorial_plugin_loads_cleanly(acme: ModuleType) -> None:
    registry = build_registry([acme])
    [report] = registry.plugins
    assert (report.state, report.errors) == (PluginState.OK, ())
    assert {(ref.name, ref.version) for ref in report.node_types} == {
        ("acme.create_ticket", 2),
        ("acme.triage", 1),
        ("acme.follow_up", 1),
    }
    assert report.credential_types == ("acme.api_key",)


def uv_command() -> str:
    """The uv that runs this suite (``uv run`` sets ``UV``), else the one on ``PATH``."""
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("uv is needed to build the template plugin's environment")
        pytest.skip("uv is not installed")
    return found


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_template_copied_beside_a_checkout_passes_its_tests_and_is_listed(tmp_path: Path) -> None:
    """What a new author does: files from this page, a checkout beside them, ``uv sync``, ``uv run pytest``."""
    uv = uv_command()
    (tmp_path / "wirehub").symlink_to(ROOT, target_is_directory=True)
    project = tmp_path / "wirehub-plugin-acme"
    for path, code in template_files().items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(code)
    # Nothing of this suite's own environment may leak into the new project's.
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "UV_PROJECT_ENVIRONMENT"}}
    env["UV_PYTHON"] = sys.executable
    run([uv, "sync"], project, env)
    tests = run([uv, "run", "--frozen", "pytest", "-q"], project, env)
    assert re.match(r"6 passed in ", tests.stdout.splitlines()[-1]), tests.stdout
    checked = run([uv, "run", "--frozen", "--with", "mypy", "mypy", "--strict", "src"], project, env)
    assert checked.stdout.startswith("Success: no issues found"), checked.stdout
    listed = json.loads(run([uv, "run", "--frozen", "wirehub", "plugins", "list", "--json"], project, env).stdout)
    plugins = {plugin["name"]: plugin for plugin in listed["plugins"]}
    assert plugins["acme"]["state"] == "ok"
    assert plugins["acme"]["distribution"] == "wirehub-plugin-acme"
    assert {(t["name"], t["version"]) for t in plugins["acme"]["node_types"]} == {
        ("acme.create_ticket", 2),
        ("acme.triage", 1),
        ("acme.follow_up", 1),
    }
    assert plugins["core"]["state"] == "ok"
