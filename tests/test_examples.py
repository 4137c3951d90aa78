"""Every workflow in examples/ runs with `wirehub run` and ends the way it says it will."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from wirehub.cli.main import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def hub_run(*args: str, env: dict[str, str] | None = None) -> tuple[Result, Any]:
    result = CliRunner().invoke(cli, ["run", *args], env=env, catch_exceptions=False)
    body = json.loads(result.stdout) if result.stdout.strip() else None
    return result, body


def test_every_example_is_covered_here() -> None:
    names = sorted(p.name for p in EXAMPLES.glob("*.json"))
    assert names == ["branching.json", "catch-route.json", "fan-out-join.json", "retry-backoff.json", "sequential.json"]


def test_sequential_chain_totals_an_order() -> None:
    result, body = hub_run(str(EXAMPLES / "sequential.json"), "--input", f"@{EXAMPLES / 'inputs/sequential.json'}")
    assert result.exit_code == 0, result.output
    assert body["output"] == {"order_id": "A-1001", "total": 13.0, "text": "order A-1001: 2 line(s)"}
    for step in ("price_lines", "total", "summary"):
        assert f"✓ {step}" in result.stderr


def test_fan_out_and_join_combines_the_parallel_lookups() -> None:
    result, body = hub_run(str(EXAMPLES / "fan-out-join.json"), "--input", f"@{EXAMPLES / 'inputs/fan-out-join.json'}")
    assert result.exit_code == 0, result.output
    assert body["output"] == {
        "customer_id": "c-42",
        "orders": {"count": 2, "spent": 1150},
        "open_tickets": 1,
        "segment": "gold",
    }


@pytest.mark.parametrize(
    ("amount", "route", "decision", "skipped"),
    [
        (820, "review", "review", "auto_approve"),
        (40, "approve", "approved", "manual_review"),
        (0, "reject", "rejected", "auto_approve"),
    ],
)
def test_branching_takes_one_branch_and_skips_the_others(amount: int, route: str, decision: str, skipped: str) -> None:
    result, body = hub_run(str(EXAMPLES / "branching.json"), "--input", json.dumps({"amount": amount}))
    assert result.exit_code == 0, result.output
    assert body["output"] == {"route": route, "decision": decision}
    assert f"- {skipped}" in result.stderr


def test_branching_refuses_input_that_breaks_its_schema() -> None:
    result, _ = hub_run(str(EXAMPLES / "branching.json"), "--input", '{"amount": "lots"}')
    assert result.exit_code == 2
    assert "amount" in result.stderr


class FlakyPaymentAPI(BaseHTTPRequestHandler):
    """Answers 503 with Retry-After to the first two charges, then 201."""

    calls: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FlakyPaymentAPI.calls.append({"body": body, "key": self.headers.get("Idempotency-Key")})
        if len(FlakyPaymentAPI.calls) <= 2:
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        payload = json.dumps({"charge_id": "ch_1", "amount": body["amount"]}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def payment_api() -> Iterator[str]:
    FlakyPaymentAPI.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyPaymentAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/charges"
    server.shutdown()
    server.server_close()


def test_retry_with_backoff_survives_two_transient_failures(payment_api: str) -> None:
    env = {"WIREHUB_EGRESS_ALLOW_NETWORKS": "127.0.0.0/8"}
    result, body = hub_run(
        str(EXAMPLES / "retry-backoff.json"), "--input", json.dumps({"url": payment_api, "amount": 25}), env=env
    )
    assert result.exit_code == 0, result.output
    assert body["output"] == {"status": 201, "charge": {"charge_id": "ch_1", "amount": 25}}
    assert len(FlakyPaymentAPI.calls) == 3
    assert len({call["key"] for call in FlakyPaymentAPI.calls}) == 1, "one idempotency key for every attempt"
    assert result.stderr.count("↻ charge") == 2


def test_retry_example_refuses_a_private_target_without_an_operator_allowance(payment_api: str) -> None:
    result, body = hub_run(str(EXAMPLES / "retry-backoff.json"), "--input", json.dumps({"url": payment_api}))
    assert result.exit_code == 1
    assert body["error"]["kind"] == "http.egress_denied"
    assert FlakyPaymentAPI.calls == []


def test_catch_route_recovers_from_a_refused_metadata_call() -> None:
    result, body = hub_run(str(EXAMPLES / "catch-route.json"))
    assert result.exit_code == 0, result.output
    fallback = body["output"]["fallback"]
    assert fallback["recovered"] is True
    assert fallback["failed_step"] == "fetch_metadata"
    assert fallback["reason"] == "http.egress_denied"
    assert body["output"]["metadata"] is None
