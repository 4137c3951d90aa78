"""docs/data-model.md lists every table the store declares, with every column."""

from __future__ import annotations

import re
from pathlib import Path

from wirehub.store import metadata

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-model.md"
HIDDEN = {"sa_orm_sentinel"}  # explained once in the text, not in each row


def _documented() -> dict[str, set[str]]:
    section = DOCS.read_text().split("## Tables", 1)[1]
    rows: dict[str, set[str]] = {}
    for line in section.splitlines():
        match = re.match(r"\| `(\w+)` \| (.*?) \|", line)
        if match:
            rows[match.group(1)] = set(re.findall(r"`(\w+)`", match.group(2)))
    return rows


def test_every_table_and_column_is_documented() -> None:
    documented = _documented()
    assert set(documented) == set(metadata.tables)
    for name, table in metadata.tables.items():
        assert documented[name] == {column.name for column in table.columns} - HIDDEN, name
