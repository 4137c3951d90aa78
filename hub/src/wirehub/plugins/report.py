"""What the hub knows about each plugin: loaded, failed or blocked, and why.

These records feed ``wirehub plugins list``, the health endpoint and the log.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

import msgspec

log = logging.getLogger("wirehub.plugins")


class PluginState(enum.StrEnum):
    """Where a plugin got to while the hub loaded it."""

    OK = "ok"
    """Imported and registered, and everything it returned was accepted."""
    FAILED = "failed"
    """It did not import or register, a hook raised, or something it returned was
    rejected (``errors`` says what). Node types it registered regardless still run."""
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
            hook implementations that match no hook. Empty unless failed.
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
        """True unless the plugin failed: blocking one is a choice, not a problem."""
        return self.state is not PluginState.FAILED


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
        """Records a problem: the plugin is ``failed`` with ``message``, logged at ERROR."""
        self.state = PluginState.FAILED
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
