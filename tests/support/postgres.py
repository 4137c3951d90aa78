"""Throwaway PostgreSQL databases for tests: statements on the server, and a database's URL by name."""

from __future__ import annotations

import asyncpg

from wirehub.store import database_url


async def admin(server_url: str, statement: str) -> None:
    """Runs one statement on the server of ``server_url`` (``CREATE DATABASE``, ``DROP DATABASE``...)."""
    connection = await asyncpg.connect(server_url.replace("+asyncpg", ""), timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def url_of(server_url: str, name: str) -> str:
    """The URL of the database ``name`` on the server of ``server_url``."""
    return database_url(server_url).set(database=name).render_as_string(hide_password=False)
