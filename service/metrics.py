"""``GET /metrics``: Prometheus counters of requests, answers and latency."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)


def install(app: FastAPI) -> None:
    """Count every request by route and status, and time it; serve ``/metrics``."""
    registry = CollectorRegistry()  # per app, so tests with several apps stay separate
    requests = Counter("qa_http_requests_total", "HTTP requests", ["route", "status"],
                       registry=registry)
    latency = Histogram("qa_http_request_seconds", "HTTP request latency", ["route"],
                        registry=registry,
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

    @app.middleware("http")
    async def _measure(request: Request, call_next):
        began = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        # The route template, not the raw path: article ids must not explode the labels.
        name = getattr(route, "path", "unmatched")
        requests.labels(name, str(response.status_code)).inc()
        latency.labels(name).observe(time.perf_counter() - began)
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
