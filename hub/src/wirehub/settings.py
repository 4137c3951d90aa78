"""Settings, read from ``WIREHUB_*`` environment variables.

Each field of :class:`Settings` is read from ``WIREHUB_<FIELD>`` and parsed by
its declared type (msgspec converts the text); lists are comma-separated.
Every setting is documented in ``docs/operations.md``; a test keeps the two
in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

if TYPE_CHECKING:
    from wirehub_sdk import EgressPolicy

PREFIX = "WIREHUB_"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///.wirehub/wirehub.db"
"""A SQLite file in the ``.wirehub/`` folder of the working directory."""


MIN_SECRET_KEY_LENGTH = 32
MIN_ADMIN_PASSWORD_LENGTH = 12


class SettingsError(ValueError):
    """A setting's value does not parse; the message names the variable."""


class Network(str):
    """A CIDR network (``10.20.0.0/16``, ``fd00::/8``) or a bare address, checked when read."""

    __slots__ = ()


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The hub's settings. Field ``x`` is read from ``WIREHUB_X``; see :meth:`from_env`."""

    plugins_allow: Annotated[
        tuple[str, ...],
        msgspec.Meta(description="Plugin names that may load. When set, every other plugin is blocked."),
    ] = ()
    plugins_deny: Annotated[
        tuple[str, ...],
        msgspec.Meta(description="Plugin names that never load; they are not even imported. Wins over allow."),
    ] = ()
    egress_allow_hosts: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            description="Host names nodes may reach even though they resolve to private, loopback or"
            " link-local addresses.",
        ),
    ] = ()
    egress_allow_networks: Annotated[
        tuple[Network, ...],
        msgspec.Meta(
            description=(
                "CIDR networks nodes may reach even though they are forbidden by default, e.g. `10.20.0.0/16`. Each "
                "is checked when read."
            )
        ),
    ] = ()
    egress_max_response_bytes: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            description="Largest response body a node may read, counted after decompression. An integer of at least 1.",
        ),
    ] = 10 * 1024 * 1024
    credentials_file: Annotated[
        Path | None,
        msgspec.Meta(
            description=(
                'JSON file of named credentials for `wirehub run`: `{"name": {"type": "core.bearer", "fields": '
                '{"token": "..."}, "allowed_hosts": ["api.example.com"]}}` (`allowed_hosts` optional). The API and '
                "the workers use the credentials stored in the database instead ([api.md](api.md#credentials))."
            )
        ),
    ] = None

    database_url: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            description=(
                "The database. `postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DB` for the distributed hub; "
                "`sqlite+aiosqlite:///FILE` for the embedded one (a relative path is relative to the working "
                "directory; its folder is created). `postgresql://` and `sqlite://` choose these drivers by "
                "themselves."
            ),
        ),
    ] = DEFAULT_DATABASE_URL
    database_pool_size: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=1_000,
            description=(
                "PostgreSQL connections each `wirehub serve` and `wirehub worker` process keeps open once it needed "
                "them (opened on demand, not up front). Ignored on SQLite: the embedded hub writes through one "
                "connection. 1 to 1000."
            ),
        ),
    ] = 20
    database_max_overflow: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=1_000,
            description=(
                "PostgreSQL connections such a process may open beyond `WIREHUB_DATABASE_POOL_SIZE` in a burst, closed"
                " again when returned; a transaction past both waits for one (up to 30 s). None by default: under a"
                " steady load, opening and closing connections costs more than waiting for a pooled one. Budget"
                " `max_connections` for the two together per process. Ignored on SQLite. 0 to 1000."
            ),
        ),
    ] = 0
    redis_url: Annotated[
        str | None,
        msgspec.Meta(
            description=(
                "Redis for the distributed hub, `redis://HOST:6379/0` (`rediss://` for TLS): workers take attempts "
                "from a Redis stream. Unset, `wirehub run` runs everything in one process with an in-process broker; "
                "`wirehub worker` needs it."
            )
        ),
    ] = None
    worker_concurrency: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=10_000,
            description=(
                "Attempts one `wirehub worker` process runs at once, those it claims with the results of others "
                "included; it reads a message from Redis only when a slot is free. 1 to 10000."
            ),
        ),
    ] = 16
    lease_seconds: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=86_400,
            description=(
                "How long a worker's claim of an attempt lasts; the worker renews it every third of that. A worker "
                "that dies loses its lease when it expires, and the attempt counts as timed out (its retry policy "
                "decides)."
            ),
        ),
    ] = 30.0
    sweep_interval_seconds: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=3_600,
            description=(
                "How often each worker's sweeper expires dead leases, fires due timers and dispatches again what was "
                "never claimed. The embedded hub's sweeper also wakes when a timer is due, so there it is only the "
                "longest pause."
            ),
        ),
    ] = 1.0
    worker_processes: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=256,
            description=(
                "Worker processes one `wirehub worker` runs (`--processes` overrides it). Above 1, the command "
                "becomes a supervisor of that many worker processes, named `NAME-1` ... `NAME-N`: one that exits, or "
                "whose event loop stops sending heartbeats, is killed and started again, and SIGTERM is passed on to "
                "all of them. 1 runs the worker in the command's own process. 1 to 256."
            ),
        ),
    ] = 1
    worker_heartbeat_timeout_seconds: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=3_600,
            description=(
                "Under a supervisor, how long a worker process may go without a heartbeat from its event loop (it "
                "beats every second, or every quarter of this) before it is killed and replaced: a node that blocks "
                "the event loop (holds the interpreter lock in C code, deadlocks) stops the heartbeat. A new process "
                "has 60 s to send its first."
            ),
        ),
    ] = 15.0
    worker_sweep: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Whether a `wirehub worker` process also runs a sweeper. Any number of sweepers may run (they skip "
                "each other's rows), and one is enough; `false` makes a process that only runs attempts."
            )
        ),
    ] = True
    tracing: Annotated[
        Literal["console", "otlp"] | None,
        msgspec.Meta(
            description=(
                "OpenTelemetry tracing. `otlp` exports spans to the endpoint of the standard `OTEL_EXPORTER_OTLP_*` "
                "variables (install `opentelemetry-exporter-otlp` beside the hub); `console` prints them. See "
                "[Tracing](operations.md#tracing)."
            ),
        ),
    ] = None
    worker_metrics_port: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=65_535,
            description=(
                "Port a `wirehub worker` process serves its Prometheus metrics on (`--metrics-port` overrides it); "
                "`0` serves none. Under a supervisor (`--processes N`), process `NAME-k` serves on this port + k - 1."
            ),
        ),
    ] = 0
    worker_metrics_address: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            description="Address the worker's metrics port listens on; `0.0.0.0` in a container whose"
            " port a scraper reaches.",
        ),
    ] = "127.0.0.1"
    shutdown_grace_seconds: Annotated[
        float,
        msgspec.Meta(
            ge=0,
            le=3_600,
            description=(
                "On SIGTERM a worker stops taking work and lets its running attempts finish for this long; those "
                "still running then are handed back (another worker runs them) and the process exits 0."
            ),
        ),
    ] = 20.0

    log_format: Annotated[
        Literal["auto", "json", "console"],
        msgspec.Meta(
            description="How log lines look: `json` (one JSON object a line, for log collectors), `console`"
            " (readable lines with key=value context) or `auto` (console when stderr is a terminal, else JSON).",
        ),
    ] = "auto"
    log_level: Annotated[
        Literal["debug", "info", "warning", "error", "critical"] | None,
        msgspec.Meta(
            description="The lowest level logged; unset: warning. The command's -v (info) and -vv (debug) go lower.",
        ),
    ] = None

    secret_key: Annotated[
        str | None,
        msgspec.Meta(
            description=(
                "Signs access tokens (HMAC-SHA256). 32 characters or more, the same on every API replica; `wirehub "
                "serve` refuses to start in distributed mode (`WIREHUB_REDIS_URL` set) without one. Embedded, a "
                "random key is generated once into `.wirehub/secret.key` (mode 600)."
            ),
        ),
    ] = None
    credential_keys: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            description=(
                "The keys that encrypt stored credentials (AES-256-GCM): comma-separated `id:base64key` entries, each"
                " key 32 bytes (`wirehub credentials new-key ID` prints one), ids of 1 to 32 letters, digits, `.`, "
                "`_` or `-`. The first encrypts, all decrypt; see [rotation](api.md#encryption-at-rest). The API and "
                "every worker need the same keys: with `WIREHUB_REDIS_URL` set, `wirehub serve` and `wirehub worker` "
                "refuse to start without them. Embedded, a key is generated once into `.wirehub/credential.key` (mode"
                " 600). A malformed entry is named by its position or id, never by its key."
            ),
        ),
    ] = ()
    previous_secret_keys: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            description=(
                "Former `WIREHUB_SECRET_KEY` values, comma-separated, each 32 characters or more: tokens they signed "
                "stay valid until they expire (each token names its key by a `kid` fingerprint); nothing is signed "
                "with them. Drop one once `WIREHUB_ACCESS_TOKEN_SECONDS` have passed since the rotation. See "
                "[rotating the signing key](api.md#rotating-the-signing-key)."
            ),
        ),
    ] = ()
    token_issuer: Annotated[
        str,
        msgspec.Meta(min_length=1, description="The `iss` claim of access tokens; a token with another is refused."),
    ] = "wirehub"  # noqa: S105 - a name, not a secret
    token_audience: Annotated[
        str,
        msgspec.Meta(min_length=1, description="The `aud` claim of access tokens; a token with another is refused."),
    ] = "wirehub-api"  # noqa: S105 - a name, not a secret
    access_token_seconds: Annotated[
        int, msgspec.Meta(ge=30, le=86_400, description="How long an access token is valid. 30 to 86400.")
    ] = 900
    refresh_token_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=60,
            le=90 * 86_400,
            description=(
                "How long a refresh token is valid. Each use replaces it with a new one; reusing a used one revokes "
                "the whole login. 60 to 7776000."
            ),
        ),
    ] = 14 * 86_400
    admin_username: Annotated[
        str | None,
        msgspec.Meta(
            description=(
                "With `WIREHUB_ADMIN_PASSWORD`, the first admin: created at startup while the hub has no user, "
                "ignored afterwards. `wirehub users create-admin` is the other way. There is no default password."
            )
        ),
    ] = None
    admin_password: Annotated[
        str | None,
        msgspec.Meta(description="The first admin's password, 12 characters or more."),
    ] = None
    api_max_body_bytes: Annotated[
        int,
        msgspec.Meta(
            ge=1024, le=64 * 1024 * 1024, description="Largest request body the API reads; a larger one is a 413."
        ),
    ] = 1024 * 1024
    cors_allow_origins: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            description="Origins a browser may call the API from, and open the WebSocket from (its"
            " `Origin` is checked).",
        ),
    ] = ()
    allowed_hosts: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            description="`Host` headers the API answers, e.g. `hub.example.com,*.internal`; any other is a 400."
        ),
    ] = ()
    forwarded_allow_ips: Annotated[
        tuple[Network, ...],
        msgspec.Meta(
            description=(
                "Addresses or CIDR networks of the reverse proxies `wirehub serve` trusts, e.g. `10.0.0.5` or "
                "`10.20.0.0/16`: from them, the client's address is the last one `X-Forwarded-For` names that is "
                "not itself trusted (and the scheme `X-Forwarded-Proto`'s), for the audit log, the per-address rate "
                "limits and the access log. Unset: nobody is trusted, the address is the socket's peer. Never list "
                "addresses a client can connect from directly. See [deployment.md](deployment.md#behind-a-proxy)."
            )
        ),
    ] = ()
    rate_limit_window_seconds: Annotated[
        int, msgspec.Meta(ge=1, le=3_600, description="The fixed window the API's rate limits count in. 1 to 3600.")
    ] = 60
    rate_limit_user: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description=(
                "HTTP requests plus WebSocket messages one user may send per window, counted across every API replica"
                " (atomically, in Redis); past it a 429 with `Retry-After`. 0: no limit. See "
                "[api.md](api.md#rate-limits)."
            ),
        ),
    ] = 1_200
    rate_limit_anonymous: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description=(
                "Requests per window to unauthenticated routes (health, docs, the WebSocket handshake) from one "
                "client address. 0: no limit."
            ),
        ),
    ] = 300
    rate_limit_login: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="Logins (`POST /api/v1/auth/token`) per window from one client address, right or"
            " wrong. 0: no limit.",
        ),
    ] = 10
    cache_definition_seconds: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=604_800,
            description=(
                "How long a saved version (its pinned definition) stays in the shared cache; versions never change, "
                "so this only bounds memory."
            ),
        ),
    ] = 3_600.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads every ``WIREHUB_*`` setting; unset or empty ones keep their defaults.

        Args:
            environ: The variables to read; ``os.environ`` by default.

        Raises:
            SettingsError: A value does not parse as its field's type; the
                message names the variable and says what was expected.
        """
        env = os.environ if environ is None else environ
        raw: dict[str, Any] = {}
        for field in msgspec.structs.fields(cls):
            value = env.get(variable_name(field.name), "")
            if value.strip():
                raw[field.name] = _split(value) if _is_list(field.type) else _text(value, field.type)
        try:
            return msgspec.convert(raw, cls, strict=False, dec_hook=_decode)
        except msgspec.ValidationError as exc:
            raise SettingsError(_explain(str(exc), raw)) from exc

    def unsafe(self) -> list[str]:
        """Why these settings must not run a distributed hub (empty when they may).

        Checked when ``wirehub serve`` and ``wirehub worker`` start: each reason stops the
        process with a message naming the variable.
        """
        if self.redis_url is None:
            return []  # embedded: one process, its own SQLite file and generated keys
        reasons = []
        if self.database_url.startswith("sqlite"):
            reasons.append(
                "WIREHUB_DATABASE_URL: a distributed hub (WIREHUB_REDIS_URL is set) needs PostgreSQL;"
                " a SQLite file cannot be shared by its processes"
            )
        if self.secret_key is None or len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            reasons.append(
                f"WIREHUB_SECRET_KEY: a distributed hub needs a secret key of {MIN_SECRET_KEY_LENGTH} characters"
                " or more, the same on every process"
            )
        if self.admin_password is not None and len(self.admin_password) < MIN_ADMIN_PASSWORD_LENGTH:
            reasons.append(f"WIREHUB_ADMIN_PASSWORD: needs {MIN_ADMIN_PASSWORD_LENGTH} characters or more")
        return reasons

    @property
    def egress_policy(self) -> EgressPolicy:
        """The egress rules every node's HTTP client follows."""
        from wirehub_sdk import EgressPolicy  # loads httpx: only where a node's client is made

        return EgressPolicy(
            allow_hosts=self.egress_allow_hosts,
            allow_networks=self.egress_allow_networks,
            max_response_bytes=self.egress_max_response_bytes,
        )

    @staticmethod
    def variable_names() -> list[str]:
        """Every environment variable the hub reads."""
        return [variable_name(field.name) for field in msgspec.structs.fields(Settings)]

    @staticmethod
    def descriptions() -> dict[str, str]:
        """Each environment variable's description, from its field's ``msgspec.Meta``."""
        return {variable_name(field.name): _description(field.type) for field in msgspec.structs.fields(Settings)}


