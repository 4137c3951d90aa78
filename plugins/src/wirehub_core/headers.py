"""Which request headers a workflow may set, and what their values may hold.

Framing and routing headers (``Host``, ``Content-Length``, ``Transfer-Encoding``,
``Connection``...) belong to the HTTP client: it derives them from the URL and
the body. Set by a definition they would send a request to another virtual
host than the URL names, or frame the body two ways at once (the shape of
request smuggling), so they are refused when a definition is validated and
never sent when an expression supplies them at run time.

Values are text that fits in one header line: visible ASCII and Latin-1
characters, with spaces and tabs inside (never at either end). A vertical tab,
CR, LF, NUL or U+2028 would otherwise pass validation and only fail on the
wire, where it looks like a network error worth retrying.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated

import msgspec

CLIENT_HEADERS = (
    "Host",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Keep-Alive",
    "Upgrade",
    "TE",
    "Trailer",
    "Expect",
    "Proxy-*",
)
"""Headers the HTTP client sets; ``Proxy-*`` stands for every name starting with ``Proxy-``."""

_TCHARS = r"[!#$%&'*+.^_`|~0-9a-z-]+"
_RESERVED = "|".join(name.lower().replace("-*", "-" + _TCHARS) for name in CLIENT_HEADERS)
NAME_PATTERN = rf"(?i)^(?!(?:{_RESERVED})$){_TCHARS}$"
VALUE_PATTERN = r"^(?:[!-~\xa0-\xff](?:[\t -~\xa0-\xff]*[!-~\xa0-\xff])?)?$"

_NAME = re.compile(NAME_PATTERN)
_TOKEN_NAME = re.compile(rf"(?i)^{_TCHARS}$")
_VALUE = re.compile(VALUE_PATTERN)

HeaderName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=128,
        pattern=NAME_PATTERN,
        description=(
            "An HTTP header name (letters, digits and !#$%&'*+.^_`|~-). "
            f"The client sets {', '.join(CLIENT_HEADERS)} itself: a step may not."
        ),
    ),
]
HeaderValue = Annotated[
    str,
    msgspec.Meta(
        max_length=8192,
        pattern=VALUE_PATTERN,
        description=(
            "A header value: visible ASCII or Latin-1 characters, spaces and tabs inside; "
            "no control characters (CR, LF, NUL, vertical tab...) and no leading or trailing space."
        ),
    ),
]


def is_client_header(name: str) -> bool:
    """Whether ``name`` (any case) is one of the :data:`CLIENT_HEADERS`."""
    return _TOKEN_NAME.match(name) is not None and _NAME.match(name) is None


def header_problem(name: str, value: str) -> str | None:
    """What is wrong with sending the header ``name: value``, or ``None`` when it may be sent."""
    if not isinstance(name, str) or _TOKEN_NAME.match(name) is None or len(name) > 128:
        return f"the header name {name!r} is not an HTTP token (letters, digits and !#$%&'*+.^_`|~-)"
    if _NAME.match(name) is None:
        return (
            f"the header {name!r} is the HTTP client's to set, not a step's "
            f"(the client sets {', '.join(CLIENT_HEADERS)} from the URL and the body)"
        )
    if not isinstance(value, str) or len(value) > 8192 or _VALUE.match(value) is None:
        return (
            f"the value of header {name!r} is not valid: only visible ASCII or Latin-1 characters, "
            "spaces and tabs inside; no control characters (CR, LF, NUL, vertical tab...) "
            "and no leading or trailing space"
        )
    return None


def header_problems(headers: Iterable[tuple[str, str]]) -> list[str]:
    """Every :func:`header_problem` of ``headers``."""
    return [problem for name, value in headers if (problem := header_problem(name, value)) is not None]
