"""``core.http`` reading bodies a hostile server sends: clear errors, never a traceback."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.plugins.test_http_node import call
from tests.support.local_http import LocalServer
from wirehub_sdk import NonRetryableError

HOSTILE = {
    "1000-deep": "[" * 1_000 + "]" * 1_000,
    "5000-digits": '{"n": 1' + "0" * 5_000 + "}",
    "lone-surrogate": '{"s": "\\ud800"}',
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_json_body_fails_the_attempt_clearly_when_json_is_required(
    server: LocalServer, body: str
) -> None:
    url = server.url(f"/content?type=application/json&body={quote(body)}")
    with pytest.raises(NonRetryableError) as failed:
        await call({"url": url, "response_format": "json"})
    assert failed.value.kind == "http.decoding"
    assert "is not JSON: it" in str(failed.value)


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_json_body_is_kept_as_text_in_auto_mode(server: LocalServer, body: str) -> None:
    output = await call({"url": server.url(f"/content?type=application/json&body={quote(body)}")})
    assert (output.body, output.body_encoding) == (body, "text")
