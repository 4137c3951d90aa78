"""Credentials of a workspace: create, list, read, update, delete. Secret fields are write-only."""

from __future__ import annotations

import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from wirehub.api import audit
from wirehub.api.credential_fields import check_fields, check_hosts, credential_type
from wirehub.api.problems import ApiError, not_found
from wirehub.api.security import needs
from wirehub.api.services import HubServices
from wirehub.store import Credential, CredentialExistsError, CredentialRows, CredentialSealError

BASE = "/api/v1/workspaces/{workspace_id:uuid}/credentials"

Name = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        description="Unique in the workspace: letters, digits, '_', '.', ':' and '-'; the name steps use.",
    ),
]
TypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="The credential type.")]
Fields = Annotated[dict[str, Any], msgspec.Meta(max_length=50, description="The type's fields, secrets included.")]
HostRule = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Hosts = Annotated[
    list[HostRule],
    msgspec.Meta(
        min_length=1,
        max_length=50,
        description="The only hosts the credential is sent to, redirects included:"
        " `api.example.com`, `*.example.com`, `host:port`.",
    ),
]


class CredentialCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A new credential."""

    name: Name
    type: TypeName
    fields: Fields
    allowed_hosts: Hosts


class CredentialUpdate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Changes to a credential; what is omitted (or null) stays.

    Attributes:
        fields: The fields that are not secret, all of them (they replace the stored ones), and the
            secret fields to replace; a secret field left out keeps its stored value.
    """

    name: Name | None = None
    fields: Fields | None = None
    allowed_hosts: Hosts | None = None


class CredentialOut(msgspec.Struct, frozen=True):
    """A credential, without its secrets.

    Attributes:
        fields: The fields that are not secret.
        secret_fields_set: The names of the secret fields that hold a value (never the value).
        key_id: The key its secrets are encrypted with.
    """

    id: UUID
    workspace_id: UUID
    name: str
    type: str
    fields: dict[str, Any]
    secret_fields_set: list[str]
    allowed_hosts: list[str]
    key_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


def credential_out(row: Credential) -> CredentialOut:
    """The API's view of a credential row: no secret value."""
    return CredentialOut(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        type=row.type,
        fields=dict(row.fields),
        secret_fields_set=list(row.secret_names),
        allowed_hosts=list(row.allowed_hosts),
        key_id=row.key_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _taken(name: str) -> ApiError:
    return ApiError(409, "credential-exists", f"a credential named {name!r} exists already in this workspace")


def _unreadable(exc: CredentialSealError) -> ApiError:
    return ApiError(503, "credential-key-missing", str(exc))


@post(BASE, opt=needs("credential:manage"), tags=["credentials"], summary="Create a credential")
async def create_credential(
    workspace_id: FromPath[UUID],
    data: JSONBody[CredentialCreate],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> CredentialOut:
    """Checks the fields against the credential type and stores them, the secret ones encrypted."""
    kind = credential_type(services.registry, data.type)
    check_fields(kind, data.fields)
    hosts = check_hosts(data.allowed_hosts)
    try:
        async with services.sessions.begin() as session:
            row = await CredentialRows(session, services.keyring).add(
                workspace_id, data.name, data.type, data.fields, secret_fields=kind.secret_fields, allowed_hosts=hosts
            )
            details = {"name": row.name, "type": row.type, "fields": sorted(data.fields), "allowed_hosts": hosts}
            await audit.record(
                request, "credential.create", target=("credential", row.id), details=details, session=session
            )
            return credential_out(row)
    except CredentialExistsError:
        raise _taken(data.name) from None


@get(BASE, opt=needs("credential:use"), tags=["credentials"], summary="List credentials")
async def list_credentials(
    workspace_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    limit: Annotated[int, QueryParameter(ge=1, le=500, description="At most this many.")] = 100,
    after: Annotated[str | None, QueryParameter(max_length=200, description="Only those named after this.")] = None,
) -> list[CredentialOut]:
    """The workspace's credentials by name, without their secrets."""
    async with services.sessions() as session:
        rows = await CredentialRows(session, services.keyring).page(workspace_id, limit=limit, after=after)
    return [credential_out(row) for row in rows]


@get(BASE + "/{credential_id:uuid}", opt=needs("credential:use"), tags=["credentials"], summary="Get a credential")
async def get_credential(
    workspace_id: FromPath[UUID], credential_id: FromPath[UUID], services: NamedDependency[HubServices]
) -> CredentialOut:
    """One credential of the workspace, without its secrets."""
    async with services.sessions() as session:
        row = await CredentialRows(session, services.keyring).get(workspace_id, credential_id)
    if row is None:
        raise not_found("the credential")
    return credential_out(row)


@patch(
    BASE + "/{credential_id:uuid}", opt=needs("credential:manage"), tags=["credentials"], summary="Update a credential"
)
async def update_credential(
    workspace_id: FromPath[UUID],
    credential_id: FromPath[UUID],
    data: JSONBody[CredentialUpdate],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> CredentialOut:
    """Renames it, replaces its hosts or its fields (a secret field omitted keeps its value); encrypts again."""
    hosts = None if data.allowed_hosts is None else check_hosts(data.allowed_hosts)
    try:
        async with services.sessions.begin() as session:
            rows = CredentialRows(session, services.keyring)
            row = await rows.get(workspace_id, credential_id)
            if row is None:
                raise not_found("the credential")
            kind = credential_type(services.registry, row.type)
            stored = rows.fields_of(row)
            fields = stored
            if data.fields is not None:
                kept = {name: value for name, value in stored.items() if name in kind.secret_fields}
                fields = {**kept, **data.fields}
                check_fields(kind, fields)
            await rows.replace(
                row,
                name=data.name or row.name,
                fields=fields,
                secret_fields=kind.secret_fields,
                allowed_hosts=hosts if hosts is not None else list(row.allowed_hosts),
            )
            # What changed, by name: field names only, never a value.
            details: dict[str, Any] = {"name": row.name}
            if data.name is not None:
                details["renamed"] = True
            if data.fields is not None:
                details["fields"] = sorted(data.fields)
            if hosts is not None:
                details["allowed_hosts"] = hosts
            await audit.record(
                request, "credential.update", target=("credential", row.id), details=details, session=session
            )
            return credential_out(row)
    except CredentialExistsError:
        raise _taken(data.name or "") from None
    except CredentialSealError as exc:
        raise _unreadable(exc) from None


@delete(
    BASE + "/{credential_id:uuid}", opt=needs("credential:manage"), tags=["credentials"], summary="Delete a credential"
)
async def delete_credential(
    workspace_id: FromPath[UUID],
    credential_id: FromPath[UUID],
    services: NamedDependency[HubServices],
    request: Request[Any, Any, Any],
) -> None:
    """Removes it; a step that names it fails with ``credential.missing`` from then on."""
    async with services.sessions.begin() as session:
        rows = CredentialRows(session, services.keyring)
        row = await rows.get(workspace_id, credential_id)
        if row is None:
            raise not_found("the credential")
        details = {"name": row.name, "type": row.type}
        await audit.record(
            request, "credential.delete", target=("credential", row.id), details=details, session=session
        )
        await rows.delete(row)
