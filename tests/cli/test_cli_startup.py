"""``wirehub --help`` starts fast: it imports no command's module, and nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from wirehub.cli.main import COMMANDS, LOCAL_COMMANDS, REMOTE_COMMANDS, LazyGroup, cli

HEAVY = (
    "litestar",
    "sqlalchemy",
    "httpx",
    "taskiq",
    "websockets",
    "structlog",
    "wirehub_sdk",
    "wirehub.engine",
    "asyncio",
)


def _loaded_by(*args: str) -> set[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['wirehub', *{list(args)!r}]\n"
        "from wirehub.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(line for line in result.stderr.splitlines() if line.startswith("MODULES "))
    return set(line.split()[1:])


def test_help_imports_nothing_heavy_and_no_command_module() -> None:
    loaded = _loaded_by("--help")
    assert sorted(name for name in loaded if name.split(".")[0] in HEAVY or name in HEAVY) == []
    assert sorted(name for name in loaded if name.startswith("wirehub.cli.") and name != "wirehub.cli.main") == []


def test_a_command_that_logs_nothing_starts_without_structlog() -> None:
    loaded = _loaded_by("executions", "list", "--help")
    assert "wirehub.cli.logs" in loaded  # the group configured logging
    assert "structlog" not in loaded  # and structlog waits for the first line


def test_a_remote_command_loads_the_client_only_when_it_runs() -> None:
    loaded = _loaded_by("executions", "--help")
    assert "wirehub.cli.executions" in loaded
    assert "wirehub_sdk.client" not in loaded
    assert "httpx" not in loaded


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_listed_command_is_the_command_of_that_name_with_that_summary(name: str) -> None:
    group = cli
    assert isinstance(group, LazyGroup)
    command = group.get_command(click.Context(group), name)
    assert command is not None
    assert command.name == name
    assert command.get_short_help_str(limit=200) == COMMANDS[name].summary


def test_local_and_remote_commands_do_not_clash() -> None:
    assert not set(LOCAL_COMMANDS) & set(REMOTE_COMMANDS)
