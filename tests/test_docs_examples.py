"""The code examples of README.md and docs/ run, or say why they cannot.

- README: every code block is run by this file or marked. The marker is an HTML comment on the
  line before the block: ``<!-- docs-test: tour -->`` (the five-minute tour, run with bash against
  a ``wirehub serve`` this test starts), ``<!-- docs-test: file NAME -->`` (a file the tour or the
  commands use, written out first), ``<!-- docs-test: local -->`` (``wirehub`` commands run on
  this machine, no hub), ``<!-- docs-test: skip (why) -->`` (not runnable here, and why).
- README and docs/: a JSON example parses (a document, several in a row, or the members of an object),
  and one that is a whole workflow validates with the engine against the built-in node types; a
  Python example parses; a shell example is valid bash (``bash -n``). A block marked skip is not
  checked.
- README links every page of docs/, and every link it has leads to a file.

The hook reference in docs/plugins.md is checked against the hook specifications in
``tests/test_docs_plugins.py`` (with the Python examples of that page).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wirehub.cli.main import cli
from wirehub.engine import validate_definition
from wirehub.plugins import build_registry
from wirehub_core import core

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(
    r"(?:^<!-- docs-test: (?P<mark>[^\n]*?) -->\n)?^```(?P<lang>[\w-]*)\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL
)
MARKS = re.compile(r"tour|local|file [\w.-]+|skip \(.+\)")
ADMIN = ("admin", "a long enough password")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    line: int
    lang: str
    code: str
    mark: str | None

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def skipped(self) -> bool:
        return self.mark is not None and self.mark.startswith("skip")


def blocks(*pages: Path) -> list[Block]:
    found = []
    for page in pages:
        text = page.read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("lang")) + 1
            found.append(Block(page, line, match["lang"], match["code"], match["mark"]))
    return found


def of(lang: str, *, pages: list[Path] = PAGES) -> list[Any]:
    return [pytest.param(block, id=block.name) for block in blocks(*pages) if block.lang == lang and not block.skipped]


README_BLOCKS = blocks(README)


def test_every_readme_code_block_is_run_here_or_says_why_not() -> None:
    for block in README_BLOCKS:
        if block.lang:  # an unlabelled block is a picture (the layout), not code
            assert block.mark is not None, f"{block.name}: mark it (see this file's docstring)"
            assert MARKS.fullmatch(block.mark), f"{block.name}: unknown marker {block.mark!r}"
    assert [block.mark for block in README_BLOCKS].count("tour") >= 3


def _json_values(code: str) -> list[Any]:
    """The JSON an example holds: one document or several in a row, or the members of an object."""
    try:
        return _sequence(code)
    except json.JSONDecodeError:
        pass
    try:
        return [json.loads("{" + code + "}")]
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not JSON values nor the members of an object:\n{code}") from exc


def _sequence(code: str) -> list[Any]:
    """One JSON value or several one after another (a WebSocket's messages, each on one or more lines)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    at = 0
    while (at := len(code) - len(code[at:].lstrip())) < len(code):
        value, at = decoder.raw_decode(code, at)
        values.append(value)
    return values


@pytest.fixture(scope="module")
def catalog() -> Any:
    return build_registry(extra_plugins=[core], load_entry_points=False)


@pytest.mark.parametrize("block", of("json"))
def test_a_json_example_parses_and_a_workflow_validates(block: Block, catalog: Any) -> None:
    for value in _json_values(block.code):
        if isinstance(value, dict) and "steps" in value and "name" in value:
            report = validate_definition(value, catalog)
            assert not report.problems, [f"{p.pointer}: {p.message}" for p in report.problems]


@pytest.mark.parametrize("block", of("python", pages=[page for page in PAGES if page.name != "plugins.md"]))
def test_a_python_example_parses(block: Block) -> None:
    ast.parse(block.code)


@pytest.mark.parametrize("block", of("sh") + of("bash"))
def test_a_shell_example_is_valid_bash(block: Block) -> None:
    checked = subprocess.run(["bash", "-n"], input=block.code, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_the_readme_links_every_page_and_every_link_leads_somewhere() -> None:
    text = README.read_text()
    targets = set(re.findall(r"\]\(((?!https?:)[^)#\s]+)(?:#[^)]*)?\)", text))
    for target in targets:
        assert (ROOT / target).exists(), f"README links {target}, which does not exist"
    pages = {f"docs/{path.name}" for path in (ROOT / "docs").iterdir() if path.suffix in {".md", ".json"}}
    assert pages <= targets, f"README does not link {sorted(pages - targets)}"


def _write_files(directory: Path) -> None:
    for block in README_BLOCKS:
        if block.mark is not None and block.mark.startswith("file "):
            (directory / block.mark.removeprefix("file ")).write_text(block.code)


def _commands(mark: str) -> Iterator[list[str]]:
    """The ``uv run wirehub ...`` lines of the README's blocks so marked, as ``wirehub`` arguments."""
    for block in README_BLOCKS:
        if block.mark == mark:
            for line in block.code.splitlines():
                words = shlex.split(line, comments=True)
                if words:
                    assert words[:3] == ["uv", "run", "wirehub"], line
                    yield words[3:]


def test_the_readmes_local_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    _write_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    env = {"WIREHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"}
    ran = 0
    for args in _commands("local"):
        result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, f"wirehub {shlex.join(args)}: {result.output}"
        ran += 1
    assert ran >= 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_ready(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "wirehub serve exited"
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("wirehub serve did not become ready")


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="the tour assumes curl and jq")
def test_the_readmes_tour_runs_against_a_served_hub(tmp_path: Path) -> None:
    _write_files(tmp_path)
    port = _free_port()
    hub = f"http://127.0.0.1:{port}"
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("WIREHUB_")},
        "WIREHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        "WIREHUB_ADMIN_USERNAME": ADMIN[0],
        "WIREHUB_ADMIN_PASSWORD": ADMIN[1],
    }
    command = [sys.executable, "-c", "from wirehub.cli.main import main; main()", "serve", "--port", str(port)]
    script = "set -euo pipefail\n" + "\n".join(block.code for block in README_BLOCKS if block.mark == "tour")
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    ) as server:
        try:
            _wait_ready(hub, server)
            tour = subprocess.run(
                ["bash", "-c", script],
                cwd=tmp_path,
                env={**env, "HUB": hub},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            server.terminate()
            server.communicate(timeout=30)
    assert tour.returncode == 0, tour.stdout + tour.stderr
    lines = tour.stdout.splitlines()
    assert lines[0].startswith("execution ")
    history = [line.split() for line in lines[1 : lines.index("{")]]
    assert [int(entry[0]) for entry in history] == list(range(1, len(history) + 1)), "each entry once, in order"
    assert [entry[1:] for entry in history] == [
        ["execution_started"],
        ["step_started", "greet"],
        ["step_succeeded", "greet"],
        ["step_started", "pause"],
        ["step_suspended", "pause"],
        ["timer_fired", "pause"],
        ["step_started", "shout"],
        ["step_succeeded", "shout"],
    ]
    assert json.loads("\n".join(lines[lines.index("{") :])) == {"status": "succeeded", "output": {"text": "HELLO, ADA"}}
