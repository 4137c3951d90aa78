"""Settings, read from ``WIREHUB_*`` environment variables.

Every setting is documented in ``docs/operations.md``; a test keeps the two
in step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from wirehub_sdk import EgressPolicy


def _names(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    """The hub's settings. Field ``x`` is read from ``WIREHUB_X``.

    Attributes:
        plugins_allow: Plugin names that may load (comma-separated); empty means all.
        plugins_deny: Plugin names that never load, not even imported. Wins over allow.
        egress_allow_hosts: Host names nodes may reach although they resolve to
            private, loopback or link-local addresses.
        egress_allow_networks: CIDR networks nodes may reach although they are
            forbidden by default (e.g. ``10.20.0.0/16``).
        egress_max_response_bytes: Largest response body a node may read, after
            decompression.
        credentials_file: JSON file of named credentials for ``wirehub run``.
    """

    plugins_allow: tuple[str, ...] = ()
    plugins_deny: tuple[str, ...] = ()
    egress_allow_hosts: tuple[str, ...] = ()
    egress_allow_networks: tuple[str, ...] = ()
    egress_max_response_bytes: int = 10 * 1024 * 1024
    credentials_file: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads every ``WIREHUB_*`` setting; unset ones keep their defaults.

        Raises:
            ValueError: A value does not parse, naming the variable.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for spec in fields(cls):
            key = f"WIREHUB_{spec.name.upper()}"
            raw = env.get(key)
            if raw is None or raw == "":
                continue
            if spec.name.endswith("_bytes"):
                try:
                    values[spec.name] = int(raw)
                except ValueError as exc:
                    raise ValueError(f"{key} must be an integer, got {raw!r}") from exc
            elif spec.name.endswith("_file"):
                values[spec.name] = Path(raw)
            else:
                values[spec.name] = _names(raw)
        return cls(**values)  # type: ignore[arg-type]  # values are typed by the branches above

    @property
    def egress_policy(self) -> EgressPolicy:
        """The egress rules every node's HTTP client follows."""
        return EgressPolicy(
            allow_hosts=self.egress_allow_hosts,
            allow_networks=self.egress_allow_networks,
            max_response_bytes=self.egress_max_response_bytes,
        )

    @staticmethod
    def variable_names() -> list[str]:
        """Every environment variable the hub reads."""
        return [f"WIREHUB_{spec.name.upper()}" for spec in fields(Settings)]
