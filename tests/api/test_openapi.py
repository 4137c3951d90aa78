"""The OpenAPI document at /schema/openapi.json describes every operation, and its docs page works offline."""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Api
from tests.api.routes_walk import PUBLIC, is_docs_path, operations, rule_of
from wirehub.api.problem_codes import EVERYWHERE as EVERYWHERE_CODES
from wirehub.api.problems import PROBLEM_MEDIA_TYPE

PROBLEM_REF = "#/components/schemas/ProblemDetails"
EVERYWHERE = {"400", "429", "431", "500", "503"}


async def _schema(api: Api) -> dict[str, Any]:
    response = await api.client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    assert schema["openapi"].startswith("3.1")
    return schema


async def test_every_operation_of_the_app_is_in_the_schema_and_nothing_else(api: Api) -> None:
    schema = await _schema(api)
    served = {(op.method.lower(), op.path) for op in operations(api.client.app) if not is_docs_path(op.path)}
    served -= {("get", "/metrics"), ("get", "/api/v1/live")}  # Prometheus' scrape and the WebSocket: not REST
    documented = {(method, path) for path, item in schema["paths"].items() for method in item if method != "parameters"}
    assert documented == served


async def test_every_operation_has_a_summary_an_id_its_parameters_and_a_success_response(api: Api) -> None:
    schema = await _schema(api)
    ids = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            ids.append(operation["operationId"])
            assert operation.get("summary"), (method, path)
            assert operation.get("tags"), (method, path)
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)
            for parameter in operation.get("parameters", []):
                assert "schema" in parameter, (method, path, parameter)
            successes = [status for status in operation["responses"] if status.startswith("2")]
            assert successes, (method, path)
            for status in successes:
                if status != "204":
                    assert "application/json" in operation["responses"][status]["content"], (method, path)
    assert len(ids) == len(set(ids))


async def test_every_body_is_described_and_the_definition_has_its_schema(api: Api) -> None:
    schema = await _schema(api)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody")
            if method in ("post", "put", "patch") and path.endswith(("/workflows", "/workflows/{workflow_id}")):
                assert body is not None, (method, path)
            if body is not None:
                assert "application/json" in body["content"], (method, path)
    create = schema["paths"]["/api/v1/workspaces/{workspace_id}/workflows"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Workflow"}
    workflow = schema["components"]["schemas"]["Workflow"]
    assert {"name", "steps"} <= set(workflow["properties"])
    validate = schema["paths"]["/api/v1/workspaces/{workspace_id}/workflows/validate"]["post"]
    assert validate["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/Workflow")
    # every $ref resolves inside the document
    text = str(schema)
    for ref in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert ref in schema["components"]["schemas"], ref


async def test_every_operation_documents_its_problem_responses(api: Api) -> None:
    schema = await _schema(api)
    rules = {(op.method.lower(), op.path): rule_of(op) for op in operations(api.client.app)}
    problem = schema["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status", "code", "correlation_id"} <= set(problem["required"])
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = set(EVERYWHERE)
            if rules[(method, path)] != PUBLIC or "requestBody" in operation:
                expected |= {"401"}
            if "{" in path:  # and where the body names something by id
                expected |= {"404"}
            if "requestBody" in operation:
                expected |= {"413", "422"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (method, path, status)
                    body, codes = response["content"][PROBLEM_MEDIA_TYPE]["schema"]["allOf"]
                    assert body == {"$ref": PROBLEM_REF}
                    assert set(EVERYWHERE_CODES[int(status)]) <= set(codes["properties"]["code"]["enum"])
                    assert response["description"]
            assert "Retry-After" in responses["503"]["headers"]


async def test_public_operations_need_no_credential_and_the_others_a_bearer_token(api: Api) -> None:
    schema = await _schema(api)
    assert schema["security"] == [{"BearerToken": []}]
    public = {
        (method, path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if operation.get("security") == []
    }
    assert public == {
        ("get", "/health/live"),
        ("get", "/health/ready"),
        ("post", "/api/v1/auth/token"),
        ("post", "/api/v1/auth/refresh"),
    }


async def test_a_documented_problem_is_what_the_app_answers(api: Api) -> None:
    schema = await _schema(api)
    problem = schema["components"]["schemas"]["ProblemDetails"]
    response = await api.client.get(
        "/api/v1/workspaces/00000000-0000-7000-8000-000000000001/workflows?limit=0", headers=api.admin
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    body = response.json()
    assert set(problem["required"]) <= set(body) <= set(problem["properties"])
    listed = schema["paths"]["/api/v1/workspaces/{workspace_id}/workflows"]["get"]["responses"]["400"]
    codes = listed["content"][PROBLEM_MEDIA_TYPE]["schema"]["allOf"][1]["properties"]["code"]["enum"]
    assert body["code"] in codes
    assert "invalid-cursor" in codes  # the route pages with a cursor
    assert set(body["errors"][0]) <= set(schema["components"]["schemas"]["ProblemItem"]["properties"])


async def test_the_docs_page_loads_every_asset_from_the_hub_itself(api: Api) -> None:
    page = await api.client.get("/schema/swagger")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    sources = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
    assert sources, page.text
    external = [url for url in sources if re.match(r"^(https?:)?//", url)]
    assert external == []
    for url in sources:
        asset = await api.client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert '"openapi":"3.1' in page.text  # the document is inlined in the page: nothing else to fetch
    bundle = await api.client.get("/schema/assets/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content
