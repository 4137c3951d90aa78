"""The floor of the stack: the benchmark's jobs as raw taskiq-redis dispatch, a commit per step, no engine."""

from bench.durable.floor.system import FloorSystem, create

__all__ = ["FloorSystem", "create"]
