"""The plugin manager: pluggy, with each entry point loaded on its own.

pluggy's ``load_setuptools_entrypoints`` stops at the first plugin that fails
to import. Here every entry point of the ``hub`` group is imported and
registered separately, so a broken plugin is recorded (and logged) and the
others still load.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from importlib.metadata import Distribution, EntryPoint, distributions

import pluggy

from wirehub.plugins.report import PluginRecord, PluginState
from wirehub_sdk.host import PROJECT_NAME, hookspecs

log = logging.getLogger("wirehub.plugins")

BUILTIN_PLUGINS: tuple[str, ...] = ("core",)
"""Loaded before every other plugin, so no third party can claim their names first."""


def describe_error(exc: BaseException) -> str:
    """``"TypeName: message"``, the form errors take in plugin reports."""
    return f"{type(exc).__name__}: {exc}"


def plugin_name_of(plugin: object) -> str:
    """The name a plugin object is registered under when none is given."""
    name = getattr(plugin, "__name__", None)
    return name if isinstance(name, str) else type(plugin).__name__


def _discover(group: str) -> tuple[list[EntryPoint], list[tuple[Distribution, Exception]]]:
    """The entry points of ``group``, and the distributions whose entry points could not be read.

    Like ``importlib.metadata.entry_points``, the first distribution of a name
    on ``sys.path`` wins; unlike it, one distribution with a malformed
    ``entry_points.txt`` does not stop discovery.
    """
    seen: set[str] = set()
    found: list[EntryPoint] = []
    broken: list[tuple[Distribution, Exception]] = []
    for dist in distributions():
        key = re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower()
        if key in seen:
            continue
        seen.add(key)
        try:
            found.extend(dist.entry_points.select(group=group))
        except Exception as exc:
            if f"[{group}]" in (dist.read_text("entry_points.txt") or ""):
                broken.append((dist, exc))
    return found, broken


def _load_order(entry_point: EntryPoint) -> tuple[bool, str, str]:
    dist = entry_point.dist.name if entry_point.dist is not None else ""
    return (entry_point.name not in BUILTIN_PLUGINS, entry_point.name, dist)


class HubPluginManager(pluggy.PluginManager):
    """A pluggy manager for the hub's hooks that keeps a record of every plugin.

    Args:
        allow: Plugin names that may load; ``None`` allows every plugin.
        deny: Plugin names that never load. Deny wins over allow.
    """

    def __init__(self, *, allow: frozenset[str] | None = None, deny: frozenset[str] = frozenset()) -> None:
        super().__init__(PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.allow = allow
        self.deny = deny
        self._records: list[PluginRecord] = []
        self._by_name: dict[str, PluginRecord] = {}

    @property
    def records(self) -> list[PluginRecord]:
        """Every plugin met, in load order, blocked and failed ones included."""
        return list(self._records)

    def record(self, name: str) -> PluginRecord:
        """The record of the plugin registered (or blocked) as ``name``. Raises ``KeyError``."""
        return self._by_name[name]

    def is_allowed(self, name: str) -> bool:
        """Whether the allow/deny lists let the plugin ``name`` load."""
        return name not in self.deny and (self.allow is None or name in self.allow)

    def add_plugin(
        self,
        plugin: object,
        name: str | None = None,
        *,
        distribution: str | None = None,
        version: str | None = None,
    ) -> PluginRecord:
        """Registers an already imported plugin (a module, class or instance).

        A plugin object that is already registered (say, installed and also
        passed explicitly) is not registered twice: its record is returned.

        Args:
            plugin: The object holding the ``@hookimpl`` functions.
            name: The plugin's name; by default the module's or class's name.
            distribution: The distribution it comes from, when known.
            version: That distribution's version.
        """
        if self.is_registered(plugin):
            registered = self.get_name(plugin)
            if registered is not None and registered in self._by_name:
                return self._by_name[registered]
        record = self._admit(name or plugin_name_of(plugin), distribution, version)
        if record.state is PluginState.OK:
            self._register(record, plugin)
        return record

    def load_entry_points(self) -> None:
        """Imports and registers every plugin of the ``hub`` entry-point group.

        Built-in plugins come first, then the others by name. Blocked plugins
        are not imported; a plugin that fails to import is recorded as failed,
        and so is a distribution whose entry points cannot be read (under its
        distribution name, its plugin names being unknown).
        """
        found, broken = _discover(PROJECT_NAME)
        for entry_point in sorted(found, key=_load_order):
            dist = entry_point.dist
            record = self._admit(
                entry_point.name,
                dist.name if dist is not None else None,
                dist.version if dist is not None else None,
            )
            if record.state is not PluginState.OK:
                continue
            try:
                plugin = entry_point.load()
            except Exception as exc:
                record.fail(f"failed to load {entry_point.value!r}: {describe_error(exc)}", exc=exc)
                continue
            self._register(record, plugin)
        for unreadable, error in broken:
            name = unreadable.metadata["Name"] or "?"
            record = self._admit(name, name, unreadable.version)
            if record.state is PluginState.OK:
                record.fail(f"its entry points could not be read: {describe_error(error)}", exc=error)

    def report_unmatched_hookimpls(self) -> None:
        """Records every hook implementation that matches no hub hook against its plugin.

        ``check_pending`` raises on the first one; this goes on to attribute
        each of them, so one typo does not hide another.
        """
        try:
            self.check_pending()
        except pluggy.PluginValidationError:
            known = ", ".join(sorted(name for name in vars(hookspecs) if name.startswith(f"{PROJECT_NAME}_")))
            for hook_name, caller in vars(self.hook).items():
                if hook_name.startswith("_") or caller.has_spec():
                    continue
                for impl in caller.get_hookimpls():
                    if not impl.optionalhook:
                        self._by_name[impl.plugin_name].fail(
                            f"hook implementation {hook_name!r} matches no hub hook (known hooks: {known})"
                        )

    def _admit(self, name: str, distribution: str | None, version: str | None) -> PluginRecord:
        record = PluginRecord(name, distribution, version)
        self._records.append(record)
        if name in self._by_name:
            taken = self._by_name[name]
            owner = f"distribution {taken.distribution!r}" if taken.distribution else "another plugin"
            record.fail(f"plugin name {name!r} is already taken by {owner}")
        elif not self.is_allowed(name):
            record.state = PluginState.BLOCKED
            self._by_name[name] = record
            self.set_blocked(name)
            log.info("plugin %r is blocked by the allow/deny lists", name)
        else:
            self._by_name[name] = record
        return record

    def _register(self, record: PluginRecord, plugin: object) -> None:
        try:
            self.register(plugin, name=record.name)
        except Exception as exc:
            record.fail(f"could not be registered: {describe_error(exc)}", exc=exc)
            return
        if not self.get_hookcallers(plugin):
            record.fail("implements none of the hub's hooks (is `@hookimpl` from wirehub_sdk missing?)")


def get_plugin_manager(
    *,
    extra_plugins: Iterable[object] = (),
    allow: frozenset[str] | None = None,
    deny: frozenset[str] = frozenset(),
    load_entry_points: bool = True,
) -> HubPluginManager:
    """Builds the plugin manager the API, the worker and the CLI all use.

    Nothing is loaded at import time; each call builds a new manager. Use
    ``wirehub.plugins.load_registry`` for the cached registry of a process.

    Args:
        extra_plugins: Plugin objects registered after the installed ones
            (tests pass their plugins here).
        allow: Plugin names that may load; ``None`` allows all.
        deny: Plugin names that never load (they are not even imported).
        load_entry_points: Whether to load the installed plugins of the
            ``hub`` entry-point group. Tests pass ``False`` unless they mean
            to test what is installed.

    Returns:
        The manager, with a record of every plugin in ``records``.
    """
    pm = HubPluginManager(allow=allow, deny=deny)
    if load_entry_points:
        pm.load_entry_points()
    for plugin in extra_plugins:
        pm.add_plugin(plugin)
    pm.report_unmatched_hookimpls()
    return pm
