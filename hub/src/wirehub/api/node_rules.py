"""A workspace's ``allowed_node_types``: the node types its workflows may use (``null``: every installed one).

A rule names a node type (``core.http``) or a namespace (``acme.*``: every type
whose name starts with ``acme.``). The rules are checked when a definition is
saved or validated (a problem at ``/steps/N/type`` for each step of a type they
do not allow) and again when an execution starts, since the rules may have
changed since the version was saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from wirehub.engine import Problem
from wirehub.store import InvalidDefinitionError, Workspace

CODE = "node-type-not-allowed"


def allows(rules: Sequence[str] | None, type_name: str) -> bool:
    """Whether ``rules`` let a step use the node type ``type_name``."""
    if rules is None:
        return True
    return any(type_name == rule or (rule.endswith(".*") and type_name.startswith(rule[:-1])) for rule in rules)


def node_type_problems(definition: dict[str, Any], rules: Sequence[str] | None) -> list[Problem]:
    """A problem at ``/steps/N/type`` for each step whose node type ``rules`` do not allow."""
    if rules is None:
        return []
    problems: list[Problem] = []
    for index, step in enumerate(definition.get("steps", [])):
        name = step.get("type") if isinstance(step, dict) else None
        if isinstance(name, str) and not allows(rules, name):
            message = f"this workspace does not allow the node type {name!r} (allowed: {', '.join(rules) or 'none'})"
            problems.append(Problem(f"/steps/{index}/type", message, CODE))
    return problems


async def workspace_rules(session: AsyncSession, workspace_id: UUID) -> list[str] | None:
    """The workspace's ``allowed_node_types`` (``None``: every type, also for a workspace that is not stored)."""
    rules = await session.scalar(select(Workspace.allowed_node_types).where(Workspace.id == workspace_id))
    return list(rules) if rules is not None else None


async def check_node_types(session: AsyncSession, workspace_id: UUID, definition: dict[str, Any]) -> None:
    """Checks a definition against its workspace's rules.

    Raises:
        InvalidDefinitionError: A step uses a node type the workspace does not allow
            (``node-type-not-allowed`` at ``/steps/N/type``).
    """
    problems = node_type_problems(definition, await workspace_rules(session, workspace_id))
    if problems:
        raise InvalidDefinitionError("the workflow definition", problems)
