"""A transition's writes, run as statements built once per shape with bound parameters.

A transition inserts rows (new attempts, history entries, dispatch records),
updates rows by their key (changed attempts, the execution) and deletes the
dispatch records of attempts no longer waiting (``Prepared``). Built with the values inside them, each
statement costs SQLAlchemy a literal coercion per value and a cache key walk
over all of them on every call: most of a step's CPU in the store. Here a
statement depends only on its *shape* (the table, the columns written, the
key columns), holds ``bindparam`` placeholders, and is built once and reused
(``functools.lru_cache``; a reused statement object also keeps its cache
key); the values travel as parameters.

On PostgreSQL the writes are data-modifying ``WITH`` clauses of the last
statement (the execution's update, or a new execution's insert), one round
trip: they run in the same snapshot and change other rows than each other
(new attempts, history entries, timers and dispatch records; the changed
attempts' rows; the last the execution), so their order does not matter, and
foreign keys are checked at the end of the statement. Elsewhere they run in
order, the rows of an insert in one ``executemany``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, bindparam, insert, update
from sqlalchemy import inspect as inspect_orm
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import Executable

from wirehub.store.models import metadata

_STATEMENT_SHAPES = 512
"""Statements kept per shape: shapes are few (a transition writes a handful of kinds of row), but the
number of rows one transition inserts varies, and on PostgreSQL it is part of the shape."""


@dataclass(frozen=True)
class Insert:
    """Rows to insert into ``table``; each row a mapping of column to value."""

    table: Table
    rows: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Change:
    """An update of the rows of ``table`` whose ``key`` columns equal the given values."""

    table: Table
    key: Mapping[str, Any]
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Prepared:
    """Any other statement: ``build(prefix)`` makes it with its parameters' names prefixed.

    ``build`` must return the same statement for the same prefix (a cached
    function): it is called once per shape.
    """

    build: Callable[[str], Any]
    parameters: Mapping[str, Any]


Write = Insert | Change | Prepared
"""One write of a transition: rows to insert, a row to update, or another statement."""

_Shape = tuple[Any, ...]


def orm_row(instance: Any) -> dict[str, Any]:
    """A new ORM object's columns as a row to ``Insert``, with the Python-side defaults it left unset (its id).

    For an object written with a transition's other writes (in one statement on PostgreSQL)
    rather than by the session's flush, which would cost a statement of its own.
    """
    row: dict[str, Any] = {}
    for attribute in inspect_orm(instance).mapper.column_attrs:
        column = attribute.columns[0]
        value = getattr(instance, attribute.key)
        default = column.default
        if value is None and default is not None and (default.is_callable or default.is_scalar):
            value = default.arg(None) if default.is_callable else default.arg
        row[column.key] = value
    return row


async def run_writes(session: AsyncSession, writes: Sequence[Write], last: Change | Insert) -> CursorResult[Any]:
    """Runs ``writes`` and ``last``, whose result it returns: on PostgreSQL as one statement.

    ``last`` is the execution's row: a ``Change`` (checked by the caller against the result's row
    count) or, for a new execution, an ``Insert`` of one row. Elsewhere than on PostgreSQL that
    insert runs first, before the rows that refer to it; a ``Change`` runs last.
    """
    if session.get_bind().dialect.name == "postgresql":
        shapes: list[_Shape] = []
        parameters: dict[str, Any] = {}
        for write in writes:
            if isinstance(write, Insert):
                for row in write.rows:
                    prefix = f"w{len(shapes)}_"
                    shapes.append(("insert", write.table.name, tuple(row)))
                    parameters.update((prefix + column, value) for column, value in row.items())
            elif isinstance(write, Change):
                prefix = f"w{len(shapes)}_"
                shapes.append(("change", write.table.name, tuple(write.key), tuple(write.values)))
                _bind_change(parameters, prefix, write)
            else:
                prefix = f"w{len(shapes)}_"
                shapes.append(("prepared", write.build))
                parameters.update((prefix + name, value) for name, value in write.parameters.items())
        if isinstance(last, Insert):
            (row,) = last.rows
            parameters.update(("x_" + column, value) for column, value in row.items())
            final: _Shape = ("insert", last.table.name, tuple(row))
        else:
            _bind_change(parameters, "x_", last)
            final = ("change", last.table.name, tuple(last.key), tuple(last.values))
        return await _execute(session, _combined(tuple(shapes), final), parameters)
    inserted = None
    if isinstance(last, Insert):  # before the rows that refer to it
        inserted = await _execute(session, insert(last.table), dict(last.rows[0]))
    for write in writes:
        if isinstance(write, Insert):
            rows = [dict(row) for row in write.rows]
            await _execute(session, insert(write.table), rows if len(rows) > 1 else rows[0])
        elif isinstance(write, Change):
            await _run_change(session, write)
        else:
            parameters = {"x_" + name: value for name, value in write.parameters.items()}
            await _execute(session, write.build("x_"), parameters)
    if inserted is not None:
        return inserted
    assert isinstance(last, Change)
    return await _run_change(session, last)


async def _run_change(session: AsyncSession, change: Change) -> CursorResult[Any]:
    parameters: dict[str, Any] = {}
    _bind_change(parameters, "x_", change)
    statement = _change(change.table.name, tuple(change.key), tuple(change.values), "x_")
    return await _execute(session, statement, parameters)


def _bind_change(parameters: dict[str, Any], prefix: str, change: Change) -> None:
    parameters.update((f"{prefix}k_{column}", value) for column, value in change.key.items())
    parameters.update((prefix + column, value) for column, value in change.values.items())


async def _execute(session: AsyncSession, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
    connection = await session.connection()
    return await connection.execute(statement, parameters)


def _table(name: str) -> Table:
    return metadata.tables[name]


def _bound(table: Table, name: str, column: str) -> Any:
    return bindparam(name, type_=table.c[column].type)


@functools.lru_cache(maxsize=_STATEMENT_SHAPES)
def _insert(table_name: str, columns: tuple[str, ...], prefix: str) -> Any:
    table = _table(table_name)
    return insert(table).values({column: _bound(table, prefix + column, column) for column in columns})


@functools.lru_cache(maxsize=_STATEMENT_SHAPES)
def _change(table_name: str, key: tuple[str, ...], columns: tuple[str, ...], prefix: str) -> Any:
    table = _table(table_name)
    return (
        update(table)
        .where(and_(*(table.c[column] == _bound(table, f"{prefix}k_{column}", column) for column in key)))
        .values({column: _bound(table, prefix + column, column) for column in columns})
    )


@functools.lru_cache(maxsize=_STATEMENT_SHAPES)
def _combined(shapes: tuple[_Shape, ...], last: _Shape) -> Any:
    clauses = []
    for index, shape in enumerate(shapes):
        prefix = f"w{index}_"
        if shape[0] == "insert":
            clauses.append(_insert(shape[1], shape[2], prefix).cte(f"w{index}"))
        elif shape[0] == "prepared":
            clauses.append(shape[1](prefix).cte(f"w{index}"))
        else:
            clauses.append(_change(shape[1], shape[2], shape[3], prefix).cte(f"w{index}"))
    statement = _insert(last[1], last[2], "x_") if last[0] == "insert" else _change(*last[1:], "x_")
    return statement.add_cte(*clauses) if clauses else statement
