"""The node-type registry: what the plugins provide, checked once at startup.

Each plugin's hook implementation is called on its own, so one that raises
neither hides the others nor goes unattributed. Every returned class is
checked; malformed ones and names already taken are rejected and reported
against the plugin that offered them. None of this stops the hub: workflows
that need a missing node type fail validation with the reason.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import msgspec

from wirehub.plugins.manager import HubPluginManager, describe_error, get_plugin_manager
from wirehub.plugins.report import NodeTypeRef, PluginRecord, PluginReport, PluginState
from wirehub_sdk import CredentialType, NodeType
from wirehub_sdk.host import InvalidTypeError, check_credential_type, check_node_type, claimed_name

if TYPE_CHECKING:
    from wirehub.engine import NodeCatalog


class NodeTypeInfo(msgspec.Struct, frozen=True):
    """A node type as catalogues show it.

    Attributes:
        name: The node type's name.
        version: Its version.
        title: A short human name.
        description: One paragraph.
        plugin: The plugin that provides it.
        credential_types: Credential types a step of this type may attach.
        config_schema: JSON Schema of ``Config``.
        input_schema: JSON Schema of ``Input``.
        output_schema: JSON Schema of ``Output``.
    """

    name: str
    version: int
    title: str
    description: str
    plugin: str
    credential_types: tuple[str, ...]
    config_schema: dict[str, Any]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


def _hook_results(
    pm: HubPluginManager, hook_name: str, failed: set[str]
) -> Iterator[tuple[PluginRecord, list[object]]]:
    """Calls each loaded plugin's implementation of ``hook_name`` on its own, in load order.

    Plugins whose implementation raised or returned something unusable are
    added to ``failed``.
    """
    by_plugin: dict[str, list[Any]] = {}
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        by_plugin.setdefault(impl.plugin_name, []).append(impl)
    for record in pm.records:
        if record.name not in by_plugin or pm.record(record.name) is not record:
            continue  # not registered: blocked, failed to import, or a duplicate name
        for impl in by_plugin[record.name]:
            if impl.hookwrapper or impl.wrapper:
                record.fail(f"{hook_name} is implemented as a wrapper, which the hub does not support")
                failed.add(record.name)
                continue
            try:
                result = impl.function()
            except Exception as exc:
                record.fail(f"{hook_name}() raised {describe_error(exc)}", exc=exc)
                failed.add(record.name)
                continue
            if result is None:
                continue
            if not isinstance(result, list | tuple):
                record.fail(f"{hook_name}() returned {result!r}; expected a list of classes")
                failed.add(record.name)
                continue
            yield record, list(result)


def plugin_namespace(name: str) -> str:
    """The node-type namespace a plugin or distribution name stands for.

    ``acme``, ``Acme`` and ``wirehub-plugin-acme`` all stand for ``acme``.
    """
    normalized = re.sub(r"[-.]+", "_", name.lower())
    return normalized.removeprefix("wirehub_plugin_")


def _registered(pm: HubPluginManager, record: PluginRecord) -> bool:
    return pm.get_plugin(record.name) is not None and pm.record(record.name) is record


class Registry:
    """The node and credential types installed in this process.

    Implements ``wirehub.engine.validation.catalog.NodeCatalog``. Build it with
    ``build_registry`` (explicit plugins, for tests and embedding) or
    ``load_registry`` (the installed plugins, cached per process).

    Args:
        pm: A plugin manager whose plugins are loaded; its hooks are called
            here, once.
    """

    def __init__(self, pm: HubPluginManager) -> None:
        self._node_types: dict[str, dict[int, type[NodeType]]] = {}
        self._node_owners: dict[tuple[str, int], str] = {}
        self._instances: dict[tuple[str, int], NodeType] = {}
        self._credential_types: dict[str, CredentialType] = {}
        self._credential_owners: dict[str, str] = {}
        self._reasons: dict[str, list[str]] = {}
        self._claims: dict[str, set[str]] = {}
        unknown: set[str] = set()
        self._collect_node_types(pm, unknown)
        self._collect_credential_types(pm)
        self._reports = [record.freeze() for record in pm.records]
        self._failed: list[tuple[frozenset[str], str]] = [
            (self._namespaces(r), f"plugin {r.name!r} failed: {'; '.join(r.errors)}")
            for r in pm.records
            if r.state is PluginState.FAILED and (r.name in unknown or not _registered(pm, r))
        ]

    def _namespaces(self, record: PluginRecord) -> frozenset[str]:
        """The namespaces a plugin answers for: its own name's, and those of every name it offered."""
        names = self._claims.get(record.name, set()) | {ref.name for ref in record.node_types}
        names |= set(record.credential_types)
        namespaces = {name.partition(".")[0] for name in names}
        namespaces |= {plugin_namespace(record.name)}
        if record.distribution:
            namespaces.add(plugin_namespace(record.distribution))
        return frozenset(namespaces)

    def _reject(self, record: PluginRecord, name: str | None, message: str) -> None:
        record.fail(message)
        if name is not None:
            self._reasons.setdefault(name, []).append(message)
            self._claims.setdefault(record.name, set()).add(name)

    def _collect_node_types(self, pm: HubPluginManager, unknown: set[str]) -> None:
        for record, items in _hook_results(pm, "wirehub_node_types", unknown):
            for item in items:
                try:
                    cls = check_node_type(item)
                except InvalidTypeError as exc:
                    self._reject(record, claimed_name(item), f"node type from plugin {record.name!r} rejected: {exc}")
                    continue
                key = (cls.name, cls.version)
                owner = self._node_owners.get(key)
                if owner is not None:
                    message = f"{cls.name} v{cls.version} from plugin {record.name!r} conflicts with plugin {owner!r}"
                    self._reject(record, cls.name, message)
                    continue
                try:
                    instance = cls()
                except Exception as exc:
                    message = f"{cls.name} v{cls.version} from plugin {record.name!r} could not be created: "
                    self._reject(record, cls.name, message + describe_error(exc))
                    continue
                self._node_types.setdefault(cls.name, {})[cls.version] = cls
                self._node_owners[key] = record.name
                self._instances[key] = instance
                record.node_types.append(NodeTypeRef(cls.name, cls.version))

    def _collect_credential_types(self, pm: HubPluginManager) -> None:
        for record, items in _hook_results(pm, "wirehub_credential_types", set()):
            for item in items:
                try:
                    cls = check_credential_type(item)
                except InvalidTypeError as exc:
                    message = f"credential type from plugin {record.name!r} rejected: {exc}"
                    self._reject(record, claimed_name(item), message)
                    continue
                owner = self._credential_owners.get(cls.name)
                if owner is not None:
                    message = f"credential type {cls.name} from plugin {record.name!r} conflicts with plugin {owner!r}"
                    self._reject(record, cls.name, message)
                    continue
                try:
                    instance = cls()
                except Exception as exc:
                    message = f"credential type {cls.name} from plugin {record.name!r} could not be created: "
                    self._reject(record, cls.name, message + describe_error(exc))
                    continue
                self._credential_types[cls.name] = instance
                self._credential_owners[cls.name] = record.name
                record.credential_types.append(cls.name)

    # NodeCatalog

    def node_type_versions(self, name: str) -> Mapping[int, type[NodeType]]:
        """Every installed version of the node type ``name``; empty when none is."""
        return MappingProxyType(self._node_types.get(name, {}))

    def unavailable_reason(self, name: str) -> str | None:
        """Why ``name`` is missing (or lacks a version), as far as the hub knows.

        A rejected claim on ``name`` (a duplicate, a malformed class) names the
        plugin and the problem. Otherwise, when ``name`` is not installed, a
        plugin of the name's namespace whose node types are unknown (it failed
        to load, or its ``wirehub_node_types`` raised) is named with its
        errors, and so is a blocked plugin of that namespace. A plugin's
        namespaces are its own name's, its distribution's (without a
        ``wirehub-plugin-`` prefix) and those of every name it offered: a
        broken plugin is never blamed for another plugin's names, nor for a
        typo.
        """
        if name in self._reasons:
            return "; ".join(self._reasons[name])
        if name in self._node_types:
            return None
        namespace = name.partition(".")[0]
        notes = [message for namespaces, message in self._failed if namespace in namespaces]
        notes += [
            f"plugin {r.name!r} is blocked by the allow/deny lists"
            for r in self._reports
            if r.state is PluginState.BLOCKED and r.name == namespace
        ]
        if not notes:
            return None
        return "no installed plugin provides it; " + "; ".join(notes)

    # Running

    def node_type_names(self) -> list[str]:
        """Every installed node type's name, sorted."""
        return sorted(self._node_types)

    def node(self, name: str, version: int) -> NodeType:
        """The one instance of node type ``name`` at ``version``. Raises ``KeyError``."""
        return self._instances[(name, version)]

    def latest_version(self, name: str) -> int:
        """The highest installed version of ``name``. Raises ``KeyError``."""
        versions = self._node_types.get(name)
        if not versions:
            raise KeyError(name)
        return max(versions)

    def credential_type(self, name: str) -> CredentialType:
        """The credential-type instance called ``name``. Raises ``KeyError``."""
        return self._credential_types[name]

    def credential_type_names(self) -> list[str]:
        """Every installed credential type's name, sorted."""
        return sorted(self._credential_types)

    # Reporting

    @property
    def plugins(self) -> list[PluginReport]:
        """Every plugin met while loading, in load order."""
        return list(self._reports)

    @property
    def healthy(self) -> bool:
        """False when any plugin failed or any of its types was rejected."""
        return all(report.healthy for report in self._reports)

    def problems(self) -> list[str]:
        """Every problem found, each prefixed with its plugin's name."""
        return [f"plugin {r.name!r}: {error}" for r in self._reports for error in r.errors]

    @cached_property
    def _infos(self) -> tuple[NodeTypeInfo, ...]:
        infos = []
        for (name, version), owner in sorted(self._node_owners.items()):
            cls = self._node_types[name][version]
            infos.append(
                NodeTypeInfo(
                    name=name,
                    version=version,
                    title=cls.title,
                    description=cls.description,
                    plugin=owner,
                    credential_types=cls.credential_types,
                    config_schema=msgspec.json.schema(cls.Config),
                    input_schema=msgspec.json.schema(cls.Input),
                    output_schema=msgspec.json.schema(cls.Output),
                )
            )
        return tuple(infos)

    def node_type_infos(self) -> list[NodeTypeInfo]:
        """Every installed node type with its schemas, sorted by name and version."""
        return list(self._infos)


