"""``GET /metrics``: Prometheus counters of requests, answers and latency."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, FastAPI, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.deps import SettingsDep, _bearer, require_admin
from service.middleware import HttpMiddleware
from service.responses import ADMIN_ERRORS


class Metrics:
    """Per-app Prometheus metrics (tests with several apps stay separate)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("qa_http_requests_total", "HTTP requests", ["route", "status"],
                                registry=self.registry)
        self.latency = Histogram("qa_http_request_seconds", "HTTP request latency", ["route"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one response."""
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)


class MeasureRequests(HttpMiddleware):
    """Counts every response by route template and status, errors included: it sits
    outside the handler that turns an unexpected exception into a 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        began = time.perf_counter()
        status = 500  # if nothing is ever sent, the client saw a failure

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            # The route template, not the raw path: article ids must not explode the labels.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(route, status, time.perf_counter() - began)


def _metrics_access(settings: SettingsDep, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    if not settings.metrics_public:
        require_admin(settings, credentials)


def install(app: FastAPI) -> Metrics:
    """Serve ``/metrics`` (behind the admin key unless ``QA_METRICS_PUBLIC``); returns the
    metrics for :class:`MeasureRequests`."""
    metrics = Metrics()

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(_metrics_access)],
             responses=ADMIN_ERRORS)
    def serve_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
