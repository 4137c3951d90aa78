"""What the hub knows about each plugin: loaded, failed or blocked, and why.

These records feed ``hub plugins list``, the health endpoint and the log.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

import msgspec

log = logging.getLogger("hub.plugins")


class PluginState(enum.StrEnum):
    """Where a plugin got to while the hub loaded it."""

    OK = "ok"
    """Imported and registered; its hooks were called (see ``errors`` for anything rejected)."""
    FAILED = "failed"
    """Could not be imported or registered, or one of its hooks raised."""
    BLOCKED = "blocked"
    """Left out by the allow/deny lists; never imported."""


class NodeTypeRef(msgspec.Struct, frozen=True, order=True):
    """A node type by name and version."""

    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class PluginReport(msgspec.Struct, frozen=True):
    """One plugin as the hub loaded it.

    Attributes:
        name: The plugin's name: its entry-point name, or the name it was
            registered under.
        distribution: The distribution that declares it, when known.
        version: That distribution's version, when known.
        state: ``ok``, ``failed`` or ``blocked``.
        errors: Every problem found, attributed to this plugin: import
            errors, hooks that raised, rejected node or credential types,
            hook implementations that match no hook.
        node_types: The node types it registered (rejected ones excluded).
        credential_types: The credential types it registered.
    """

    name: str
    distribution: str | None
    version: str | None
    state: PluginState
    errors: tuple[str, ...] = ()
    node_types: tuple[NodeTypeRef, ...] = ()
    credential_types: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        """True when the plugin is blocked on purpose, or loaded without any problem."""
        return self.state is PluginState.BLOCKED or (self.state is PluginState.OK and not self.errors)


@dataclass(slots=True)
class PluginRecord:
    """The mutable record kept while a plugin is loaded and its hooks are called."""

    name: str
    distribution: str | None = None
    version: str | None = None
    state: PluginState = PluginState.OK
    errors: list[str] = field(default_factory=list)
    node_types: list[NodeTypeRef] = field(default_factory=list)
    credential_types: list[str] = field(default_factory=list)

    def fail(self, message: str, *, exc: BaseException | None = None) -> None:
        """Marks the plugin failed with ``message``, and logs it at ERROR."""
        self.state = PluginState.FAILED
        self.problem(message, exc=exc)

    def problem(self, message: str, *, exc: BaseException | None = None) -> None:
        """Records a problem that leaves the plugin loaded, and logs it at ERROR."""
        self.errors.append(message)
        log.error("plugin %r: %s", self.name, message, exc_info=exc)

    def freeze(self) -> PluginReport:
        """The record as an immutable report."""
        return PluginReport(
            name=self.name,
            distribution=self.distribution,
            version=self.version,
            state=self.state,
            errors=tuple(self.errors),
            node_types=tuple(self.node_types),
            credential_types=tuple(self.credential_types),
        )
