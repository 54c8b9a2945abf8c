"""Who may use the public endpoints, and how often: optional API keys and a rate limit.

- With ``QA_API_KEYS`` set, the public endpoints (chat, articles, feedback, the OpenAI
  API, MCP) need ``Authorization: Bearer <key>`` (else 401), except for browsers on an
  allowed origin (``QA_ALLOWED_ORIGINS``, or the service's own pages): the widget
  authenticates by where it runs, as CORS already decides.
- With ``QA_RATE_LIMIT`` set (e.g. ``60/minute``; several joined by ``;``), each client
  gets that many requests per moving window, counted by key, else by address; over it, a
  429 with ``Retry-After``. Behind a proxy the address comes from ``X-Forwarded-For`` only
  when the connection comes from a network in ``QA_TRUSTED_PROXIES``.

The rate limiter is the ``limits`` library's moving window in memory (one process).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import secrets
import time
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import error_response
from service.metrics import Metrics
from service.middleware import HttpMiddleware

PUBLIC_PREFIXES = ("/api/chat", "/api/articles", "/api/feedback", "/v1/", "/mcp")


class AccessControl(HttpMiddleware):
    """API keys and per-client rate limits on the public endpoints."""

    def __init__(self, app: ASGIApp, metrics: Metrics, keys: list[str],
                 allowed_origins: list[str], rate_limit: str | None,
                 trusted_proxies: list[str]) -> None:
        super().__init__(app)
        self.metrics = metrics
        self.keys = [k.encode() for k in keys if k]
        self.origins = {o.rstrip("/") for o in allowed_origins}
        self.limits: list[RateLimitItem] = parse_many(rate_limit) if rate_limit else []
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope.get("method") == "OPTIONS" or not path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        key = _bearer(headers.get(b"authorization", ""))
        if self.keys:
            if key is not None and self._known(key):
                client = "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
            elif self._browser_allowed(headers):
                client = "ip:" + self._address(scope, headers)
            else:
                self.metrics.rejected.labels("unauthorized").inc()
                await error_response(
                    401, "an API key is required (Authorization: Bearer <key>)",
                    "authentication_error", "authorization",
                    headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        else:
            client = "ip:" + self._address(scope, headers)
        for item in self.limits:
            if not self.limiter.hit(item, client):
                reset = self.limiter.get_window_stats(item, client).reset_time
                wait = max(1, math.ceil(reset - time.time()))
                self.metrics.rejected.labels("rate_limited").inc()
                await error_response(
                    429, f"rate limit exceeded ({item}); retry in {wait} s",
                    "rate_limit_error", headers={"Retry-After": str(wait)})(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _known(self, key: str) -> bool:
        given = key.encode()
        # Every key is compared (no early exit): the time taken says nothing of which.
        return sum(secrets.compare_digest(given, k) for k in self.keys) > 0

    def _browser_allowed(self, headers: dict) -> bool:
        origin = headers.get(b"origin", "").rstrip("/")
        if not origin or origin == "null":
            return False
        if origin in self.origins:
            return True
        # The service's own demo page: a same-origin request names this host.
        return urlsplit(origin).netloc == headers.get(b"host", "")

    def _address(self, scope: Scope, headers: dict) -> str:
        peer = (scope.get("client") or ("unknown", 0))[0]
        forwarded = headers.get(b"x-forwarded-for", "")
        if not forwarded or not self._trusted(peer):
            return peer
        # The right-most address a trusted proxy did not add is the client's.
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not self._trusted(hop):
                return hop
        return peer

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.proxies)


def _bearer(value: str) -> str | None:
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
