"""``/metrics``: this process's Prometheus metrics (prometheus-client's exposition, through Litestar's controller)."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from wirehub.api.security import needs

METRICS_CONFIG = PrometheusConfig(
    app_name="wirehub",
    prefix="wirehub_http",
    group_path=True,  # label requests by route template (/api/v1/workspaces/{workspace_id}/...), not raw path
    exclude=["^/metrics$", "^/health/"],
    exclude_unhandled_paths=True,
)
"""HTTP request counts and latencies by method, route template and status."""


class MetricsController(PrometheusController):
    """The process's metrics, for a scraper holding ``metrics:read`` (a service account's API key, say)."""

    path = "/metrics"
    opt = needs("metrics:read")
    tags = ["operations"]  # noqa: RUF012
    include_in_schema = False
