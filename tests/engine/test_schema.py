"""The published JSON Schema and the language reference stay true to the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from wirehub.engine.language import limits
from wirehub.engine.language.schema import SCHEMA_DIALECT, SCHEMA_ID, definition_schema, definition_schema_text, main

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "definition.schema.json"
REFERENCE = ROOT / "docs" / "definition-language.md"
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
ENGINE = ROOT / "hub" / "src" / "wirehub" / "engine"
VALIDATION_MODULES = [
    *sorted((ENGINE / "validation").glob("*.py")),
    ENGINE / "language" / "jsonsource.py",
    ENGINE / "expressions" / "evaluate.py",
    ENGINE / "expressions" / "static.py",
]
NOT_PROBLEM_CODES = {"wirehub-expression", "utf-8"}


def test_committed_schema_is_the_generated_one() -> None:
    assert COMMITTED.read_text() == definition_schema_text(), (
        "docs/definition.schema.json is stale: run "
        "`uv run python -m wirehub.engine.language.schema > docs/definition.schema.json`"
    )


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    main()
    assert capsys.readouterr().out == definition_schema_text()


def test_schema_is_valid_json_schema_2020_12() -> None:
    schema = definition_schema()
    Draft202012Validator.check_schema(schema)
    assert (schema["$schema"], schema["$id"]) == (SCHEMA_DIALECT, SCHEMA_ID)
    assert schema["$defs"]["Step"]["additionalProperties"] is False


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_examples_match_the_schema(path: Path) -> None:
    errors = list(Draft202012Validator(definition_schema()).iter_errors(json.loads(path.read_text())))
    assert errors == []


def test_reference_examples_match_the_schema() -> None:
    blocks = re.findall(r"```json\n(.*?)```", REFERENCE.read_text(), flags=re.DOTALL)
    workflows = [json.loads(block) for block in blocks if block.lstrip().startswith('{\n  "name"')]
    assert workflows
    validator = Draft202012Validator(definition_schema())
    for document in workflows:
        assert list(validator.iter_errors(document)) == []


def test_schema_rejects_what_the_language_rejects() -> None:
    validator = Draft202012Validator(definition_schema())
    bad = {"name": "x", "steps": [{"id": "Bad Id", "type": "core.http", "colour": "red"}]}
    assert {error.validator for error in validator.iter_errors(bad)} == {"pattern", "additionalProperties"}


def test_limits_table_matches_limits_module() -> None:
    rows = re.findall(r"^\| `(MAX_[A-Z_]+)` \| ([0-9.]+) \|", REFERENCE.read_text(), flags=re.MULTILINE)
    documented = {name: float(value) for name, value in rows}
    actual = {name: float(getattr(limits, name)) for name in dir(limits) if name.startswith("MAX_")}
    assert documented == actual


def test_every_problem_code_is_documented() -> None:
    codes: set[str] = set()
    for module in VALIDATION_MODULES:
        source = module.read_text()
        codes |= set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', source)) - NOT_PROBLEM_CODES
    documented = set(re.findall(r"^\| `([a-z]+(?:-[a-z]+)+)` \|", REFERENCE.read_text(), flags=re.MULTILINE))
    assert codes <= documented, f"undocumented problem codes: {sorted(codes - documented)}"
    assert "duplicate-step-id" in codes
