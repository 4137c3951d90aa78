"""The API reference, generated from the app: ``docs/openapi.json`` and ``docs/api-reference.md``.

``uv run python -m wirehub.api.reference docs/`` rewrites both; ``--check`` only says whether
they are current. The document is the one ``GET /schema/openapi.json`` serves (completed by
``wirehub.api.openapi``), pretty-printed with sorted keys; the page is rendered from it, with each
operation's permission from what its handler declares. Nothing in either depends on the time,
the settings or the machine, so both change only when the API does.
"""

from __future__ import annotations

from pathlib import Path

from wirehub.api.reference._document import access_rules, openapi_document, openapi_text, reference_app
from wirehub.api.reference._markdown import render_markdown

COMMAND = "uv run python -m wirehub.api.reference docs/"
OPENAPI_FILE = "openapi.json"
REFERENCE_FILE = "api-reference.md"


def generate() -> dict[str, str]:
    """The files of the reference, by name: ``openapi.json`` and ``api-reference.md``."""
    app = reference_app()
    document = openapi_document(app)
    return {
        OPENAPI_FILE: openapi_text(document),
        REFERENCE_FILE: render_markdown(document, access_rules(app), command=COMMAND),
    }


def stale_files(directory: Path, files: dict[str, str] | None = None) -> list[str]:
    """The names of the reference's files in ``directory`` that are missing or not what the app generates."""
    wanted = files if files is not None else generate()
    return [
        name
        for name, text in wanted.items()
        if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text
    ]


def write(directory: Path) -> list[str]:
    """Writes the reference's files into ``directory``; returns the names of those that changed."""
    files = generate()
    changed = stale_files(directory, files)
    for name in changed:
        (directory / name).write_text(files[name], encoding="utf-8")
    return changed


__all__ = ["COMMAND", "OPENAPI_FILE", "REFERENCE_FILE", "generate", "render_markdown", "stale_files", "write"]
