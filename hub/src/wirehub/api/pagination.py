"""Cursor pagination: opaque cursors on a page's last sort key, and the bounded page size.

A list route sorts by a key that ends in the row's id (unique), reads one row
more than the page holds, and hands out the last row's key as the next cursor::

    rows = await read(after=time_id(cursor) if cursor else None, limit=limit + 1)
    return Page(items=rows[:limit], next=next_cursor(rows, limit, lambda row: (row.at, row.id), TIME_ID))

A cursor is the key as URL-safe base64 JSON: opaque to clients (they pass it
back unchanged), checked on the way in, so a forged or truncated one is a 400
``invalid-cursor`` problem, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar.params import QueryParameter

from wirehub.api.problems import ApiError, ProblemItem

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 500

PageSize = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE_SIZE, description=f"At most this many items (1 to {MAX_PAGE_SIZE}).")
]
CursorParameter = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
        description="The `next` of the previous page, unchanged; omit it for the first page.",
    ),
]

Key = tuple[Any, ...]
Row = TypeVar("Row")


class _Kind:
    """How one component of a key is written in a cursor and read back."""

    def __init__(self, dump: Callable[[Any], Any], load: Callable[[Any], Any]) -> None:
        self.dump = dump
        self.load = load


def _load_time(value: Any) -> datetime.datetime:
    at = datetime.datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError("a cursor's time has a zone")
    return at


def _load_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer")
    return value


def _load_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


TIME = _Kind(lambda at: at.isoformat(), _load_time)
ID = _Kind(lambda value: value.hex, lambda text: UUID(hex=text))
INT = _Kind(lambda value: value, _load_int)
TEXT = _Kind(lambda value: value, _load_str)

TIME_ID = (TIME, ID)
"""A key of ``(time, id)``: executions and audit entries."""
TEXT_ID = (TEXT, ID)
"""A key of ``(name, id)``: workflows by name."""


def encode_cursor(key: Key, shape: Sequence[_Kind]) -> str:
    """The opaque cursor of ``key``."""
    raw = msgspec.json.encode([kind.dump(value) for kind, value in zip(shape, key, strict=True)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> ApiError:
    """The 400 of a cursor this API did not hand out."""
    problem = "the cursor is not one this API returned"
    return ApiError(
        400, "invalid-cursor", problem, errors=[ProblemItem(message=problem, code="invalid-cursor", parameter="cursor")]
    )


def decode_cursor(cursor: str, shape: Sequence[_Kind]) -> Key:
    """The key a cursor holds.

    Raises:
        ApiError: 400 ``invalid-cursor``: it is not a cursor of this shape.
    """
    try:
        values = msgspec.json.decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(shape):
            raise ValueError("a cursor of another shape")
        return tuple(kind.load(value) for kind, value in zip(shape, values, strict=True))
    except (ValueError, TypeError, binascii.Error, msgspec.DecodeError) as exc:
        raise invalid_cursor() from exc


def time_id(cursor: str) -> tuple[datetime.datetime, UUID]:
    """The ``(time, id)`` key a ``TIME_ID`` cursor holds (a 400 ``invalid-cursor`` if it holds none)."""
    at, row_id = decode_cursor(cursor, TIME_ID)
    return at, row_id


def next_cursor(rows: Sequence[Row], limit: int, key: Callable[[Row], Key], shape: Sequence[_Kind]) -> str | None:
    """The cursor after the page ``rows[:limit]`` when ``rows`` (read with ``limit + 1``) has more; else ``None``."""
    if len(rows) <= limit or limit < 1:
        return None
    return encode_cursor(key(rows[limit - 1]), shape)


__all__ = [
    "DEFAULT_PAGE_SIZE",
    "ID",
    "INT",
    "MAX_PAGE_SIZE",
    "TEXT",
    "TEXT_ID",
    "TIME",
    "TIME_ID",
    "CursorParameter",
    "PageSize",
    "decode_cursor",
    "encode_cursor",
    "invalid_cursor",
    "next_cursor",
    "time_id",
]
