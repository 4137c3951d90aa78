"""``core.http`` against a real HTTP server on 127.0.0.1, and the built-in credential types."""

from __future__ import annotations

import base64
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from tests.support.local_http import LOOPBACK, LocalServer
from wirehub_core.credentials import (
    CREDENTIAL_TYPES,
    BasicCredential,
    BasicFields,
    BearerCredential,
    BearerFields,
    HeaderKeyCredential,
    HeaderKeyFields,
    QueryKeyCredential,
)
from wirehub_core.http import HttpConfig, HttpInput, HttpNode, HttpOutput, parse_retry_after
from wirehub_sdk import (
    ConfigError,
    CredentialType,
    EgressClient,
    EgressDeniedError,
    EgressPolicy,
    NonRetryableError,
    RetryableError,
)
from wirehub_sdk.testing import idempotency_key, make_context, run_node


async def call(
    config: dict[str, Any],
    input: Any = None,
    *,
    policy: EgressPolicy = LOOPBACK,
    credential: dict[str, Any] | None = None,
    credential_type: type[CredentialType] | None = None,
) -> HttpOutput:
    """Runs one attempt of core.http as the hub would (config and input converted, output checked)."""
    output = await run_node(
        HttpNode,
        config=config,
        input=input,
        egress_policy=policy,
        credential=credential,
        credential_type=credential_type,
    )
    assert isinstance(output, HttpOutput)
    return output


async def echo(server: LocalServer, config: dict[str, Any], input: Any = None, **kwargs: Any) -> dict[str, Any]:
    """What the server received, as its /echo route reports it."""
    output = await call({"url": server.url("/echo"), **config}, input, **kwargs)
    assert output.body_encoding == "json"
    received: dict[str, Any] = output.body
    return received


# --- the request -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_each_method_is_sent(server: LocalServer, method: str) -> None:
    received = await echo(server, {"method": method})
    assert received["method"] == method


async def test_a_head_request_has_no_body_in_the_output(server: LocalServer) -> None:
    output = await call({"method": "HEAD", "url": server.url("/echo")})
    assert output.status == 200
    assert (output.body, output.body_encoding) == (None, "none")
    assert server.requests[0].method == "HEAD"


async def test_a_json_body_is_sent_as_json(server: LocalServer) -> None:
    received = await echo(server, {"method": "POST", "body": {"order": 7, "items": [1, None], "ok": True}})
    assert received["body"] == '{"order":7,"items":[1,null],"ok":true}'
    assert received["headers"]["content-type"] == "application/json"


async def test_a_form_body_is_url_encoded(server: LocalServer) -> None:
    config = {"method": "POST", "body_type": "form", "body": {"name": "Ada L", "tags": ["x", "y"], "n": 3}}
    received = await echo(server, config)
    assert received["body"] == "name=Ada+L&tags=x&tags=y&n=3"
    assert received["headers"]["content-type"] == "application/x-www-form-urlencoded"


async def test_a_raw_body_is_sent_as_is_with_its_content_type(server: LocalServer) -> None:
    received = await echo(
        server, {"method": "PUT", "body_type": "raw", "body": "a,b\n1,2\n", "content_type": "text/csv"}
    )
    assert received["body"] == "a,b\n1,2\n"
    assert received["headers"]["content-type"] == "text/csv"
    plain = await echo(server, {"method": "POST", "body_type": "raw", "body": "héllo"})
    assert plain["body"] == "héllo"
    assert plain["headers"]["content-type"] == "text/plain; charset=utf-8"


async def test_content_type_overrides_the_json_default(server: LocalServer) -> None:
    received = await echo(server, {"method": "POST", "body": {"a": 1}, "content_type": "application/vnd.api+json"})
    assert received["headers"]["content-type"] == "application/vnd.api+json"


async def test_config_headers_are_sent_and_input_headers_override_them(server: LocalServer) -> None:
    config = {"headers": {"X-Trace": "config", "Accept": "application/json"}}
    received = await echo(server, config, {"headers": {"x-trace": "input", "X-Extra": "1"}})
    assert received["headers"]["x-trace"] == "input"
    assert received["headers"]["x-extra"] == "1"
    assert received["headers"]["accept"] == "application/json"


