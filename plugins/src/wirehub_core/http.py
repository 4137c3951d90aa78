"""``core.http``: one HTTP request through the hub's egress-checked client.

The step's config describes the request; its mapped input may override the
URL, add headers and query parameters, and replace the body. The output is
the status, the headers and the body parsed by content type. Failures are
raised with retry semantics: 5xx, 408, 429 and network trouble may be
retried by the step's policy, other 4xx may not.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

import httpx
import msgspec

from wirehub_core.headers import HeaderName, HeaderValue, header_problems
from wirehub_sdk import (
    ConfigError,
    JSONBodyError,
    NodeContext,
    NodeType,
    NonRetryableError,
    RetryableError,
    decode_json,
)

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
BodyType = Literal["json", "form", "raw"]
ResponseFormat = Literal["auto", "json", "text", "base64", "none"]
BodyEncoding = Literal["json", "text", "base64", "none"]
# The pattern alone says what is wrong with "ftp://..." (a length bound would add a second, confusing problem).
Url = Annotated[
    str,
    msgspec.Meta(
        max_length=8192,
        pattern=r"(?i)^https?://\S+$",
        description="An absolute http:// or https:// URL; other schemes are refused.",
    ),
]
QueryScalar = str | int | float | bool
QueryValue = QueryScalar | list[QueryScalar]
Status = Annotated[int, msgspec.Meta(ge=100, le=599)]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRYABLE_4XX = frozenset({408, 429})
EXCERPT_CHARS = 1024
_TEXT_TYPES = frozenset(
    {"application/xml", "application/javascript", "application/x-www-form-urlencoded", "application/yaml"}
)


class HttpConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Config of ``core.http``."""

    url: Url | None = None
    """The URL; the input's ``url`` replaces it. One of the two is required."""
    method: Method = "GET"
    headers: dict[HeaderName, HeaderValue] = {}
    """Request headers; the client's own (Host, Content-Length, Transfer-Encoding...) are refused."""
    query: dict[str, QueryValue] = {}
    """Added to the URL's query string."""
    body: Any = None
    """The request body, sent as ``body_type`` says; ``null`` sends none."""
    body_type: BodyType = "json"
    """``json``: any JSON value; ``form``: an object of scalars, URL-encoded; ``raw``: a string sent as is."""
    content_type: HeaderValue | None = None
    """Overrides the body's Content-Type (``raw`` bodies default to ``text/plain; charset=utf-8``)."""
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 30.0
    """Bounds the whole request (every redirect and the body); the step's own timeout bounds it too."""
    follow_redirects: bool = True
    max_redirects: Annotated[int, msgspec.Meta(ge=0, le=20)] | None = None
    """At most the operator's limit."""
    max_response_bytes: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """A lower body limit than the operator's (a higher one is cut to it)."""
    fail_on_status: bool = True
    """Fail the step on a 4xx or 5xx status."""
    accept_status: list[Status] = []
    """Statuses that succeed even though ``fail_on_status`` is set, e.g. ``[404]``."""
    response_format: ResponseFormat = "auto"
    """How to read the response body: ``auto`` goes by its Content-Type."""

    def __post_init__(self) -> None:
        check_body(self.body, self.body_type)


class HttpInput(msgspec.Struct, kw_only=True):
    """What a step's mapped input may carry (other fields are ignored)."""

    url: Url | None = None
    """Replaces the config's URL."""
    headers: dict[str, str] = {}
    """Added to the config's headers, replacing those of the same name; checked as the config's are,
    when the step runs (a header the client sets, or a control character, fails the step, not retryable)."""
    query: dict[str, QueryValue] = {}
    """Added to the config's query parameters, replacing those of the same name."""
    body: Any = None
    """Replaces the config's body (sent as the config's ``body_type``)."""


