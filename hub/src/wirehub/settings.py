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
        msgspec.Meta(description="Plugin names that may load; when set, every other plugin is blocked."),
    ] = ()
    plugins_deny: Annotated[
        tuple[str, ...],
        msgspec.Meta(description="Plugin names that never load, not even imported. Wins over allow."),
    ] = ()
    egress_allow_hosts: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            description="Host names nodes may reach although they resolve to private, loopback or link-local addresses."
        ),
    ] = ()
    egress_allow_networks: Annotated[
        tuple[Network, ...],
        msgspec.Meta(description="CIDR networks nodes may reach although they are forbidden by default."),
    ] = ()
    egress_max_response_bytes: Annotated[
        int,
        msgspec.Meta(ge=1, description="Largest response body a node may read, after decompression."),
    ] = 10 * 1024 * 1024
    credentials_file: Annotated[
        Path | None,
        msgspec.Meta(description="JSON file of named credentials for `wirehub run`."),
    ] = None

    database_url: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            description="The database: postgresql+asyncpg://USER@HOST/DB, or sqlite+aiosqlite:///FILE (embedded).",
        ),
    ] = DEFAULT_DATABASE_URL
    redis_url: Annotated[
        str | None,
        msgspec.Meta(
            description="Redis for the distributed hub (redis://HOST:6379/0); unset: one process, in-process broker."
        ),
    ] = None
    worker_concurrency: Annotated[
        int,
        msgspec.Meta(ge=1, le=10_000, description="Attempts one worker process runs at once."),
    ] = 16
    lease_seconds: Annotated[
        float,
        msgspec.Meta(gt=0, le=86_400, description="How long a worker's claim of an attempt lasts unless renewed."),
    ] = 30.0
    sweep_interval_seconds: Annotated[
        float,
        msgspec.Meta(gt=0, le=3_600, description="How often a sweeper expires leases, fires timers and redispatches."),
    ] = 1.0
    worker_processes: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=256,
            description="Worker processes `wirehub worker` runs under a supervisor that replaces any that exits or"
            " stops sending heartbeats; 1 runs the worker in the command's own process.",
        ),
    ] = 1
    worker_heartbeat_timeout_seconds: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=3_600,
            description="How long a supervised worker process may go without a heartbeat from its event loop"
            " before it is killed and replaced.",
        ),
    ] = 15.0
    worker_sweep: Annotated[
        bool,
        msgspec.Meta(description="Whether a worker process also runs a sweeper (any number may; one is enough)."),
    ] = True
    tracing: Annotated[
        Literal["console", "otlp"] | None,
        msgspec.Meta(
            description="OpenTelemetry tracing: `otlp` exports to the OTEL_EXPORTER_OTLP_* endpoint (install"
            " opentelemetry-exporter-otlp), `console` prints spans; unset: off.",
        ),
    ] = None
    worker_metrics_port: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=65_535,
            description="Port a `wirehub worker` process serves its Prometheus metrics on (0: none); under a"
            " supervisor, process N serves on this port + N - 1.",
        ),
    ] = 0
    worker_metrics_address: Annotated[
        str, msgspec.Meta(min_length=1, description="Address the worker's metrics port listens on.")
    ] = "127.0.0.1"
    shutdown_grace_seconds: Annotated[
        float,
        msgspec.Meta(ge=0, le=3_600, description="How long a stopping worker lets running attempts finish."),
    ] = 20.0

    secret_key: Annotated[
        str | None,
        msgspec.Meta(
            description="Signs access tokens (HMAC-SHA256): 32 characters or more, the same on every API replica."
            " Required when WIREHUB_REDIS_URL is set; the embedded hub generates one into .wirehub/secret.key.",
        ),
    ] = None
    credential_keys: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            description="Keys that encrypt stored credentials (AES-256-GCM), comma-separated `id:base64key` entries"
            " (32-byte keys): the first encrypts, all decrypt. Required when WIREHUB_REDIS_URL is set; the"
            " embedded hub generates one into .wirehub/credential.key.",
        ),
    ] = ()
    previous_secret_keys: Annotated[
        tuple[str, ...],
        msgspec.Meta(
            description="Former WIREHUB_SECRET_KEY values (comma-separated): tokens they signed stay valid until they"
            " expire; nothing is signed with them. Drop one once its tokens have expired.",
        ),
    ] = ()
    token_issuer: Annotated[
        str, msgspec.Meta(min_length=1, description="The `iss` of access tokens, verified on every request.")
    ] = "wirehub"  # noqa: S105 - a name, not a secret
    token_audience: Annotated[
        str, msgspec.Meta(min_length=1, description="The `aud` of access tokens, verified on every request.")
    ] = "wirehub-api"  # noqa: S105 - a name, not a secret
    access_token_seconds: Annotated[
        int, msgspec.Meta(ge=30, le=86_400, description="How long an access token is valid.")
    ] = 900
    refresh_token_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=60, le=90 * 86_400, description="How long a refresh token is valid; each use replaces it with a new one."
        ),
    ] = 14 * 86_400
    admin_username: Annotated[
        str | None,
        msgspec.Meta(description="With WIREHUB_ADMIN_PASSWORD: the first admin, created at startup if no user exists."),
    ] = None
    admin_password: Annotated[
        str | None,
        msgspec.Meta(description="The first admin's password (12 characters or more); used only while no user exists."),
    ] = None
    api_max_body_bytes: Annotated[
        int, msgspec.Meta(ge=1024, le=64 * 1024 * 1024, description="Largest request body the API reads.")
    ] = 1024 * 1024
    cors_allow_origins: Annotated[
        tuple[str, ...],
        msgspec.Meta(description="Origins browsers may call the API from (CORS) and open the WebSocket from."),
    ] = ()
    allowed_hosts: Annotated[
        tuple[str, ...],
        msgspec.Meta(description="Host headers the API answers (`*.example.com` allowed); unset: any host."),
    ] = ()
    rate_limit_window_seconds: Annotated[
        int, msgspec.Meta(ge=1, le=3_600, description="The window the API's rate limits count requests in.")
    ] = 60
    rate_limit_user: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            description="HTTP requests and WebSocket messages one user may send per window, all API replicas"
            " together; 0: no limit.",
        ),
    ] = 1_200
    rate_limit_anonymous: Annotated[
        int,
        msgspec.Meta(
            ge=0, description="Requests per window to unauthenticated routes from one client address; 0: no limit."
        ),
    ] = 300
    rate_limit_login: Annotated[
        int,
        msgspec.Meta(
            ge=0, description="Logins (POST /api/v1/auth/token) per window from one client address; 0: no limit."
        ),
    ] = 10
    cache_latest_seconds: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=86_400,
            description="How long a workflow's latest-version pointer stays cached (an update replaces it at once).",
        ),
    ] = 300.0
    cache_definition_seconds: Annotated[
        float,
        msgspec.Meta(gt=0, le=604_800, description="How long a saved workflow version stays in the shared cache."),
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
                raw[field.name] = _split(value) if _is_list(field.type) else value.strip()
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
