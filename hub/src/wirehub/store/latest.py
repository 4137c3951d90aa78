"""The shared latest-version pointer, raised when a transaction that saved a version commits.

A pointer raised before the commit would send other processes to a version
row they cannot read yet; one raised by the caller afterwards would be
forgotten by the next route that saves a version. So the saving transaction
carries it, and its ``after_commit`` hook raises it, awaited inside the
commit (SQLAlchemy's asyncio layer runs the hook in its greenlet, where
``await_only`` waits for a coroutine): when ``await session.commit()``
returns, every process sees the new version. A rollback raises nothing.
Numbers only grow (``SharedVersions.raise_latest`` keeps the highest), so a
reader that filled the pointer from an older read cannot undo it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from wirehub.store.plans import SharedVersions, VersionRef

logger = logging.getLogger("wirehub.store")

_PENDING = "wirehub_latest"
"""The ``Session.info`` key of the pointers a transaction raises once it commits."""
_listening = False


def raise_latest_after_commit(
    session: AsyncSession, shared: SharedVersions, workflow_id: UUID, ref: VersionRef
) -> None:
    """Raises the workflow's shared latest pointer to ``ref`` when ``session``'s transaction commits."""
    _listen()
    pending: list[tuple[SharedVersions, UUID, VersionRef]] = session.info.setdefault(_PENDING, [])
    pending.append((shared, workflow_id, ref))


def _listen() -> None:
    global _listening
    if not _listening:
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_rollback", _after_rollback)
        _listening = True


def _after_commit(session: Session) -> None:
    pending: list[tuple[SharedVersions, UUID, VersionRef]] | None = session.info.pop(_PENDING, None)
    for shared, workflow_id, ref in pending or ():
        try:
            await_only(shared.raise_latest(workflow_id, ref))
        except Exception as exc:  # the commit stands; the pointer's time to live bounds how long it lags
            logger.warning("could not raise the cached latest version of workflow %s: %s", workflow_id, exc)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
