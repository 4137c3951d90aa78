"""``wirehub plugins list``: every plugin the hub found, what it provides, and what went wrong."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from wirehub.cli.errors import load_settings
from wirehub.cli.text import escape, json_text

if TYPE_CHECKING:
    from wirehub.plugins import PluginReport, Registry

HEADERS = ("PLUGIN", "DISTRIBUTION", "STATE", "NODE TYPES", "CREDENTIAL TYPES")


def _cells(report: PluginReport) -> tuple[list[str], ...]:
    distribution = " ".join(part for part in (report.distribution, report.version) if part) or "-"
    return (
        [escape(report.name)],
        [escape(distribution)],
        [report.state.value],
        [escape(ref) for ref in report.node_types] or ["-"],
        [escape(name) for name in report.credential_types] or ["-"],
    )


def render_table(reports: Sequence[PluginReport]) -> str:
    """The plugin reports as a text table; a row's errors follow it, indented."""
    rows = [_cells(report) for report in reports]
    widths = [len(header) for header in HEADERS]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], *(len(line) for line in cell))

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()

    out = [line(HEADERS)]
    for report, row in zip(reports, rows, strict=True):
        for i in range(max(len(cell) for cell in row)):
            out.append(line([cell[i] if i < len(cell) else "" for cell in row]))
        out.extend(f"  error: {escape(error)}" for error in report.errors)
    return "\n".join(out)


def summary(registry: Registry) -> str:
    """One line: how many plugins in each state, node types, and health."""
    counts: dict[str, int] = {}
    for report in registry.plugins:
        counts[report.state.value] = counts.get(report.state.value, 0) + 1
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "none"
    node_types = sum(len(report.node_types) for report in registry.plugins)
    health = "healthy" if registry.healthy else f"{len(registry.problems())} problem(s)"
    return f"{len(registry.plugins)} plugin(s): {states}; {node_types} node type(s); {health}"


@click.group("plugins")
def plugins_group() -> None:
    """Inspect the installed plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the plugin reports as JSON.")
@click.option("--check", is_flag=True, help="Exit 1 when a plugin failed or had a type rejected.")
def plugins_list(as_json: bool, check: bool) -> None:
    """List every plugin: distribution, node and credential types, state and errors.

    The allow and deny lists come from WIREHUB_PLUGINS_ALLOW and WIREHUB_PLUGINS_DENY,
    as for every other hub command.
    """

    from wirehub.plugins import load_registry

    settings = load_settings()
    registry = load_registry(allow=frozenset(settings.plugins_allow) or None, deny=frozenset(settings.plugins_deny))
    if as_json:
        document = {"healthy": registry.healthy, "plugins": registry.plugins}
        sys.stdout.write(json_text(document) + "\n")
    else:
        click.echo(render_table(registry.plugins))
        click.echo()
        click.echo(summary(registry))
    if check and not registry.healthy:
        sys.exit(1)
