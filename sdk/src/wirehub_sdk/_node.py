"""The node-type contract: what a plugin implements and what it is given."""

from __future__ import annotations

import asyncio
import logging
import sys
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic

import msgspec

from wirehub_sdk._results import Route, Wait

if sys.version_info >= (3, 13):
    from typing import TypeVar
else:  # type parameter defaults (PEP 696) before Python 3.13
    from typing_extensions import TypeVar

if TYPE_CHECKING:
    import httpx

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


ConfigT = TypeVar("ConfigT", default=Any)
InputT = TypeVar("InputT", default=Any)
OutputT = TypeVar("OutputT", default=Any)

DECLARED_TYPES = ("Config", "Input", "Output")
"""The class attributes that ``NodeType[ConfigT, InputT, OutputT]``'s arguments set, in order."""


def declared_types(cls: type) -> dict[str, Any]:
    """The types ``cls`` declares in its ``NodeType[...]`` base, by attribute name.

    Only a direct ``NodeType[...]`` base counts, and an argument that is still
    a type variable declares nothing.
    """
    for base in cls.__dict__.get("__orig_bases__", ()):
        if typing.get_origin(base) is NodeType:
            arguments = typing.get_args(base)
            return {
                attribute: argument
                for attribute, argument in zip(DECLARED_TYPES, arguments, strict=False)
                if not isinstance(argument, typing.TypeVar)
            }
    return {}


class NodeType(Generic[ConfigT, InputT, OutputT]):
    """Base class of every node type, generic in its config, input and output types.

    Subclass ``NodeType[MyConfig, MyInput, MyOutput]``: the three arguments
    become the class attributes ``Config``, ``Input`` and ``Output`` that the
    hub decodes and checks at run time, and a type checker holds ``execute``
    (and ``branches``) to them::

        class Shout(NodeType[ShoutConfig, str, ShoutOutput]):
            name = "acme.shout"

            async def execute(self, ctx: NodeContext, config: ShoutConfig, input: str) -> ShoutOutput:
                return ShoutOutput(input.upper() * config.times)

    ``Any`` is a valid argument (an ``Input`` of ``Any`` takes any JSON). A
    bare ``NodeType`` subclass has an ``EmptyConfig`` and any input and output,
    and nothing is checked statically.

    Metadata lives in class attributes; the behaviour is one async
    ``execute``. The hub creates one instance per node type and version and
    calls ``execute`` concurrently, so keep no per-call state on ``self``.

    Class attributes:
        name: Namespaced name, ``<plugin>.<action>`` in lowercase.
        version: A positive integer; raise it when the config changes shape
            and ship a ``migrate_config`` from the previous version.
        title: A short human name.
        description: One paragraph for catalogues and docs.
        Config: The msgspec Struct of the step's ``config`` (set from the
            first type argument).
        Input: The type of the step's mapped input (the second).
        Output: The type ``execute`` returns (the third). What ``execute``
            returns is checked against it at run time.
        credential_types: Names of credential types a step may attach.
        takes_default_input: Whether a step without an ``input`` mapping gets
            its default input (its sources' outputs, or the execution input
            for a root step). ``False`` for a node type that reads its input
            as parameters of what it does (``core.http`` sends a request
            built from it): such a step gets ``None`` unless it maps its input,
            so a neighbour's output never changes what it does by accident.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Config: ClassVar[type[Any]] = EmptyConfig
    Input: ClassVar[Any] = Any
    Output: ClassVar[Any] = Any
    credential_types: ClassVar[tuple[str, ...]] = ()
    takes_default_input: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The type arguments are the declaration; the attributes are what the hub reads at run time.
        # An attribute the class body sets itself wins here; the hub's checks reject a disagreement.
        for attribute, argument in declared_types(cls).items():
            if attribute not in cls.__dict__:
                setattr(cls, attribute, argument)

    @classmethod
    def branches(cls, config: ConfigT) -> list[str] | None:
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

    async def execute(self, ctx: NodeContext, config: ConfigT, input: InputT) -> OutputT | Route | Wait:
        """Runs one attempt of a step.

        Args:
            ctx: The attempt's context (logger, deadline, credentials...).
            config: The step's config, decoded into ``Config``.
            input: The step's mapped input, decoded into ``Input``.

        Returns:
            The step's output (an ``Output``), a ``Route`` for routing node
            types, or a ``Wait`` to end the attempt and be woken later. The
            output a ``Route`` or ``Wait`` carries is checked against
            ``Output`` at run time only.

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
        credential_auth: An httpx ``Auth`` that applies the step's credential
            to a request, or ``None``: pass it as ``auth=`` to ``http``.
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
    credential_auth: httpx.Auth | None = None
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
