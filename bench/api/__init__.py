"""The API benchmark: ``wirehub serve`` processes on PostgreSQL and Redis, loaded over HTTP from 127.0.0.1.

``python -m bench.api.run [--quick]``; see bench/README.md and docs/benchmarks.md.
"""
