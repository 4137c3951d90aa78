"""Password hashing with argon2id (memory-hard), off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id, RFC 9106's low-memory profile: 64 MiB, 3 passes

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_DUMMY_HASH = _HASHER.hash("a password no account has")
"""Verified against when the user does not exist, so a login takes as long either way."""


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (blocking: about 50 ms of CPU and 64 MiB)."""
    return _HASHER.hash(password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches ``password_hash``; a missing hash costs the same time and fails."""
    return await asyncio.to_thread(_verify, password, password_hash)


def _verify(password: str, password_hash: str | None) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or ``None``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    return None