if TYPE_CHECKING:

    def _implements(registry: Registry) -> NodeCatalog:
        return registry  # the type checker proves Registry meets the engine's protocol


def build_registry(
    extra_plugins: Iterable[object] = (),
    *,
    allow: frozenset[str] | None = None,
    deny: frozenset[str] = frozenset(),
    load_entry_points: bool = False,
) -> Registry:
    """Builds a registry from explicit plugin objects, and the installed ones if asked.

    Args:
        extra_plugins: Modules, classes or instances carrying ``@hookimpl``
            functions, registered after the installed plugins.
        allow: Plugin names that may load; ``None`` allows all.
        deny: Plugin names that never load.
        load_entry_points: Also load the installed plugins. Off by default,
            so tests see only what they pass.
    """
    pm = get_plugin_manager(extra_plugins=extra_plugins, allow=allow, deny=deny, load_entry_points=load_entry_points)
    return Registry(pm)


_cache: dict[tuple[frozenset[str] | None, frozenset[str]], Registry] = {}
_cache_lock = threading.Lock()


def load_registry(*, allow: frozenset[str] | None = None, deny: frozenset[str] = frozenset()) -> Registry:
    """The registry of the installed plugins, built on first use and kept for the process.

    The API, the worker and the CLI all call this; nothing is loaded at import.

    Args:
        allow: Plugin names that may load; ``None`` allows all.
        deny: Plugin names that never load (not even imported).
    """
    key = (allow, deny)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = build_registry(allow=allow, deny=deny, load_entry_points=True)
        return _cache[key]


def clear_registry_cache() -> None:
    """Forgets the cached registries, so the next ``load_registry`` loads again."""
    with _cache_lock:
        _cache.clear()