async def test_query_parameters_merge_url_config_and_input(server: LocalServer) -> None:
    config = {"url": server.url("/echo?fixed=1"), "query": {"page": 1, "tags": ["a", "b"], "flag": True}}
    output = await call(config, {"query": {"page": 2}})
    assert output.body["query"] == {"fixed": ["1"], "page": ["2"], "tags": ["a", "b"], "flag": ["true"]}


async def test_the_input_url_replaces_the_config_url(server: LocalServer) -> None:
    output = await call({"url": server.url("/status/500")}, {"url": server.url("/echo")})
    assert output.status == 200
    assert [seen.path for seen in server.requests] == ["/echo"]


async def test_the_input_body_replaces_the_config_body(server: LocalServer) -> None:
    received = await echo(server, {"method": "POST", "body": {"from": "config"}}, {"body": {"from": "input"}})
    assert received["body"] == '{"from":"input"}'


async def test_the_whole_scope_as_input_changes_nothing(server: LocalServer) -> None:
    # An input whose keys are not the node's fields (another step's output, a scope) overrides nothing.
    scope = {"input": {"url": "http://example.com/"}, "steps": {"a": {"status": 1}}}
    received = await echo(server, {"method": "POST", "body": {"x": 1}}, scope)
    assert received["body"] == '{"x":1}'


async def test_without_any_url_the_step_fails_as_misconfigured() -> None:
    with pytest.raises(ConfigError, match="needs a URL"):
        await call({"method": "GET"})


@pytest.mark.parametrize(
    "config",
    [
        {"url": "ftp://example.com/file"},
        {"url": "http://example.com/", "method": "TRACE"},
        {"url": "http://example.com/", "body_type": "raw", "body": {"not": "a string"}},
        {"url": "http://example.com/", "body_type": "form", "body": {"nested": {"no": 1}}},
        {"url": "http://example.com/", "headers": {"Bad Header": "x"}},
        {"url": "http://example.com/", "headers": {"X-Inject": "a\r\nb: c"}},
        {"url": "http://example.com/", "timeout_seconds": 0},
        {"url": "http://example.com/", "accept_status": [700]},
        {"url": "http://example.com/", "surprise": True},
    ],
)
async def test_a_config_that_does_not_fit_is_refused_before_running(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        await call(config)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(config, HttpConfig)


async def test_an_input_body_that_does_not_fit_the_body_type_fails(server: LocalServer) -> None:
    with pytest.raises(ConfigError, match="body_type raw"):
        await call({"url": server.url("/echo"), "method": "POST", "body_type": "raw"}, {"body": [1, 2]})
    assert server.requests == []


async def test_the_config_has_a_json_schema() -> None:
    schema = msgspec.json.schema(HttpConfig)
    assert "HttpConfig" in schema["$defs"]


# --- idempotency and credentials ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_unsafe_methods_carry_the_idempotency_key(server: LocalServer, method: str) -> None:
    received = await echo(server, {"method": method})
    assert received["headers"]["idempotency-key"] == idempotency_key("test-execution", "step")


async def test_safe_methods_carry_no_idempotency_key(server: LocalServer) -> None:
    received = await echo(server, {"method": "GET"})
    assert "idempotency-key" not in received["headers"]


async def test_an_idempotency_key_in_the_config_is_kept(server: LocalServer) -> None:
    received = await echo(server, {"method": "POST", "headers": {"Idempotency-Key": "mine"}})
    assert received["headers"]["idempotency-key"] == "mine"


async def test_a_bearer_credential_is_applied(server: LocalServer) -> None:
    received = await echo(server, {}, credential={"token": "t0ken"}, credential_type=BearerCredential)
    assert received["headers"]["authorization"] == "Bearer t0ken"


async def test_a_basic_credential_is_applied(server: LocalServer) -> None:
    fields = {"username": "ada", "password": "pässword"}
    received = await echo(server, {}, credential=fields, credential_type=BasicCredential)
    assert received["headers"]["authorization"] == "Basic " + base64.b64encode("ada:pässword".encode()).decode()


async def test_a_header_credential_is_applied(server: LocalServer) -> None:
    fields = {"header": "X-Acme-Key", "value": "k3y"}
    received = await echo(server, {}, credential=fields, credential_type=HeaderKeyCredential)
    assert received["headers"]["x-acme-key"] == "k3y"
    default = await echo(server, {}, credential={"value": "k3y"}, credential_type=HeaderKeyCredential)
    assert default["headers"]["x-api-key"] == "k3y"


async def test_a_query_credential_is_applied_and_kept_out_of_the_output(server: LocalServer) -> None:
    fields = {"param": "key", "value": "s3cret"}
    output = await call({"url": server.url("/echo?page=1")}, credential=fields, credential_type=QueryKeyCredential)
    assert output.body["query"] == {"page": ["1"], "key": ["s3cret"]}
    assert "s3cret" not in output.url
    assert output.url == server.url("/echo?page=1")


async def test_a_credential_does_not_follow_a_redirect_to_another_origin(
    server: LocalServer, other_server: LocalServer
) -> None:
    config = {"url": server.url(f"/redirect?to={other_server.url('/echo')}")}
    output = await call(config, credential={"token": "t0ken"}, credential_type=BearerCredential)
    assert server.requests[0].headers["authorization"] == "Bearer t0ken"
    assert "authorization" not in output.body["headers"]


def test_the_credential_types_declare_their_names_and_secrets() -> None:
    assert {t.name: t.secret_fields for t in CREDENTIAL_TYPES} == {
        "core.bearer": frozenset({"token"}),
        "core.basic": frozenset({"password"}),
        "core.header": frozenset({"value"}),
        "core.query": frozenset({"value"}),
    }
    assert set(HttpNode.credential_types) == {t.name for t in CREDENTIAL_TYPES}
    assert BasicCredential.redact({"username": "ada", "password": "p"}) == {"username": "ada", "password": "***"}


def test_credential_fields_are_validated() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"username": "a:b", "password": "p"}, BasicFields)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"header": "Bad Header", "value": "v"}, HeaderKeyFields)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"header": "X-Key", "value": "v\r\nX-Injected: 1"}, HeaderKeyFields)


