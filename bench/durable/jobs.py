"""The benchmark's jobs, in a full and a quick size."""

from __future__ import annotations

from dataclasses import dataclass

from bench.durable.protocol import Workload

SEQUENTIAL_WIDTH = 10
FANOUT_WIDTH = 10
LONG_CHAIN = 40


@dataclass(frozen=True)
class Job:
    """One measurement.

    Attributes:
        key: A short stable name, used in the table and the JSON.
        title: What the job is, for people.
        shape: The workflow shape (see ``Workload``).
        width: Sequential steps, or fan-out branches.
        executions: How many executions one measurement runs.
        one_at_a_time: Start each execution only after the previous one finished (latency jobs);
            otherwise all are started at once.
    """

    key: str
    title: str
    shape: str
    width: int
    executions: int
    one_at_a_time: bool

    def workload(self) -> Workload:
        """What one ``start`` call asks for."""
        count = 1 if self.one_at_a_time else self.executions
        return Workload("sequential" if self.shape == "sequential" else "fanout", self.width, count)

    @property
    def steps(self) -> int:
        """Steps one measurement completes."""
        return self.executions * self.workload().steps_per_execution


def jobs(quick: bool) -> list[Job]:
    """(a) to (d) of the benchmark; ``quick`` shrinks the counts, never the shapes."""
    concurrent = 100 if quick else 200
    serial = 10 if quick else 30
    chains = 5 if quick else 10
    return [
        Job(
            "a",
            f"{concurrent} concurrent executions of {SEQUENTIAL_WIDTH} sequential steps",
            "sequential",
            SEQUENTIAL_WIDTH,
            concurrent,
            one_at_a_time=False,
        ),
        Job(
            "b",
            f"{concurrent} concurrent executions of a {FANOUT_WIDTH}-way fan-out and join",
            "fanout",
            FANOUT_WIDTH,
            concurrent,
            one_at_a_time=False,
        ),
        Job(
            "c-seq",
            f"one at a time: {SEQUENTIAL_WIDTH} sequential steps ({serial} executions)",
            "sequential",
            SEQUENTIAL_WIDTH,
            serial,
            one_at_a_time=True,
        ),
        Job(
            "c-fan",
            f"one at a time: {FANOUT_WIDTH}-way fan-out and join ({serial} executions)",
            "fanout",
            FANOUT_WIDTH,
            serial,
            one_at_a_time=True,
        ),
        Job(
            "d",
            f"one at a time: {LONG_CHAIN} sequential steps end to end ({chains} executions)",
            "sequential",
            LONG_CHAIN,
            chains,
            one_at_a_time=True,
        ),
    ]


WARM_UP = Job("warm-up", "not measured", "sequential", SEQUENTIAL_WIDTH, 20, one_at_a_time=False)
