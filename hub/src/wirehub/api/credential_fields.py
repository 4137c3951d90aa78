"""Checking what a client sends for a credential: its type, its fields against the type's schema, its hosts.

Every problem is a 422 item with a JSON pointer into the request body. A message
about a secret field never quotes what was sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from wirehub.api.problems import ApiError, ProblemItem, pointer_of
from wirehub.runtime.registry import NodeRegistry
from wirehub_sdk import CredentialType
from wirehub_sdk.host import parse_host_rule

_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]*)`$")


def invalid(items: Sequence[ProblemItem]) -> ApiError:
    """The 422 for a credential that does not fit."""
    return ApiError(422, "invalid-credential", "the credential is not valid", errors=items)


def credential_type(registry: NodeRegistry, name: str) -> CredentialType:
    """The installed credential type called ``name``.

    Raises:
        ApiError: 422 at ``/type`` when no installed plugin provides it.
    """
    try:
        return registry.credential_type(name)
    except KeyError:
        message = f"no installed plugin provides the credential type {name[:200]!r}"
        raise invalid([ProblemItem(message=message, code="unknown-credential-type", pointer="/type")]) from None


def field_names(kind: CredentialType) -> set[str]:
    """The JSON names of the type's fields."""
    return {field.encode_name for field in msgspec.structs.fields(kind.Fields)}


def check_fields(kind: CredentialType, fields: Mapping[str, Any]) -> None:
    """Checks ``fields`` (secrets included) against the type's ``Fields``.

    Raises:
        ApiError: 422 with a pointer under ``/fields`` for an unknown, missing or invalid field.
    """
    known = field_names(kind)
    unknown = [name for name in fields if name not in known]
    if unknown:
        raise invalid(
            [
                ProblemItem(
                    message=f"{kind.name} has no field {name[:100]!r} (its fields: {', '.join(sorted(known))})",
                    code="unknown-field",
                    pointer="/fields/" + _escape(name),
                )
                for name in unknown[:20]
            ]
        )
    try:
        msgspec.convert(dict(fields), kind.Fields)
    except msgspec.ValidationError as exc:
        raise invalid([_field_problem(kind, str(exc))]) from None


def _field_problem(kind: CredentialType, text: str) -> ProblemItem:
    match = _AT.match(text)
    message, path = (match.group("message"), match.group("path")) if match else (text, None)
    missing = _MISSING.match(message)
    if missing:
        name = missing.group("name")
        return ProblemItem(
            message=f"{kind.name} needs the field {name!r}", code="missing-field", pointer="/fields/" + name
        )
    pointer = "/fields" + (pointer_of(path) if path else "")
    top = pointer.split("/")[2] if pointer.count("/") >= 2 else ""
    if top in kind.secret_fields or not path:
        # The message of a check (a pattern, a plugin's __post_init__) might quote the value: not for a secret.
        message = "this secret field's value does not fit its type" if top in kind.secret_fields else message[:300]
    return ProblemItem(message=message[:300], code="invalid-field", pointer=pointer)


def check_hosts(hosts: Sequence[str]) -> list[str]:
    """The allowed hosts, stripped and lower-cased.

    Raises:
        ApiError: 422 at ``/allowed_hosts/N`` for each rule that is not ``host``, ``host:port`` or ``*.domain``.
    """
    problems = []
    for index, rule in enumerate(hosts):
        try:
            parse_host_rule(rule)
        except ValueError as exc:
            problems.append(ProblemItem(message=str(exc), code="invalid-host", pointer=f"/allowed_hosts/{index}"))
    if problems:
        raise invalid(problems)
    return [rule.strip().lower() for rule in hosts]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