@pytest.mark.parametrize("header", ["Host", "Transfer-Encoding", "proxy-authorization"])
def test_a_header_credential_may_not_name_a_header_the_client_sets(header: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"header": header, "value": "v"}, HeaderKeyFields)


@pytest.mark.parametrize("token", ["a\x0bb", "a\u2028b", " padded"])
def test_a_bearer_token_that_cannot_be_sent_is_refused(token: str) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"token": token}, BearerFields)


def test_a_credential_applies_from_a_plain_mapping_too() -> None:
    request = httpx.Request("GET", "https://api.example.com/items?key=old")
    QueryKeyCredential().apply({"param": "key", "value": "new"}, request)
    assert request.url.params.get_list("key") == ["new"]


# --- timeouts and network errors ---------------------------------------------------------------


async def test_a_slow_response_is_a_retryable_timeout(server: LocalServer) -> None:
    with pytest.raises(RetryableError) as failed:
        await call({"url": server.url("/slow?seconds=10"), "timeout_seconds": 0.3})
    assert failed.value.kind == "http.timeout"


async def test_the_step_deadline_bounds_the_request(server: LocalServer, http: EgressClient) -> None:
    node = HttpNode()
    ctx = make_context(node, http=http, timeout_seconds=0.3)
    config = msgspec.convert({"url": server.url("/slow?seconds=10"), "timeout_seconds": 60}, HttpConfig)
    with pytest.raises(RetryableError) as failed:
        await node.execute(ctx, config, None)
    assert failed.value.kind == "http.timeout"
    assert "after 60 s" not in failed.value.message  # the deadline, not the config, set the bound


async def test_a_passed_deadline_sends_nothing(server: LocalServer, http: EgressClient) -> None:
    node = HttpNode()
    ctx = make_context(node, http=http)
    ctx.deadline = datetime.now(UTC) - timedelta(seconds=1)
    config = msgspec.convert({"url": server.url("/echo")}, HttpConfig)
    with pytest.raises(RetryableError, match="deadline"):
        await node.execute(ctx, config, None)
    assert server.requests == []


