"""mypy holds a node type's ``execute`` to the ``NodeType[Config, Input, Output]`` it declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

CONTRACT = Path(__file__).with_name("node_contract.py")
IGNORE = re.compile(r"  # type: ignore\[(?P<code>[a-z-]+)\]$", re.M)


def expected_errors(source: str) -> set[tuple[int, str]]:
    """``(line, code)`` of every ``# type: ignore[code]`` in ``source``."""
    found = set()
    for number, line in enumerate(source.splitlines(), start=1):
        match = IGNORE.search(line)
        if match:
            found.add((number, match["code"]))
    return found


def test_mypy_rejects_every_node_that_disagrees_with_its_declared_types(tmp_path: Path) -> None:
    source = CONTRACT.read_text()
    expected = expected_errors(source)
    assert len(expected) == 6
    checked = tmp_path / "node_contract.py"
    checked.write_text(IGNORE.sub("", source))
    stdout, stderr, status = mypy_api.run(
        ["--strict", "--show-error-codes", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), str(checked)]
    )
    reported = {
        (int(match["line"]), match["code"])
        for match in re.finditer(r"^[^:\n]+:(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$", stdout, re.M)
    }
    assert status == 1, stdout + stderr
    assert reported == expected, stdout
