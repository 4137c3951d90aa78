"""The catalogue of installed node types: versions, JSON Schemas, and the plugin providing each with its health.

It is what ``wirehub nodes list`` prints, from the same registry
(``Registry.node_type_infos`` and ``Registry.plugins``) of this API process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath

from wirehub.api.problems import ApiError
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.plugins import NodeTypeInfo, PluginReport, Registry

BASE = "/api/v1/node-types"
TAGS = ["node types"]
NodeTypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PluginOut(msgspec.Struct, frozen=True):
    """The plugin that provides a node type, as this process loaded it.

    Attributes:
        name: Its name (the entry point's).
        distribution: The distribution that declares it, and its version, when known.
        state: ``ok``, or ``failed`` (``errors`` says why; the node types it registered still run).
        healthy: ``false`` when it failed.
    """

    name: str
    distribution: str | None
    version: str | None
    state: str
    healthy: bool
    errors: list[str]


class NodeTypeVersionOut(msgspec.Struct, frozen=True):
    """One version of a node type, with its three JSON Schemas.

    Attributes:
        credential_types: The credential types a step of this version may use.
        config_schema: JSON Schema of its ``config``.
        input_schema: JSON Schema of the input it runs with.
        output_schema: JSON Schema of what it returns.
    """

    version: int
    title: str
    description: str
    credential_types: list[str]
    config_schema: dict[str, Any]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


class NodeTypeOut(msgspec.Struct, frozen=True):
    """A node type: every installed version, newest last, and its plugin.

    Attributes:
        latest_version: What a step without ``type_version`` is pinned to when saved.
    """

    name: str
    title: str
    latest_version: int
    plugin: PluginOut
    versions: list[NodeTypeVersionOut]


def _plugin(name: str, reports: Sequence[PluginReport]) -> PluginOut:
    report = next((r for r in reports if r.name == name), None)
    if report is None:  # registered in code (tests, `wirehub run` with extra plugins): no report
        return PluginOut(name=name, distribution=None, version=None, state="ok", healthy=True, errors=[])
    return PluginOut(
        name=report.name,
        distribution=report.distribution,
        version=report.version,
        state=str(report.state),
        healthy=report.healthy,
        errors=list(report.errors),
    )


def catalogue(services: HubServices) -> list[NodeTypeOut]:
    """Every node type this process has installed, by name."""
    registry = services.registry
    if not isinstance(registry, Registry):
        return []
    by_name: dict[str, list[NodeTypeInfo]] = {}
    for info in registry.node_type_infos():
        by_name.setdefault(info.name, []).append(info)
    reports = registry.plugins
    out = []
    for name, infos in sorted(by_name.items()):
        infos.sort(key=lambda info: info.version)
        latest = infos[-1]
        out.append(
            NodeTypeOut(
                name=name,
                title=latest.title,
                latest_version=latest.version,
                plugin=_plugin(latest.plugin, reports),
                versions=[
                    NodeTypeVersionOut(
                        version=info.version,
                        title=info.title,
                        description=info.description,
                        credential_types=list(info.credential_types),
                        config_schema=info.config_schema,
                        input_schema=info.input_schema,
                        output_schema=info.output_schema,
                    )
                    for info in infos
                ],
            )
        )
    return out


@get(BASE, opt=needs("node:read", anywhere=True), tags=TAGS, summary="List the installed node types")
async def list_node_types(services: NamedDependency[HubServices]) -> list[NodeTypeOut]:
    """Every installed node type with its versions, their JSON Schemas, and its plugin's health."""
    return catalogue(services)


@get(BASE + "/{name:str}", opt=needs("node:read", anywhere=True), tags=TAGS, summary="Get a node type")
async def get_node_type(name: FromPath[NodeTypeName], services: NamedDependency[HubServices]) -> NodeTypeOut:
    """One installed node type; a 404 says why it is missing when the hub knows (a plugin that failed to load)."""
    for node_type in catalogue(services):
        if node_type.name == name:
            return node_type
    registry = services.registry
    reason = registry.unavailable_reason(name) if isinstance(registry, Registry) else None
    raise ApiError(404, "not-found", f"no node type {name[:200]!r} is installed" + (f": {reason}" if reason else ""))