class HttpOutput(msgspec.Struct, kw_only=True):
    """Output of ``core.http``."""

    status: int
    headers: dict[str, str]
    """Response headers, names lower-cased, repeated headers joined with ``", "``."""
    body: Any
    """JSON value, text, base64 text, or ``null``, as ``body_encoding`` says."""
    body_encoding: BodyEncoding
    size: int
    """Body bytes, after decompression."""
    url: str
    """The final URL, after redirects."""


def check_body(body: Any, body_type: BodyType) -> None:
    """Checks a body fits its type.

    Raises:
        TypeError: It does not.
    """
    if body is None or body_type == "json":
        return
    if body_type == "raw" and not isinstance(body, str):
        raise TypeError("a raw body must be a string")
    if body_type == "form" and not (
        isinstance(body, Mapping)
        and all(
            isinstance(value, str | int | float | bool)
            or (isinstance(value, list) and all(isinstance(item, str | int | float | bool) for item in value))
            for value in body.values()
        )
    ):
        raise TypeError("a form body must be an object of strings, numbers or booleans (or lists of them)")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date.

    Returns:
        Non-negative seconds, or ``None`` when the header is absent or invalid.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _is_text(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith("+xml")


def parse_body(response: httpx.Response, response_format: ResponseFormat) -> tuple[Any, BodyEncoding]:
    """Reads a response body as ``response_format`` says.

    Returns:
        The body and its encoding: ``json``, ``text``, ``base64`` or ``none``.

    Raises:
        NonRetryableError: Kind ``http.decoding``: ``json`` was asked for and
            the body is not JSON.
    """
    content = response.content
    if response_format == "none" or not content:
        return None, "none"
    media_type = _media_type(response)
    if response_format == "json" or (response_format == "auto" and _is_json(media_type)):
        try:
            return decode_json(content), "json"
        except JSONBodyError as exc:
            if response_format == "json":
                raise NonRetryableError(
                    f"the response from {response.url} is not JSON: {exc}", kind="http.decoding"
                ) from exc
            return response.text, "text"
    if response_format == "text" or (response_format == "auto" and _is_text(media_type)):
        return response.text, "text"
    if response_format == "auto" and not media_type:
        try:
            return content.decode("utf-8"), "text"
        except UnicodeDecodeError:
            pass
    return base64.b64encode(content).decode("ascii"), "base64"


def _excerpt(response: httpx.Response) -> str:
    media_type = _media_type(response)
    if not response.content:
        return ""
    if _is_json(media_type) or _is_text(media_type) or not media_type:
        return response.text[:EXCERPT_CHARS]
    return f"<{len(response.content)} bytes of {media_type}>"


def status_error(response: httpx.Response, method: str) -> RetryableError | NonRetryableError:
    """The error for a failing status: retryable for 5xx, 408 and 429."""
    status = response.status_code
    url = str(response.url.copy_with(query=None))
    message = f"{method} {url} answered {status} {response.reason_phrase}".rstrip()
    details = {"status": status, "url": url, "body": _excerpt(response)}
    if status >= 500 or status in RETRYABLE_4XX:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return RetryableError(message, kind="http.status", retry_after=retry_after, details=details)
    return NonRetryableError(message, kind="http.status", details=details)


class HttpNode(NodeType[HttpConfig, HttpInput | None, HttpOutput]):
    """Sends one HTTP request through the hub's egress rules."""

    name = "core.http"
    version = 1
    title = "HTTP request"
    description = (
        "Send an HTTP request to a public http(s) URL and return its status, headers and body "
        "(JSON parsed). 5xx, 408, 429, timeouts and network errors are retryable; other 4xx are not."
    )
    credential_types = ("core.bearer", "core.basic", "core.header", "core.query")
    # Its input changes the request (url, headers, query, body): only a step's own input mapping may do
    # that, never the output of the step before it (another request's response headers, say).
    takes_default_input = False

    async def execute(self, ctx: NodeContext, config: HttpConfig, input: HttpInput | None) -> HttpOutput:
        overrides = input or HttpInput()
        url = overrides.url or config.url
        if url is None:
            raise ConfigError("core.http needs a URL: set config.url or map input.url")
        body = overrides.body if overrides.body is not None else config.body
        try:
            check_body(body, config.body_type)
        except TypeError as exc:
            raise ConfigError(f"the input's body does not fit body_type {config.body_type}: {exc}") from exc
        headers = _headers(config.headers, overrides.headers)
        if config.method not in SAFE_METHODS and "idempotency-key" not in headers:
            headers["Idempotency-Key"] = ctx.idempotency_key
        content, form = _body_arguments(body, config, headers)
        timeout = _timeout(ctx, config.timeout_seconds)
        try:
            response = await ctx.http.request(
                config.method,
                url,
                params={**config.query, **overrides.query},
                headers=headers,
                content=content,
                data=form,
                auth=ctx.credential_auth,
                timeout=timeout,
                follow_redirects=config.follow_redirects,
                max_redirects=config.max_redirects,
                max_response_bytes=config.max_response_bytes,
            )
        except httpx.TimeoutException as exc:
            raise RetryableError(
                f"{config.method} {_plain(url)} timed out after {timeout:g} s", kind="http.timeout"
            ) from exc
        except httpx.DecodingError as exc:
            raise NonRetryableError(
                f"{config.method} {_plain(url)}: the body could not be decoded: {exc}", kind="http.decoding"
            ) from exc
        except httpx.RequestError as exc:
            raise RetryableError(f"{config.method} {_plain(url)} failed: {exc}", kind="http.network") from exc
        ctx.logger.info(
            "%s %s -> %d (%d bytes)",
            config.method,
            _plain(str(response.url)),
            response.status_code,
            len(response.content),
        )
        status = response.status_code
        if config.fail_on_status and status >= 400 and status not in config.accept_status:
            raise status_error(response, config.method)
        parsed, encoding = parse_body(response, "none" if config.method == "HEAD" else config.response_format)
        return HttpOutput(
            status=status,
            headers=dict(response.headers.items()),
            body=parsed,
            body_encoding=encoding,
            size=len(response.content),
            url=str(response.url),
        )


def _headers(configured: Mapping[str, str], mapped: Mapping[str, str]) -> httpx.Headers:
    """The config's headers updated by the input's, every one checked again (a Struct built in code
    is not validated, and the input's come from expressions).

    Raises:
        ConfigError: A header the client sets, or a name or value that cannot be sent.
    """
    problems = header_problems([*configured.items(), *mapped.items()])
    if problems:
        raise ConfigError(f"core.http cannot send the request: {'; '.join(problems)}")
    merged = {name.lower(): (name, value) for name, value in [*configured.items(), *mapped.items()]}
    # Latin-1 (obs-text) is allowed in values; httpx would encode a str as ASCII, so bytes go in.
    return httpx.Headers([(name.encode("ascii"), value.encode("latin-1")) for name, value in merged.values()])


def _body_arguments(
    body: Any, config: HttpConfig, headers: httpx.Headers
) -> tuple[bytes | None, dict[str, Any] | None]:
    """The ``(content, form)`` to send, setting Content-Type unless a header already does."""
    if body is None:
        return None, None
    if config.content_type is not None and "content-type" not in headers:
        headers["Content-Type"] = config.content_type
    if config.body_type == "form":
        return None, dict(body)
    if config.body_type == "raw":
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return str(body).encode(), None
    headers.setdefault("Content-Type", "application/json")
    return msgspec.json.encode(body), None


def _timeout(ctx: NodeContext, configured: float) -> float:
    if ctx.deadline is None:
        return configured
    remaining = (ctx.deadline - datetime.now(UTC)).total_seconds()
    if remaining <= 0:
        raise RetryableError("the step's deadline passed before the request was sent", kind="http.timeout")
    return min(configured, remaining)


def _plain(url: str) -> str:
    """A URL without its userinfo and query string, for messages and logs."""
    try:
        return str(httpx.URL(url).copy_with(query=None, fragment=None, username=None, password=None))
    except httpx.InvalidURL:
        return url.split("?")[0]