async def test_a_refused_connection_is_a_retryable_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request: nothing listens there
    with pytest.raises(RetryableError) as failed:
        await call({"url": f"http://127.0.0.1:{port}/"})
    assert failed.value.kind == "http.network"


# --- statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
async def test_server_errors_and_throttling_are_retryable(server: LocalServer, status: int) -> None:
    with pytest.raises(RetryableError) as failed:
        await call({"url": server.url(f"/status/{status}")})
    assert failed.value.kind == "http.status"
    assert failed.value.details["status"] == status
    assert failed.value.retry_after is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_other_client_errors_are_not_retryable(server: LocalServer, status: int) -> None:
    with pytest.raises(NonRetryableError) as failed:
        await call({"url": server.url(f"/status/{status}?token=hidden")})
    error = failed.value
    assert (error.kind, error.retryable) == ("http.status", False)
    assert error.details == {
        "status": status,
        "url": server.url(f"/status/{status}"),
        "body": f'{{"status": {status}}}',
    }
    assert str(status) in error.message


async def test_retry_after_in_seconds_is_passed_on(server: LocalServer) -> None:
    with pytest.raises(RetryableError) as failed:
        await call({"url": server.url("/status/503?retry_after=120")})
    assert failed.value.retry_after == 120


async def test_retry_after_as_an_http_date_is_passed_on(server: LocalServer) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    with pytest.raises(RetryableError) as failed:
        await call({"url": server.url("/status/429"), "query": {"retry_after": when}})
    assert failed.value.retry_after is not None
    assert 80 <= failed.value.retry_after <= 90


def test_retry_after_parsing() -> None:
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Sun, 01 Nov 2026 12:02:00 GMT", now) == 120
    assert parse_retry_after("Sun, 01 Nov 2026 11:00:00 GMT", now) == 0  # already passed
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
    assert parse_retry_after(None, now) is None


async def test_accepted_statuses_succeed(server: LocalServer) -> None:
    output = await call({"url": server.url("/status/404"), "accept_status": [404]})
    assert (output.status, output.body) == (404, {"status": 404})


async def test_statuses_do_not_fail_when_asked(server: LocalServer) -> None:
    output = await call({"url": server.url("/status/503"), "fail_on_status": False})
    assert output.status == 503


# --- limits and redirects ----------------------------------------------------------------------


async def test_a_gzip_bomb_fails_the_step_without_retry(server: LocalServer) -> None:
    config = {"url": server.url(f"/gzip?size={16 * 1024 * 1024}"), "max_response_bytes": 1024 * 1024}
    with pytest.raises(NonRetryableError) as failed:
        await call(config)
    assert failed.value.kind == "http.too_large"


async def test_the_config_cannot_raise_the_operator_body_limit(server: LocalServer) -> None:
    policy = EgressPolicy(allow_networks=("127.0.0.0/8",), max_response_bytes=1000)
    with pytest.raises(NonRetryableError, match="larger than 1000 bytes"):
        await call({"url": server.url("/bytes?size=2000"), "max_response_bytes": 10**9}, policy=policy)


async def test_redirects_are_followed_to_the_final_url(server: LocalServer) -> None:
    output = await call({"url": server.url("/hops/2")})
    assert output.body == {"hops": "done"}
    assert output.url == server.url("/hops/0")


async def test_too_many_redirects_fail_without_retry(server: LocalServer) -> None:
    with pytest.raises(NonRetryableError) as failed:
        await call({"url": server.url("/hops/3"), "max_redirects": 1})
    assert failed.value.kind == "http.redirects"


async def test_a_303_after_a_post_becomes_a_get(server: LocalServer) -> None:
    output = await call({"url": server.url("/redirect?status=303&to=/echo"), "method": "POST", "body": {"a": 1}})
    assert output.body["method"] == "GET"
    assert output.body["body"] == ""


async def test_a_redirect_is_the_output_when_not_followed(server: LocalServer) -> None:
    output = await call({"url": server.url("/hops/1"), "follow_redirects": False})
    assert output.status == 302
    assert output.headers["location"] == "/hops/0"


