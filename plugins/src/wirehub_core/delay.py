"""``core.delay``: waits for a duration or until an instant, holding nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec

from wirehub_sdk import ConfigError, NodeContext, NodeType, Wait

MAX_DELAY_SECONDS = 366 * 24 * 3600.0
Duration = Annotated[float, msgspec.Meta(ge=0, le=MAX_DELAY_SECONDS)]


class DelayConfig(msgspec.Struct, forbid_unknown_fields=True):
    """Config of ``core.delay``: exactly one of ``seconds`` or ``until``, unless the input gives it."""

    seconds: Duration | None = None
    until: datetime | None = None
    """A timezone-aware instant (RFC 3339)."""


class DelayInput(msgspec.Struct):
    """The step's mapped input may set the delay at run time; when it sets either field, the config's are ignored."""

    seconds: Duration | None = None
    until: datetime | None = None


class DelayOutput(msgspec.Struct):
    """Output of ``core.delay``."""

    until: datetime


class DelayNode(NodeType[DelayConfig, DelayInput, DelayOutput]):
    """Ends its attempt at once with a ``Wait``; the engine wakes the step at the instant."""

    name = "core.delay"
    version = 1
    title = "Delay"
    description = "Wait for a number of seconds or until an instant. Holds no worker while it waits."

    async def execute(self, ctx: NodeContext, config: DelayConfig, input: DelayInput) -> Wait:
        given_by_input = input.seconds is not None or input.until is not None
        seconds, until = (input.seconds, input.until) if given_by_input else (config.seconds, config.until)
        if (seconds is None) == (until is None):
            raise ConfigError("core.delay needs exactly one of 'seconds' or 'until'")
        if until is None:
            assert seconds is not None
            until = datetime.now(UTC) + timedelta(seconds=seconds)
        elif until.tzinfo is None:
            raise ConfigError("'until' must carry a timezone, e.g. 2030-01-01T09:00:00Z")
        return Wait(until=until, output=DelayOutput(until))
