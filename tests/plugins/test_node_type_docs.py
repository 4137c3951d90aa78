"""docs/node-types.md documents every built-in node type but core.http (docs/http.md) and its fields."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from wirehub_core import core
from wirehub_sdk import NodeType

DOCS = Path(__file__).resolve().parents[2] / "docs"


def documented_types() -> list[type[NodeType]]:
    return [t for t in core.wirehub_node_types() if t.name != "core.http"]


@pytest.mark.parametrize("node_type", documented_types(), ids=lambda t: t.name)
def test_node_type_and_every_config_field_are_documented(node_type: type[NodeType]) -> None:
    text = (DOCS / "node-types.md").read_text()
    assert f"## `{node_type.name}` (v{node_type.version})" in text
    for field in msgspec.structs.fields(node_type.Config):
        assert f"`{field.encode_name}`" in text, f"{node_type.name} config field {field.encode_name}"


def test_http_has_its_own_page() -> None:
    assert "core.http" in (DOCS / "http.md").read_text()
