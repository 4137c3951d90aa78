"""A saved definition may name only credentials of its own workspace, of a type its step's node accepts."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.engine import Problem
from wirehub.runtime.registry import NodeRegistry
from wirehub.store import CredentialRows, InvalidDefinitionError
from wirehub.store.credential_keys import CredentialKeyring


async def check_step_credentials(
    session: AsyncSession,
    keyring: CredentialKeyring,
    registry: NodeRegistry,
    workspace_id: UUID,
    definition: dict[str, Any],
) -> None:
    """Checks every step's ``credential`` against the workspace's credentials.

    Call it in the transaction that saves the (validated, pinned) definition: an
    error rolls the save back.

    Raises:
        InvalidDefinitionError: A step names a credential the workspace does not have
            (``unknown-credential``), or one of a type its node type does not accept
            (``credential-type``); each problem points at ``/steps/N/credential``.
    """
    steps = [step for step in definition.get("steps", []) if isinstance(step, dict)]
    wanted = {step["credential"] for step in steps if isinstance(step.get("credential"), str)}
    if not wanted:
        return
    found = await CredentialRows(session, keyring).names(workspace_id, wanted)
    problems: list[Problem] = []
    for index, step in enumerate(steps):
        name = step.get("credential")
        if not isinstance(name, str):
            continue
        pointer = f"/steps/{index}/credential"
        kind = found.get(name)
        if kind is None:
            problems.append(Problem(pointer, f"this workspace has no credential named {name!r}", "unknown-credential"))
            continue
        try:
            accepted = registry.node(step["type"], int(step["type_version"])).credential_types
        except (KeyError, TypeError, ValueError):
            continue  # the definition was validated: its node type is installed; nothing more to say here
        if accepted and kind not in accepted:
            message = f"credential {name!r} is a {kind}; {step['type']} accepts {', '.join(accepted)}"
            problems.append(Problem(pointer, message, "credential-type"))
    if problems:
        raise InvalidDefinitionError("the workflow definition", problems)
