"""The node-type contract: what a plugin implements and what it is given."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import msgspec

if TYPE_CHECKING:
    from wirehub_sdk._http import EgressClient

Expression = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=4096,
        extra_json_schema={"format": "wirehub-expression"},
        description="A JMESPath expression, checked when the definition is validated.",
    ),
]
"""A config field that holds an expression.

The hub parses and checks every config field of this type when a definition
is validated (syntax, limits, and which steps it may read); the node
evaluates it at run time with ``NodeContext.evaluate``.
"""


class EmptyConfig(msgspec.Struct, forbid_unknown_fields=True):
    """The config of a node type that takes none."""


class NodeType:
    """Base class of every node type.

    Metadata lives in class attributes; the behaviour is one async
    ``execute``. The hub creates one instance per node type and version and
    calls ``execute`` concurrently, so keep no per-call state on ``self``.

    Class attributes:
        name: Namespaced name, ``<plugin>.<action>`` in lowercase.
        version: A positive integer; raise it when the config changes shape
            and ship a ``migrate_config`` from the previous version.
        title: A short human name.
        description: One paragraph for catalogues and docs.
        Config: A msgspec Struct for the step's ``config``.
        Input: The type of the step's mapped input (a Struct, or ``Any``).
        Output: The type ``execute`` returns (a Struct, or ``Any``). What
            ``execute`` returns is checked against it.
        credential_types: Names of credential types a step may attach.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Config: ClassVar[type[Any]] = EmptyConfig
    Input: ClassVar[Any] = Any
    Output: ClassVar[Any] = Any
    credential_types: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def branches(cls, config: Any) -> list[str] | None:
        """The branch names a routing node may choose, or ``None``.

        Called when a definition is validated, with the parsed config. A node
        type that returns a list must end ``execute`` with a ``Route`` naming
        one of them.
        """
        return None

    @classmethod
    def migrate_config(cls, from_version: int, config: dict[str, Any]) -> dict[str, Any] | None:
        """Upgrades a config saved with ``from_version`` to ``from_version + 1``.

        Return ``None`` when there is no migration from that version; the
        definition then fails validation with a message naming both versions.
        """
        return None

    async def execute(self, ctx: NodeContext, config: Any, input: Any) -> Any:
        """Runs one attempt of a step.

        Args:
            ctx: The attempt's context (logger, deadline, credentials...).
            config: The step's config, decoded into ``Config``.
            input: The step's mapped input, decoded into ``Input``.

        Returns:
            The step's output (of type ``Output``), a ``Route`` for routing
            node types, or a ``Wait`` to end the attempt and be woken later.

        Raises:
            NodeError: A subclass that says whether another attempt may help.
        """
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress report from a running node."""

    message: str
    fraction: float | None = None


def _no_progress(progress: Progress) -> None:
    return None


@dataclass(slots=True)
class NodeContext:
    """What one attempt of a step is given besides its config and input.

    Attributes:
        execution_id: The execution this attempt belongs to.
        step_id: The step's stable id in the definition.
        attempt: 1 for the first attempt, 2 for the first retry...
        idempotency_key: Stable across retries of the same step of the same
            execution. Pass it on to APIs that deduplicate requests.
        deadline: When this attempt times out (timezone-aware), or ``None``.
        logger: A logger bound to the execution, step and attempt.
        cancelled: Set when the step is cancelled; long work should check it.
        credential: The resolved fields of the step's credential, or ``None``.
            Secrets reach the node only while its step runs.
        http: An HTTP client with the hub's egress rules (and the step's
            credential applied when ``auth=ctx.credential_auth`` is passed).
    """

    execution_id: str
    step_id: str
    attempt: int
    idempotency_key: str
    logger: logging.LoggerAdapter[logging.Logger]
    http: EgressClient
    deadline: datetime | None = None
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    credential: Mapping[str, Any] | None = None
    credential_auth: Any = None
    evaluator: Callable[[str, Any], Any] | None = None
    progress_sink: Callable[[Progress], Awaitable[None] | None] = field(default=_no_progress)

    def evaluate(self, expression: str, data: Any) -> Any:
        """Evaluates a hub expression against ``data`` within the hub's bounds.

        Raises:
            ExpressionError: The expression failed or hit a bound.
        """
        from wirehub_sdk._errors import ExpressionError

        if self.evaluator is None:
            raise ExpressionError("no expression evaluator is attached to this context")
        return self.evaluator(expression, data)

    async def report_progress(self, message: str, fraction: float | None = None) -> None:
        """Reports progress; it shows in ``wirehub run`` and the execution's events."""
        result = self.progress_sink(Progress(message, fraction))
        if result is not None:
            await result
