"""docker-compose.yml is a valid compose file that starts the hub in the right order with safe settings.

No Docker engine runs here: the file is validated against the compose specification's JSON schema
(vendored from check-jsonschema 0.39.0 as compose-spec.json, Apache-2.0, see compose-spec.LICENSE)
and its services, commands, health checks, start order and settings are checked as data.
"""

from __future__ import annotations

import json
import re
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry

from wirehub.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = Path(__file__).with_name("compose-spec.json")
ENV_EXAMPLE = ROOT / "deploy.env.example"
HUB_SERVICES = ("migrate", "api", "worker")
LONG_RUNNING = ("postgres", "redis", "api", "worker")
_REFERENCE = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # resolves the `<<` merge keys as compose does
    return loaded


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    # An empty registry: a $ref the file cannot resolve itself fails instead of being fetched.
    return Draft202012Validator(json.loads(SCHEMA.read_text()), registry=Registry())


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, as `docker compose config` reads them."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        given = variables.get(name, "")
        if operator == "?" and not given:
            raise KeyError(f"{name}: {argument}")
        return given or (argument if operator == "-" else "")

    return _REFERENCE.sub(replace, value)


def test_the_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any], validator: Draft202012Validator
) -> None:
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(compose)]
    assert errors == []


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda c: c["services"]["api"].update(imagee="typo"), "services/api"),
        (lambda c: c["services"]["api"]["depends_on"]["migrate"].update(condition="service_done"), "services/api"),
        (lambda c: c["services"]["worker"]["healthcheck"].update(intervall="10s"), "services/worker"),
    ],
)
def test_the_schema_rejects_a_broken_compose_file(
    compose: dict[str, Any], validator: Draft202012Validator, change: Any, pointer: str
) -> None:
    broken = json.loads(json.dumps(compose))
    change(broken)
    paths = ["/".join(map(str, error.absolute_path)) for error in validator.iter_errors(broken)]
    assert any(path.startswith(pointer) for path in paths), paths


def test_it_runs_postgres_redis_the_migration_job_the_api_and_two_workers(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert set(services) == {"postgres", "redis", "migrate", "api", "worker"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["migrate"]["command"] == ["migrate"]
    assert services["api"]["command"][0] == "serve"
    assert services["api"]["command"][1:] == ["--host", "0.0.0.0", "--port", "8000"]
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in HUB_SERVICES:  # one image, built from the Dockerfile; its entrypoint is `wirehub`
        assert services[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}
        assert services[name]["image"] == services["api"]["image"]
    assert services["migrate"]["restart"] == "no"


def test_the_migration_runs_after_postgres_is_healthy_and_before_the_api_and_workers(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker"):
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
    graph = {name: set(service.get("depends_on", {})) for name, service in services.items()}
    order = list(TopologicalSorter(graph).static_order())  # raises CycleError on a cycle
    for name in ("api", "worker"):
        assert order.index("postgres") < order.index("migrate") < order.index(name)
        assert order.index("redis") < order.index(name)


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name in LONG_RUNNING:
        check = services[name]["healthcheck"]
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert {"interval", "timeout", "retries"} <= set(check), name
    assert "/health/ready" in " ".join(services["api"]["healthcheck"]["test"])
    worker_env = services["worker"]["environment"]
    assert f"127.0.0.1:{worker_env['WIREHUB_WORKER_METRICS_PORT']}/metrics" in " ".join(
        services["worker"]["healthcheck"]["test"]
    )
    assert services["migrate"]["healthcheck"] == {"disable": True}  # a one-shot job: completion is what counts


def test_redis_keeps_the_dispatch_stream_across_restarts_and_never_evicts_it(compose: dict[str, Any]) -> None:
    command = _services(compose)["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_secrets_come_from_the_environment_and_are_never_written_in_the_file(compose: dict[str, Any]) -> None:
    secret_names = re.compile(r"SECRET|PASSWORD|KEYS?$")
    for name, service in _services(compose).items():
        for variable, value in (service.get("environment") or {}).items():
            if secret_names.search(variable):
                assert re.fullmatch(r"\$\{\w+(:[-?][^}]*)?\}", str(value)), f"{name}: {variable} is written in the file"
    url = _services(compose)["api"]["environment"]["WIREHUB_DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in url
    for line in ENV_EXAMPLE.read_text().splitlines():  # the example leaves every secret blank
        if line and not line.startswith("#"):
            variable, _, value = line.partition("=")
            assert value == "", variable


def test_the_hub_services_settings_are_real_settings_and_safe_for_a_distributed_hub(compose: dict[str, Any]) -> None:
    variables = {
        "POSTGRES_PASSWORD": "pw-for-the-test",
        "WIREHUB_SECRET_KEY": "k" * 48,
        "WIREHUB_CREDENTIAL_KEYS": "k1:" + "A" * 43 + "=",
    }
    known = set(Settings.variable_names())
    for name in HUB_SERVICES:
        environment = {
            key: _interpolate(str(value), variables) for key, value in _services(compose)[name]["environment"].items()
        }
        assert set(environment) <= known, f"{name}: {set(environment) - known} are not settings"
        settings = Settings.from_env(environment)
        assert settings.unsafe() == [], name
        assert settings.database_url.startswith("postgresql+asyncpg://wirehub:pw-for-the-test@postgres:5432/")
        assert settings.redis_url == "redis://redis:6379/0"


def test_a_missing_secret_stops_compose_instead_of_starting_with_a_default(compose: dict[str, Any]) -> None:
    environment = _services(compose)["api"]["environment"]
    with pytest.raises(KeyError, match="WIREHUB_SECRET_KEY"):
        _interpolate(environment["WIREHUB_SECRET_KEY"], {})
