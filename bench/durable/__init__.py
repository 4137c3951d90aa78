"""The durable benchmark: the same jobs run against each system under test on PostgreSQL and Redis.

``python -m bench.durable.run`` measures every registered system (see ``run.SYSTEMS``); a system
is one module implementing :class:`bench.durable.protocol.SystemUnderTest`. The first is the
floor of the stack (``bench.durable.floor``): raw taskiq-redis dispatch with one PostgreSQL commit
per step and no engine.
"""
