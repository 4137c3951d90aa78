"""The published JSON Schema of the definition language, generated from ``wirehub.engine.language.definition``.

Editors and other tools use it to complete and check definitions. It
describes the shape only; ``wirehub.engine.validation.validate`` also checks what a
schema cannot (the step graph, node types and their configs, expressions).
Regenerate the committed copy with::

    uv run python -m wirehub.engine.language.schema > docs/definition.schema.json
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import msgspec

from wirehub.engine.language.definition import Workflow

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:wirehub:schema:workflow-definition:1"
"""Identifies this version of the language's schema; the suffix grows with incompatible changes."""


@cache
def _generated() -> str:
    body = msgspec.json.schema(Workflow)
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "Workflow definition",
        "description": (
            "A workflow of the hub: steps joined by needs, run as a graph. "
            "See docs/definition-language.md for the meaning of every field."
        ),
        **body,
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def definition_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a workflow definition, as a fresh dict."""
    schema: dict[str, Any] = json.loads(_generated())
    return schema


def definition_schema_text() -> str:
    """The schema as the text committed in ``docs/definition.schema.json``."""
    return _generated()


def main() -> None:
    """Writes the schema to standard output."""
    print(definition_schema_text(), end="")  # noqa: T201 - this command's output is the schema


if __name__ == "__main__":
    main()