async def test_a_redirect_into_a_forbidden_address_is_refused(server: LocalServer) -> None:
    target = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(EgressDeniedError) as failed:
        await call({"url": server.url(f"/redirect?to={target}")})
    assert (failed.value.kind, failed.value.retryable) == ("http.egress_denied", False)
    assert "169.254.169.254" in failed.value.message


async def test_loopback_is_refused_without_the_operator_allowing_it(server: LocalServer) -> None:
    with pytest.raises(EgressDeniedError, match="loopback"):
        await call({"url": server.url("/echo")}, policy=EgressPolicy())
    assert server.connections == 0


# --- the output --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media_type", "body", "expected", "encoding"),
    [
        ("application/json", '{"a": [1, 2]}', {"a": [1, 2]}, "json"),
        ("application/json; charset=utf-8", "[true, null]", [True, None], "json"),
        ("application/problem+json", '{"title": "x"}', {"title": "x"}, "json"),
        ("application/json", "not json", "not json", "text"),
        ("text/plain", "hello", "hello", "text"),
        ("text/html; charset=utf-8", "<p>é</p>", "<p>é</p>", "text"),
        ("application/xml", "<a/>", "<a/>", "text"),
        ("text/plain", "", None, "none"),
    ],
)
async def test_the_body_is_parsed_by_content_type(
    server: LocalServer, media_type: str, body: str, expected: Any, encoding: str
) -> None:
    output = await call({"url": server.url("/content"), "query": {"type": media_type, "body": body}})
    assert (output.body, output.body_encoding) == (expected, encoding)
    assert output.headers["content-type"] == media_type
    assert output.size == len(body.encode())


async def test_a_binary_body_is_base64(server: LocalServer) -> None:
    output = await call({"url": server.url("/binary")})
    assert output.body_encoding == "base64"
    assert base64.b64decode(output.body) == bytes(range(256))
    assert output.size == 256


@pytest.mark.parametrize(
    ("response_format", "expected", "encoding"),
    [
        ("text", '{"a": 1}', "text"),
        ("base64", base64.b64encode(b'{"a": 1}').decode(), "base64"),
        ("none", None, "none"),
    ],
)
async def test_the_response_format_can_be_forced(
    server: LocalServer, response_format: str, expected: Any, encoding: str
) -> None:
    config = {"url": server.url("/content"), "query": {"type": "application/json", "body": '{"a": 1}'}}
    output = await call({**config, "response_format": response_format})
    assert (output.body, output.body_encoding) == (expected, encoding)


async def test_forcing_json_on_a_body_that_is_not_json_fails(server: LocalServer) -> None:
    config = {
        "url": server.url("/content"),
        "query": {"type": "text/plain", "body": "plain"},
        "response_format": "json",
    }
    with pytest.raises(NonRetryableError) as failed:
        await call(config)
    assert failed.value.kind == "http.decoding"


async def test_a_compressed_body_is_returned_decoded(server: LocalServer) -> None:
    output = await call({"url": server.url("/gzip?size=1000"), "response_format": "base64"})
    assert base64.b64decode(output.body) == b"\0" * 1000
    assert output.size == 1000


# --- the reference stays true to the code ------------------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "http.md"


@pytest.mark.parametrize("struct", [HttpConfig, HttpInput, HttpOutput], ids=lambda s: s.__name__)
def test_every_field_is_documented(struct: type[msgspec.Struct]) -> None:
    text = DOC.read_text()
    assert [f for f in struct.__struct_fields__ if f"| `{f}` |" not in text] == []


def test_every_credential_type_and_setting_is_documented() -> None:
    text = DOC.read_text()
    names = [t.name for t in CREDENTIAL_TYPES] + ["WIREHUB_EGRESS_ALLOW_HOSTS", "WIREHUB_EGRESS_ALLOW_NETWORKS"]
    assert [n for n in names if f"`{n}`" not in text] == []


# --- headers that belong to the client, and values that cannot be sent ---------------------------

