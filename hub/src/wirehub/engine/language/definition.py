"""The workflow definition language: the JSON a person writes, as typed Structs.

These Structs are the single source of the language: the parser decodes
into them, and the published JSON Schema (``docs/definition.schema.json``) is
generated from them.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from wirehub.engine.language import limits

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
        description="A JMESPath expression evaluated against the scope (see docs/expressions.md).",
        extra_json_schema={"format": "wirehub-expression"},
    ),
]
Seconds = Annotated[
    float,
    msgspec.Meta(gt=0, le=limits.MAX_TIMEOUT_SECONDS, description="A duration in seconds."),
]
ErrorKind = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)$",
        max_length=200,
        description='An error kind such as "http" or "http.status"; "*" is every kind. '
        '"http" also matches "http.status" (prefix on dot boundaries).',
    ),
]
Duration = Annotated[
    float,
    msgspec.Meta(ge=0, le=limits.MAX_RETRY_DELAY_SECONDS, description="A delay in seconds."),
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

    max_attempts: Annotated[
        int,
        msgspec.Meta(ge=1, le=limits.MAX_ATTEMPTS, description="Attempts in all, the first included."),
    ] = 3
    interval_seconds: Annotated[Duration, msgspec.Meta(description="Delay before the second attempt.")] = 1.0
    backoff_rate: Annotated[
        float,
        msgspec.Meta(ge=1, le=limits.MAX_BACKOFF_RATE, description="Factor by which each delay grows."),
    ] = 2.0
    max_delay_seconds: Annotated[Duration, msgspec.Meta(description="Longest delay between attempts.")] = 300.0
    jitter: Annotated[
        float,
        msgspec.Meta(ge=0, le=1, description="Fraction by which a delay may be shortened at random."),
    ] = 0.0
    retry_on: Annotated[
        list[ErrorKind],
        msgspec.Meta(
            min_length=1,
            max_length=32,
            description='Error kinds that retry; "*" is every retryable kind. Non-retryable errors never retry.',
        ),
    ] = msgspec.field(default_factory=lambda: ["*"])


class Catch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Routes a failed step to a handler step instead of failing the execution."""

    next: Annotated[StepId, msgspec.Meta(description="The handler step that runs when this route catches.")]
    errors: Annotated[
        list[ErrorKind],
        msgspec.Meta(
            min_length=1,
            max_length=32,
            description='Error kinds this route catches; "*" catches every kind. The first matching route wins.',
        ),
    ] = msgspec.field(default_factory=lambda: ["*"])


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
    type_version: (
        Annotated[
            int,
            msgspec.Meta(
                ge=1,
                description="Version of the node type the step was written for. Omitted: the newest installed.",
            ),
        ]
        | None
    ) = None
    title: Annotated[str, msgspec.Meta(max_length=200, description="A display name.")] | None = None
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    config: Annotated[
        dict[str, Any],
        msgspec.Meta(description="Settings of the node type, checked against its Config."),
    ] = msgspec.field(default_factory=dict)
    input: (
        ExpressionText
        | Annotated[
            dict[str, ExpressionText],
            msgspec.Meta(max_length=limits.MAX_EXPRESSIONS_PER_STEP, description="An object of expressions."),
        ]
        | None
    ) = None
    """The step's input: one expression, or an object of expressions. Omitted: the execution input (a root
    step), its one source's output, or an object of its sources' outputs keyed by step id."""
    needs: Annotated[
        list[NeedRef],
        msgspec.Meta(
            max_length=limits.MAX_NEEDS,
            description="Steps (or branches of routing steps) this step waits for. Empty: it starts at once.",
        ),
    ] = msgspec.field(default_factory=list)
    timeout_seconds: (
        Annotated[Seconds, msgspec.Meta(description="Limit of one attempt, from the instant a worker claims it.")]
        | None
    ) = None
    queue_timeout_seconds: (
        Annotated[
            Seconds,
            msgspec.Meta(description="Limit on how long an attempt may wait to be claimed (schedule-to-start)."),
        ]
        | None
    ) = None
    retry: RetryPolicy | None = None
    catch: Annotated[
        list[Catch],
        msgspec.Meta(max_length=16, description="Where a terminal failure goes instead of failing the execution."),
    ] = msgspec.field(default_factory=list)
    credential: (
        Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="Name of a stored credential.")] | None
    ) = None


class Workflow(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A workflow definition: steps joined by ``needs``, run as a graph."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="The workflow's name.")]
    steps: Annotated[
        list[Step],
        msgspec.Meta(min_length=1, max_length=limits.MAX_STEPS, description="The steps, in any order."),
    ]
    description: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    input_schema: (
        Annotated[dict[str, Any], msgspec.Meta(description="JSON Schema (2020-12) the execution input must match.")]
        | None
    ) = None
    output: (
        ExpressionText
        | Annotated[
            dict[str, ExpressionText],
            msgspec.Meta(max_length=limits.MAX_EXPRESSIONS_PER_STEP, description="An object of expressions."),
        ]
        | None
    ) = None
    """The execution's output: an expression over the final scope. Omitted: every step's output."""
    timeout_seconds: Annotated[Seconds, msgspec.Meta(description="Limit of the whole execution.")] | None = None
