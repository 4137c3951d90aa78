"""docs/openapi.json and docs/api-reference.md are what the app generates, and what they say is so."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.api.conftest import Api
from tests.api.routes_walk import documented_rules, operations
from wirehub.api.problem_codes import BY_ROUTE, EVERYWHERE, PAGED
from wirehub.api.reference import COMMAND, OPENAPI_FILE, REFERENCE_FILE, generate, stale_files
from wirehub.api.reference.__main__ import main
from wirehub.api.reference._document import reference_app

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
ROUTES = ROOT / "hub" / "src" / "wirehub" / "api" / "routes"
_RAISED = re.compile(r'ApiError\(\s*(\d{3}),\s*"([a-z-]+)"')
_ENTRY = re.compile(r"^`([A-Z]+) (/\S*)` · permission: `([^`]+)`$", re.MULTILINE)


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return generate()


def test_the_committed_reference_is_what_the_app_generates(generated: dict[str, str]) -> None:
    for name, text in generated.items():
        assert (DOCS / name).read_text(encoding="utf-8") == text, f"docs/{name} is out of date: run {COMMAND}"


def test_generating_twice_gives_the_same_bytes_with_sorted_keys(generated: dict[str, str]) -> None:
    assert generate() == generated
    document = json.loads(generated[OPENAPI_FILE])
    assert list(document) == sorted(document)
    assert list(document["paths"]) == sorted(document["paths"])
    assert generated[OPENAPI_FILE].startswith('{\n  "components"')  # pretty-printed


async def test_the_committed_document_is_the_one_the_running_app_serves(api: Api) -> None:
    response = await api.client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert response.json() == json.loads((DOCS / OPENAPI_FILE).read_text(encoding="utf-8"))


def test_the_check_command_finds_a_stale_file_and_writing_brings_it_up_to_date(tmp_path: Path) -> None:
    assert sorted(stale_files(tmp_path)) == sorted([OPENAPI_FILE, REFERENCE_FILE])
    assert main([str(tmp_path), "--check"]) == 1
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--check"]) == 0
    (tmp_path / REFERENCE_FILE).write_text("edited by hand\n", encoding="utf-8")
    assert stale_files(tmp_path) == [REFERENCE_FILE]


def test_the_page_lists_every_operation_with_the_permission_of_the_docs_table(generated: dict[str, str]) -> None:
    listed = {(method, path): rule for method, path, rule in _ENTRY.findall(generated[REFERENCE_FILE])}
    document = json.loads(generated[OPENAPI_FILE])
    in_document = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert set(listed) == in_document
    table = documented_rules()
    assert {key: table[key] for key in listed} == listed


def test_each_operation_lists_its_parameters_body_and_the_codes_of_its_problems(generated: dict[str, str]) -> None:
    page = generated[REFERENCE_FILE]
    start = page.index("`POST /api/v1/workspaces/{workspace_id}/workflows/{workflow_id}/executions`")
    entry = page[start : page.index("\n### ", start)]
    assert "| `Idempotency-Key` | header |" in entry
    assert "Request body: [`StartExecution`](#startexecution-schema)" in entry
    assert "| 201 | [`ExecutionOut`](#executionout-schema) |" in entry
    assert (
        "| 409 | problem | `conflict`, `idempotency-conflict`, `node-type-not-allowed`, `workflow-archived` |" in entry
    )
    assert "| 422 | problem | `invalid-input`, `unprocessable` |" in entry
    assert "### StartExecution (schema)" in page
    failures = page[page.index("`GET /api/v1/workspaces/{workspace_id}/failures`") :]
    assert "| `error_kind` | query |" in failures
    assert "invalid-cursor" in failures.split("\n### ", 1)[0]


def test_every_operation_named_by_the_code_catalogue_exists_and_answers_those_statuses(
    generated: dict[str, str],
) -> None:
    paths = json.loads(generated[OPENAPI_FILE])["paths"]
    for (method, path), by_status in BY_ROUTE.items():
        operation = paths[path][method.lower()]
        for status in by_status:
            assert str(status) in operation["responses"], (method, path, status)


def test_every_code_a_route_module_raises_is_listed_for_one_of_its_operations() -> None:
    declared: dict[str, set[tuple[int, str]]] = {}
    for operation in operations(reference_app()):
        module = operation.handler.fn.__module__.rsplit(".", 1)[-1]
        for status, codes in BY_ROUTE.get(operation.key, {}).items():
            declared.setdefault(module, set()).update((status, code) for code in codes)
    everywhere = {
        (status, code) for source in (EVERYWHERE, PAGED) for status, codes in source.items() for code in codes
    }
    checked = 0
    for source in sorted(ROUTES.glob("*.py")):
        for status, code in _RAISED.findall(source.read_text(encoding="utf-8")):
            checked += 1
            found = (int(status), code)
            assert found in declared.get(source.stem, set()) | everywhere, (source.name, found)
    assert checked >= 15


def test_the_api_guide_and_the_readme_link_the_reference() -> None:
    guide = (DOCS / "api.md").read_text(encoding="utf-8")
    assert "(api-reference.md)" in guide
    assert "(openapi.json)" in guide
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/api-reference.md)" in readme
    assert "(docs/openapi.json)" in readme