CLIENT_OWNED = ["Host", "host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "TE", "Trailer"]
CLIENT_OWNED += ["Keep-Alive", "Expect", "Proxy-Authorization", "Proxy-Connection"]
UNSENDABLE_VALUES = ["a\x0bb", "a\rb", "a\nb", "a\x00b", "a\u2028b", "snow\u2603man", "\x7f", "\x85", " lead", "tail "]


def _problems(config: dict[str, Any]) -> list[tuple[str, str]]:
    from wirehub.engine import validate_definition
    from wirehub.plugins import build_registry
    from wirehub_core import core

    definition = {"name": "h", "steps": [{"id": "call", "type": "core.http", "config": config}]}
    report = validate_definition(definition, build_registry(extra_plugins=[core]))
    return [(problem.pointer, problem.message) for problem in report.problems]


@pytest.mark.parametrize("name", CLIENT_OWNED)
def test_a_header_the_client_sets_is_refused_at_validation(name: str) -> None:
    problems = _problems({"url": "https://api.example/", "headers": {name: "x", "Accept": "text/plain"}})
    assert len(problems) == 1, problems
    pointer, message = problems[0]
    assert pointer == "/steps/0/config/headers"
    assert f'"{name}"' in message
    assert "The client sets Host, Content-Length, Transfer-Encoding" in message


@pytest.mark.parametrize("value", UNSENDABLE_VALUES)
def test_a_header_value_that_cannot_be_sent_is_refused_at_validation(value: str) -> None:
    problems = _problems({"url": "https://api.example/", "headers": {"X-Thing": value}})
    assert [pointer for pointer, _ in problems] == ["/steps/0/config/headers/X-Thing"]
    assert "no control characters" in problems[0][1]
    assert _problems({"url": "https://api.example/", "content_type": value})[0][0] == "/steps/0/config/content_type"


def test_headers_with_latin_1_and_inner_spaces_are_valid() -> None:
    assert _problems({"url": "https://api.example/", "headers": {"X-Name": "Ren\xe9e  M\xfcller", "X-T": "a\tb"}}) == []


@pytest.mark.parametrize("url", ["ftp://", "ftp://example.com/file", "file:///etc/passwd", "gopher://x"])
def test_a_url_with_another_scheme_is_one_problem_about_the_scheme(url: str) -> None:
    problems = _problems({"url": url})
    assert [pointer for pointer, _ in problems] == ["/steps/0/config/url"]
    assert "http:// or https://" in problems[0][1]


@pytest.mark.parametrize("name", ["Host", "Transfer-Encoding", "Content-Length", "proxy-authorization"])
async def test_a_header_the_client_sets_from_an_expression_fails_without_being_sent(
    server: LocalServer, name: str
) -> None:
    with pytest.raises(ConfigError, match=f"the header '{name}' is the HTTP client's to set") as caught:
        await call({"url": server.url("/echo"), "method": "POST", "body": {"a": 1}}, {"headers": {name: "evil"}})
    assert caught.value.retryable is False
    assert server.requests == []


@pytest.mark.parametrize("value", UNSENDABLE_VALUES)
async def test_a_header_value_from_an_expression_that_cannot_be_sent_fails_without_retry(
    server: LocalServer, value: str
) -> None:
    with pytest.raises(ConfigError, match="the value of header 'X-Thing' is not valid") as caught:
        await call({"url": server.url("/echo")}, {"headers": {"X-Thing": value}})
    assert caught.value.retryable is False
    assert server.requests == []


async def test_a_config_built_in_code_is_checked_when_it_runs(server: LocalServer) -> None:
    node = HttpNode()
    async with EgressClient(LOOPBACK) as client:
        ctx = make_context(node, http=client)
        config = HttpConfig(url=server.url("/echo"), headers={"Host": "internal.example"})
        with pytest.raises(ConfigError, match="'Host'"):
            await node.execute(ctx, config, None)
    assert server.requests == []


async def test_the_url_host_is_sent_and_latin_1_values_arrive_intact(server: LocalServer) -> None:
    received = await echo(server, {"headers": {"X-Name": "Ren\xe9e"}})
    assert received["headers"]["host"] == f"127.0.0.1:{server.port}"
    assert server.requests[-1].headers["x-name"].encode("latin-1") == "Ren\xe9e".encode("latin-1")
