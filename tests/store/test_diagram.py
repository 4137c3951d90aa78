"""The diagram in docs/data-model.md is the one the models generate."""

from __future__ import annotations

from pathlib import Path

from wirehub.store.diagram import er_diagram, with_diagram
from wirehub.store.models import metadata

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"


def test_the_data_model_document_shows_the_diagram_of_the_current_models() -> None:
    text = DOC.read_text()
    assert with_diagram(text) == text, "run: python -m wirehub.store.diagram docs/data-model.md"


def test_the_diagram_names_every_table_and_foreign_key() -> None:
    diagram = er_diagram()
    for table in metadata.tables.values():
        assert f"    {table.name} {{" in diagram
        for fk in table.foreign_keys:
            assert f"    {fk.column.table.name} " in diagram
            assert f'--o{{ {table.name} : "{fk.parent.name}"' in diagram
