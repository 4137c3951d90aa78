"""Checking one step against its node type: availability, version, config, branches.

A step names a node type and, optionally, the version it was written for.
Without a version the newest installed one is used, and its config is never
migrated (a config that does not fit then says to pin the version it was
written for); an installed version is used as is; an older version that is no longer installed has its config
upgraded one version at a time by the newest class's ``migrate_config``; a
newer version than any installed is an error.
"""

from __future__ import annotations

import copy
import difflib
from dataclasses import dataclass, field
from typing import Any

import msgspec
from jsonschema import Draft202012Validator

from wirehub.engine.language.definition import Step
from wirehub.engine.language.problems import Problem, join, pointer
from wirehub.engine.validation.catalog import NodeCatalog
from wirehub.engine.validation.schema_errors import SchemaErrorWriter, problems_from_msgspec
from wirehub_sdk import NodeType

EXPRESSION_FORMAT = "wirehub-expression"
"""The JSON Schema ``format`` that ``wirehub_sdk.Expression`` carries."""
_MAX_SCHEMA_HOPS = 64


@dataclass(slots=True)
class ResolvedStep:
    """What validation learnt about one step's node type.

    Attributes:
        node_type: The class that will run the step, or ``None`` if unknown.
        version: The node-type version the step runs with.
        config: The config after any migration (plain JSON).
        branches: Branch names for routing steps, ``None`` for the others.
        takes_default_input: The node type's ``takes_default_input``.
        config_ok: The config decoded into the node type's ``Config``.
        expressions: ``(pointer, text)`` of every expression in the config.
    """

    node_type: type[NodeType] | None = None
    version: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    branches: tuple[str, ...] | None = None
    takes_default_input: bool = True
    config_ok: bool = False
    expressions: list[tuple[str, str]] = field(default_factory=list)


def resolve_step(index: int, step: Step, catalog: NodeCatalog, problems: list[Problem]) -> ResolvedStep:
    """Resolves ``step``'s node type and checks its config, appending what is wrong to ``problems``."""
    at = pointer("steps", index)
    versions = catalog.node_type_versions(step.type)
    if not versions:
        reason = catalog.unavailable_reason(step.type)
        message = (
            f'Node type "{step.type}" is not available: {reason}.'
            if reason
            else f'Unknown node type "{step.type}": no installed plugin provides it.'
        )
        problems.append(
            Problem(join(at, "type"), message + _did_you_mean(step.type, catalog, reason), "unknown-node-type")
        )
        return ResolvedStep()
    newest = max(versions)
    installed = ", ".join(str(version) for version in sorted(versions))
    wanted = step.type_version
    if wanted is not None and wanted > newest:
        problems.append(
            Problem(
                join(at, "type_version"),
                f'The step needs version {wanted} of node type "{step.type}"; installed: {installed}.',
                "node-type-version-unavailable",
            )
        )
        return ResolvedStep()
    if wanted is None or wanted in versions:
        version = newest if wanted is None else wanted
        node_type, config, note = versions[version], step.config, ""
    else:
        version, node_type = newest, versions[newest]
        migrated = _migrate(node_type, step, wanted, newest, at, problems)
        if migrated is None:
            return ResolvedStep(node_type, version)
        config, note = migrated, f" (after upgrading the config from version {wanted} to {newest})"
    resolved = ResolvedStep(node_type, version, config)
    resolved.takes_default_input = node_type.takes_default_input
    found = len(problems)
    _check_config(resolved, join(at, "config"), f'the config of "{step.type}"', note, problems)
    if wanted is None and newest > 1 and len(problems) > found:
        # The usual cause: the step was written for an older version and the plugin has since
        # published a new one. Only a pinned type_version tells the hub to migrate the config.
        first = problems[found]
        hint = (
            f' The step has no "type_version", so it runs version {newest}, the newest installed; if it was '
            f'written for an earlier version, set "type_version" to that version and its config is migrated '
            f"(`wirehub validate --pin` then records the migrated config)."
        )
        problems[found] = Problem(first.pointer, first.message + hint, first.code)
    return resolved


def _did_you_mean(name: str, catalog: NodeCatalog, reason: str | None) -> str:
    """`` Did you mean "core.http"?`` for the installed names closest to ``name``, or ``""``.

    When a plugin of the name's namespace is blamed (``reason``), only names of
    that namespace are offered: another plugin's node type is no fix for it.
    """
    candidates = list(catalog.node_type_names())
    if reason:
        namespace = name.partition(".")[0]
        candidates = [candidate for candidate in candidates if candidate.partition(".")[0] == namespace]
    close = difflib.get_close_matches(name, candidates, n=3)
    if not close:
        return ""
    quoted = [f'"{candidate}"' for candidate in close]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" Did you mean {listed}?"


