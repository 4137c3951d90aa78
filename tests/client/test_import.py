"""The client is a submodule: a plugin that imports ``wirehub_sdk`` loads neither it nor httpx."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_importing_the_sdk_loads_neither_the_client_nor_httpx() -> None:
    loaded = _loaded_after("import wirehub_sdk")
    assert "wirehub_sdk.client" not in loaded
    assert "httpx" not in loaded
    assert "websockets" not in loaded


def test_the_egress_client_still_comes_from_the_sdk_on_demand() -> None:
    loaded = _loaded_after("from wirehub_sdk import EgressClient, EgressPolicy")
    assert "httpx" in loaded
    assert "wirehub_sdk.client" not in loaded


def test_importing_the_client_does_not_load_websockets_until_a_stream_opens() -> None:
    loaded = _loaded_after("import wirehub_sdk.client")
    assert "httpx" in loaded
    assert "websockets" not in loaded
