"""``GET /metrics``: Prometheus counters of requests, answers and latency."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
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
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from index.integrity import WITHHELD
from service.deps import SettingsDep, _bearer, require_admin
from service.logs import get_logger
from service.middleware import HttpMiddleware
from service.responses import ADMIN_ERRORS

access = get_logger("qa.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class Metrics:
    """Per-app Prometheus metrics (tests with several apps stay separate)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("qa_http_requests_total", "HTTP requests", ["route", "status"],
                                registry=self.registry)
        self.rejected = Counter("qa_http_rejected_total", "Requests refused by the API-key "
                                "check or the rate limit", ["reason"], registry=self.registry)
        self.latency = Histogram("qa_http_request_seconds", "HTTP request latency", ["route"],
                                 registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

        # Process-wide, like the engine that counts it: read at each scrape.
        self.registry.register(_WithheldCollector())

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one response."""
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)


class _WithheldCollector(Collector):
    """``qa_citations_withheld_total``: citations not served because the cited article's
    text failed its recorded hash."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily("qa_citations_withheld", "Citations withheld because "
                                  "the article's text failed its recorded hash",
                                  value=WITHHELD.count)


class MeasureRequests(HttpMiddleware):
    """Counts every response by route template and status, errors included (it sits
    outside the handler that turns an unexpected exception into a 500), gives every
    request an id (``X-Request-ID``, a client's own kept when it is a plain token) and
    logs one structured line per request."""

    def __init__(self, app: ASGIApp, metrics: Metrics, log_questions: bool = False) -> None:
        super().__init__(app)
        self.metrics = metrics
        self.log_questions = log_questions

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        began = time.perf_counter()
        status = 500  # if nothing is ever sent, the client saw a failure
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []),
                           (b"x-request-id", request_id.encode("latin-1"))]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            seconds = time.perf_counter() - began
            # The route template, not the raw path: article ids must not explode the labels.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(route, status, seconds)
            self._log(scope, state, request_id, route, status, seconds)

    def _log(self, scope: Scope, state: dict, request_id: str, route: str, status: int,
             seconds: float) -> None:
        fields: dict[str, object] = {
            "request_id": request_id, "method": scope.get("method"), "route": route,
            "status": status, "latency_ms": round(seconds * 1000, 2)}
        outcome = state.get("outcome")
        if outcome is not None:
            fields.update(index_version=outcome.index_version, grounded=outcome.grounded,
                          answer_id=outcome.answer_id)
            if self.log_questions:
                fields["question"] = outcome.query
        access.info("request", **fields)


def named(route: BaseRoute) -> BaseRoute:
    """A plain Starlette route (MCP's) that tells the metrics and logs its template, as
    FastAPI's routes do."""
    inner = route.app

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route
        await inner(scope, receive, send)

    route.app = app
    return route


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