def _migrate(
    node_type: type[NodeType], step: Step, start: int, newest: int, at: str, problems: list[Problem]
) -> dict[str, Any] | None:
    """Upgrades ``step.config`` from version ``start`` to ``newest``, one version at a time."""
    config: Any = copy.deepcopy(step.config)
    for version in range(start, newest):
        try:
            upgraded = node_type.migrate_config(version, config)
        except Exception as exc:
            problems.append(
                Problem(
                    join(at, "type_version"),
                    f'Upgrading the config of "{step.type}" from version {version} to {version + 1} failed: '
                    f"{type(exc).__name__}: {exc}.",
                    "config-migration-failed",
                )
            )
            return None
        if upgraded is None:
            problems.append(
                Problem(
                    join(at, "type_version"),
                    f'The step was written for version {start} of node type "{step.type}", but only version '
                    f"{newest} and later is installed and there is no migration of its config from version "
                    f"{version} to {version + 1}.",
                    "no-config-migration",
                )
            )
            return None
        config = upgraded
    if not isinstance(config, dict):
        problems.append(
            Problem(
                join(at, "type_version"),
                f'Upgrading the config of "{step.type}" to version {newest} gave '
                f"{type(config).__name__}, not an object.",
                "config-migration-failed",
            )
        )
        return None
    return config


_schemas: dict[type[Any], tuple[dict[str, Any], Draft202012Validator] | None] = {}


def _config_schema(config_type: type[Any]) -> tuple[dict[str, Any], Draft202012Validator] | None:
    """The JSON Schema of a ``Config`` and its validator, built once per class."""
    if config_type not in _schemas:
        try:
            schema = msgspec.json.schema(config_type)
        except (TypeError, ValueError):
            _schemas[config_type] = None
        else:
            _schemas[config_type] = (schema, Draft202012Validator(schema))
    return _schemas[config_type]


def _check_config(resolved: ResolvedStep, at: str, place: str, note: str, problems: list[Problem]) -> None:
    """Decodes the config into the node type's ``Config``, listing every violation when it does not fit."""
    node_type = resolved.node_type
    assert node_type is not None
    try:
        parsed = msgspec.convert(resolved.config, node_type.Config)
    except msgspec.ValidationError as exc:
        compiled = _config_schema(node_type.Config)
        found: list[Problem] = []
        if compiled is not None:
            schema, validator = compiled
            found = SchemaErrorWriter(schema, at, place).problems(validator.iter_errors(resolved.config))
        found = found or [problems_from_msgspec(str(exc), at)]
        problems.extend(Problem(p.pointer, p.message.removesuffix(".") + note + ".", p.code) for p in found)
        return
    except Exception as exc:
        problems.append(Problem(at, f"The config was rejected: {type(exc).__name__}: {exc}{note}.", "invalid-config"))
        return
    resolved.config_ok = True
    try:
        branches = node_type.branches(parsed)
    except Exception as exc:
        problems.append(
            Problem(at, f"The node type could not list its branches: {type(exc).__name__}: {exc}.", "invalid-config")
        )
        return
    resolved.branches = None if branches is None else tuple(str(branch) for branch in branches)
    compiled = _config_schema(node_type.Config)
    if compiled is not None:
        _find_expressions(compiled[0], compiled[0], resolved.config, at, resolved.expressions, 0)


def _find_expressions(
    root: dict[str, Any], schema: Any, value: Any, at: str, found: list[tuple[str, str]], hops: int
) -> None:
    """Collects ``(pointer, text)`` for every value the schema marks as an expression."""
    if not isinstance(schema, dict) or hops > _MAX_SCHEMA_HOPS:
        return
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/"):
        target: Any = root
        for token in reference[2:].split("/"):
            target = target.get(token) if isinstance(target, dict) else None
        _find_expressions(root, target, value, at, found, hops + 1)
        return
    if schema.get("format") == EXPRESSION_FORMAT and isinstance(value, str):
        if (at, value) not in found:
            found.append((at, value))
        return
    for keyword in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(keyword, ()):
            _find_expressions(root, branch, value, at, found, hops + 1)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, member in value.items():
            member_schema = properties.get(key, extra)
            _find_expressions(root, member_schema, member, join(at, key), found, 0)
    elif isinstance(value, list):
        prefix = schema.get("prefixItems", [])
        for position, member in enumerate(value):
            member_schema = prefix[position] if position < len(prefix) else schema.get("items")
            _find_expressions(root, member_schema, member, join(at, position), found, 0)
