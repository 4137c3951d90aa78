"""``wirehub nodes``: the node-type catalogue, with each type's config, input and output JSON Schemas."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from wirehub.cli.errors import CliError, load_settings
from wirehub.cli.text import escape, json_text

if TYPE_CHECKING:
    from wirehub.plugins import NodeTypeInfo, Registry

HEADERS = ("NODE TYPE", "VERSIONS", "PLUGIN", "TITLE")


def _registry() -> Registry:
    from wirehub.plugins import load_registry

    settings = load_settings()
    return load_registry(allow=frozenset(settings.plugins_allow) or None, deny=frozenset(settings.plugins_deny))


def _write_json(value: object) -> None:
    sys.stdout.write(json_text(value, pretty=True) + "\n")


def render_catalogue(infos: Sequence[NodeTypeInfo]) -> str:
    """One row per node type: its versions, plugin and title (of the latest version)."""
    latest: dict[str, NodeTypeInfo] = {}
    versions: dict[str, list[int]] = {}
    for info in infos:
        versions.setdefault(info.name, []).append(info.version)
        if info.name not in latest or info.version > latest[info.name].version:
            latest[info.name] = info
    rows = [
        [escape(name), ", ".join(str(v) for v in sorted(versions[name])), escape(info.plugin), escape(info.title)]
        for name, info in sorted(latest.items())
    ]
    widths = [max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(HEADERS)]
    lines = [HEADERS, *rows]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def render_node_type(info: NodeTypeInfo, versions: Sequence[int]) -> str:
    """A node type for a person: its metadata, then its three schemas as indented JSON."""
    import msgspec

    lines = [
        f"{escape(info.name)} v{info.version}: {escape(info.title)}",
        f"  plugin: {escape(info.plugin)}",
        f"  versions: {', '.join(str(v) for v in versions)}",
        f"  credential types: {', '.join(escape(c) for c in info.credential_types) or '-'}",
        "",
        escape(info.description),
    ]
    for label, schema in (("config", info.config_schema), ("input", info.input_schema), ("output", info.output_schema)):
        text = msgspec.json.format(msgspec.json.encode(schema)).decode()
        lines += ["", f"{label} schema:", *(f"  {escape(line)}" for line in text.splitlines())]
    return "\n".join(lines)


@click.group("nodes")
def nodes_group() -> None:
    """Browse the installed node types and their schemas."""


@nodes_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print every version of every node type, schemas included.")
def nodes_list(as_json: bool) -> None:
    """List the installed node types: versions, plugin and title."""
    infos = _registry().node_type_infos()
    if as_json:
        _write_json({"node_types": infos})
    else:
        click.echo(render_catalogue(infos))


@nodes_group.command("show")
@click.argument("name")
@click.option("--version", "version", type=click.IntRange(min=1), help="The version to show (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Print the node type as JSON.")
def nodes_show(name: str, version: int | None, as_json: bool) -> None:
    """Show one node type: title, description, plugin, versions, and its config, input and output JSON Schemas."""
    registry = _registry()
    matching = [info for info in registry.node_type_infos() if info.name == name]
    if not matching:
        reason = registry.unavailable_reason(name)
        raise CliError(
            f"no node type {name!r} is installed" + (f": {reason}" if reason else " (see wirehub nodes list)")
        )
    versions = sorted(info.version for info in matching)
    by_version = {info.version: info for info in matching}
    chosen = by_version.get(version if version is not None else versions[-1])
    if chosen is None:
        raise CliError(f"{name} has no version {version}; installed: {', '.join(str(v) for v in versions)}")
    if as_json:
        _write_json(chosen)
    else:
        click.echo(render_node_type(chosen, versions))
