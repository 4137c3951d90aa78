"""``wirehub worker --processes 2 --metrics-port P``: each process serves its Prometheus metrics, on P and P + 1."""

from __future__ import annotations

import socket
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.worker.faults_timers.support import Start
from tests.worker.processes import Sender

QUICK = {"name": "quick", "steps": [{"id": "echo", "type": "core.transform", "config": {"expression": "input"}}]}


def _free_ports(count: int) -> int:
    """A port P with P .. P + count - 1 free (checked by binding them)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        sockets = []
        try:
            for offset in range(count):
                held = socket.socket()
                sockets.append(held)
                held.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for held in sockets:
                held.close()
    raise RuntimeError("no free ports")


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("node_type", "core.transform") == "core.transform":
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


async def test_each_supervised_worker_serves_its_metrics_on_its_own_port(sender: Sender, hub_workers: Start) -> None:
    base = _free_ports(2)
    (supervisor,) = hub_workers("m", args=["--processes", "2", "--metrics-port", str(base)], wait=False)
    supervisor.wait_for("worker m-1 started")
    supervisor.wait_for("worker m-2 started")
    workflow = await sender.workflow(QUICK)
    executions = [await sender.start(workflow, {"n": n}) for n in range(4)]
    for execution_id in executions:
        assert (await sender.store.wait(execution_id, timeout=30)).status == "succeeded"

    first, second = _metrics(base), _metrics(base + 1)
    # Every attempt ran in one of the two processes, and each counted its own.
    ran = first.get("wirehub_step_duration_seconds_count", 0) + second.get("wirehub_step_duration_seconds_count", 0)
    assert ran == len(executions)
    finished = first.get("wirehub_executions_finished_total", 0) + second.get("wirehub_executions_finished_total", 0)
    assert finished == len(executions)
    assert "wirehub_timers_pending" in first
    assert "wirehub_timers_pending" in second
