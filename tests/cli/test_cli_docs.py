"""Every command of `wirehub` is in docs/operations.md."""

from __future__ import annotations

from pathlib import Path

import click

from wirehub.cli.main import cli

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _commands(group: click.Group, prefix: str = "wirehub") -> list[str]:
    found: list[str] = []
    context = click.Context(group)
    for name in sorted(group.list_commands(context)):
        command = group.get_command(context, name)  # the top-level group imports its commands on demand
        assert command is not None
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix} {name}")
        else:
            found.append(f"{prefix} {name}")
    return found


def test_every_command_is_documented() -> None:
    text = DOCS.read_text()
    commands = _commands(cli)
    assert "wirehub nodes show" in commands
    assert [command for command in commands if f"| `{command}" not in text] == []
