"""schemathesis against the app's own OpenAPI document, in process, with an admin's token.

Every operation gets ``MAX_EXAMPLES`` generated requests (derandomized: the same ones every
run), sent through Litestar's test client to the real app on the embedded hub. Each answer
must not be a 5xx, and its status, content type, headers and body must be what the document
says. Logging out gets a fresh token for each request (it revokes the one it is sent with).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ADMIN
from wirehub.api import create_app
from wirehub.runtime.registry import NodeRegistry
from wirehub.settings import Settings

MAX_EXAMPLES = 15
BASE_URL = "http://testserver.local"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
LOGOUT = "/api/v1/auth/logout"


def _login(client: TestClient[Any]) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _send(client: TestClient[Any], kwargs: dict[str, Any]) -> httpx.Response:
    """A request as schemathesis describes it (requests' arguments), sent with the test client (httpx)."""
    kwargs = dict(kwargs)
    data = kwargs.pop("data", None)
    if isinstance(data, str | bytes):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    kwargs.pop("timeout", None)
    assert not kwargs.pop("cookies", None)  # the API reads no cookie
    return client.request(kwargs.pop("method"), kwargs.pop("url"), **kwargs)


def _fuzz(operation: Any, client: TestClient[Any], headers: Callable[[], dict[str, str]]) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        sent = headers()
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=sent)
        response = _send(client, kwargs)
        case.validate_response(response, checks=CHECKS, headers=sent, transport_kwargs=kwargs)

    run()


def test_every_operation_answers_as_its_schema_says(api_settings: Settings, registry: NodeRegistry) -> None:
    app = create_app(api_settings, registry=registry)
    failures: list[str] = []
    started = time.monotonic()
    with TestClient(app=app, base_url=BASE_URL) as client:
        admin = _login(client)
        document = client.get("/schema/openapi.json").json()
        schema = schemathesis.openapi.from_dict(document)
        results = list(schema.get_all_operations())
        assert [result.err() for result in results if isinstance(result, Err)] == []
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        assert len(operations) >= 45
        for operation in operations:
            fresh = operation.path == LOGOUT
            try:
                _fuzz(operation, client, (lambda: _login(client)) if fresh else (lambda: admin))
            except (Exception, BaseExceptionGroup) as exc:  # every operation's failure is collected, then reported
                failures.append(f"{operation.label}: {exc}"[:3000])
    elapsed = time.monotonic() - started
    Path(api_settings.database_url.rpartition("///")[2]).unlink(missing_ok=True)
    assert failures == [], "\n\n".join(failures)
    assert elapsed < 120, elapsed
