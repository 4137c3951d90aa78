"""Problems found in a definition or an input, each located by a JSON pointer."""

from __future__ import annotations

import msgspec


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong with a document.

    Attributes:
        pointer: An RFC 6901 JSON pointer to the offending value (``""`` is
            the whole document; ``/steps/2/needs/0`` the first need of the
            third step). For a missing member it points at the object that
            lacks it.
        message: A sentence a person can act on.
        code: A short, stable machine code such as ``duplicate-step-id``.
    """

    pointer: str
    message: str
    code: str


def escape_token(token: str | int) -> str:
    """Escapes one reference token: ``~`` becomes ``~0`` and ``/`` becomes ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    """Builds a JSON pointer from unescaped tokens: ``pointer("steps", 0, "id")`` is ``/steps/0/id``."""
    return "".join("/" + escape_token(token) for token in tokens)


def join(base: str, *tokens: str | int) -> str:
    """Appends tokens to an existing pointer."""
    return base + pointer(*tokens)


def sort_key(problem: Problem) -> tuple[tuple[int, int | str], ...]:
    """Orders problems as their locations appear in the document (array indexes numerically)."""
    if not problem.pointer:
        return ()
    return tuple(
        (0, int(token)) if token.isdigit() else (1, token.replace("~1", "/").replace("~0", "~"))
        for token in problem.pointer[1:].split("/")
    )
