"""Credentials of a workspace: their secret fields encrypted, the rest in clear."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wirehub.store.models.base import JSON_VALUE, Entity


class Credential(Entity):
    """A named secret a workspace's steps may use (``"credential": "<name>"``).

    Attributes:
        workspace_id: The workspace it belongs to; only its executions get it.
        name: Unique in its workspace.
        type: The credential type's name (``core.bearer``...).
        fields: The fields that are not secret, in clear.
        secret_names: The names of the secret fields that are set (in ``ciphertext``).
        allowed_hosts: The only hosts its requests may go to (``api.example.com``,
            ``*.example.com``, ``host:port``), redirects included.
        key_id: The key that encrypted ``ciphertext`` (``WIREHUB_CREDENTIAL_KEYS``).
        nonce: The 96-bit AES-GCM nonce, random for every write.
        ciphertext: The secret fields as JSON, AES-256-GCM encrypted; the associated
            data binds it to this row (id, workspace, name and key id).
    """

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON_VALUE)
    secret_names: Mapped[list[str]] = mapped_column(JSON_VALUE)
    allowed_hosts: Mapped[list[str]] = mapped_column(JSON_VALUE)
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
