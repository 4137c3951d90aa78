"""The workflow definition language: the JSON a person writes, as typed Structs.

These Structs are the single source of the language: the parser decodes
into them, and the published JSON Schema (``docs/definition.schema.json``) is
generated from them.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from hub.engine import limits

StepId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="Stable id of a step: lowercase letters, digits and _; never a display name.",
    ),
]
ExpressionText = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=limits.MAX_EXPRESSION_LENGTH,
        description="A JMESPath expression evaluated against the step's scope.",
    ),
]
Seconds = Annotated[
    float,
    msgspec.Meta(gt=0, le=limits.MAX_TIMEOUT_SECONDS, description="A duration in seconds."),
]
NeedRef = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z][a-z0-9_]{0,63}(:[a-z][a-z0-9_]{0,63})?$",
        description='A step this one waits for: "step_id", or "step_id:branch" for a branch of a routing step.',
    ),
]


class RetryPolicy(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """How a failed attempt is retried.

    The delay before attempt ``n + 1`` is
    ``min(interval_seconds * backoff_rate ** (n - 1), max_delay_seconds)``,
    reduced by up to ``jitter`` of itself at random, and never below a
    ``retry_after`` the failing node asked for (itself capped at
    ``max_delay_seconds``). Errors a node marks non-retryable never retry.
    """

    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=limits.MAX_ATTEMPTS)] = 3
    interval_seconds: Annotated[float, msgspec.Meta(ge=0, le=limits.MAX_RETRY_DELAY_SECONDS)] = 1.0
    backoff_rate: Annotated[float, msgspec.Meta(ge=1, le=limits.MAX_BACKOFF_RATE)] = 2.0
    max_delay_seconds: Annotated[float, msgspec.Meta(ge=0, le=limits.MAX_RETRY_DELAY_SECONDS)] = 300.0
    jitter: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.0
    retry_on: Annotated[list[str], msgspec.Meta(min_length=1, max_length=32)] = msgspec.field(
        default_factory=lambda: ["*"]
    )
    """Error kinds that retry; ``"*"`` is every retryable kind. A kind ``"http"`` matches ``"http.status"``."""


class Catch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Routes a failed step to a handler step instead of failing the execution."""

    next: StepId
    errors: Annotated[list[str], msgspec.Meta(min_length=1, max_length=32)] = msgspec.field(
        default_factory=lambda: ["*"]
    )
    """Error kinds this route catches; ``"*"`` catches every kind."""


class Step(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One step of a workflow: a node type, its config, and where its input comes from."""

    id: StepId
    type: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
            description="Node type name, <plugin>.<action>.",
        ),
    ]
    type_version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Version of the node type the definition was written for; filled in when saved."""
    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    input: ExpressionText | dict[str, ExpressionText] | None = None
    """The step's input: one expression, or an object of expressions. Omitted: the whole scope."""
    needs: Annotated[list[NeedRef], msgspec.Meta(max_length=limits.MAX_NEEDS)] = msgspec.field(
        default_factory=list
    )
    timeout_seconds: Seconds | None = None
    retry: RetryPolicy | None = None
    catch: Annotated[list[Catch], msgspec.Meta(max_length=16)] = msgspec.field(default_factory=list)
    credential: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class Workflow(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A workflow definition: steps joined by ``needs``, run as a graph."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    steps: Annotated[list[Step], msgspec.Meta(min_length=1, max_length=limits.MAX_STEPS)]
    description: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    input_schema: dict[str, Any] | None = None
    """JSON Schema (2020-12) the execution input must match."""
    output: ExpressionText | dict[str, ExpressionText] | None = None
    """The execution's output: an expression over the final scope. Omitted: every step's output."""
    timeout_seconds: Seconds | None = None