def variable_name(field: str) -> str:
    """The environment variable that holds ``field``."""
    return PREFIX + field.upper()


def _bare(annotation: Any) -> Any:
    return typing.get_args(annotation)[0] if typing.get_origin(annotation) is Annotated else annotation


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(_bare(annotation)) is tuple


def _text(value: str, annotation: Any) -> str:
    """A scalar setting's text; a choice among names (``Literal``) is matched without regard to case."""
    value = value.strip()
    return value.lower() if _is_choice(_bare(annotation)) else value


def _is_choice(annotation: Any) -> bool:
    if typing.get_origin(annotation) is Literal:
        return True
    return any(typing.get_origin(arg) is Literal for arg in typing.get_args(annotation))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _decode(kind: type, value: Any) -> Any:
    if kind is Network and isinstance(value, str):
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a CIDR network (e.g. 10.20.0.0/16)") from exc
        return Network(value)
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError(kind)


_AT = re.compile(r" - at `\$\.(\w+)(?:\[\d+\])?`$")


def _explain(message: str, raw: Mapping[str, Any]) -> str:
    """``"Expected `int`, got `str` - at `$.x`"`` as ``"WIREHUB_X: expected an integer (got 'lots')"``."""
    match = _AT.search(message)
    if match is None:
        return f"invalid settings: {message}"
    field = match.group(1)
    reason = message[: match.start()]
    reason = reason.replace("Expected `int`, got `str`", "expected an integer")
    shown = raw.get(field)
    shown_text = ",".join(shown) if isinstance(shown, list) else str(shown)
    return f"{variable_name(field)}: {reason[:1].lower()}{reason[1:]} (got {shown_text!r})"


def _description(annotation: Any) -> str:
    metadata = getattr(annotation, "__metadata__", ())
    return next((meta.description for meta in metadata if isinstance(meta, msgspec.Meta) and meta.description), "")
