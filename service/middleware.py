"""ASGI middleware at the edge: unexpected errors, security headers, slow bodies.

Pure ASGI (no ``BaseHTTPMiddleware``), so streaming responses pass through untouched and
the status an error handler produced is seen by the metrics around them.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qa.limits import MAX_BODY_BYTES
from service.body_deadline import BodyDeadline, declared_length
from service.errors import error_response

log = logging.getLogger("qa.api")


class HttpMiddleware:
    """Pure ASGI middleware that handles HTTP requests and passes anything else through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.handle(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (subclasses wrap ``self.app``)."""
        await self.app(scope, receive, send)


class CatchAll(HttpMiddleware):
    """Answers an unexpected exception with a JSON 500 and logs one line (no traceback
    per request, no dropped connection)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # the last line of defence: anything else is a bug
            log.error("unhandled %s on %s %s: %r", type(exc).__name__, scope.get("method"),
                      scope.get("path"), str(exc)[:200])
            if not started:
                await error_response(500, "internal error", "server_error")(scope, receive,
                                                                            send)


class SecurityHeaders(HttpMiddleware):
    """``X-Content-Type-Options: nosniff`` on every response."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


# A 408 leaves the rest of the body unread on the connection: it cannot carry another
# request, so the response says it is the last and uvicorn closes the connection.
CLOSE = {"Connection": "close"}


class BodyTimeout(HttpMiddleware):
    """A request body that is too slow gets a 408 and its connection is closed: when its
    next part takes longer than ``seconds`` (a stall), or when the whole of it takes longer
    than its :class:`BodyDeadline` (a trickle), counted from the request's headers.

    Only while the body is incomplete: afterwards ``receive`` waits for a disconnect,
    which may rightly take as long as a streamed response.
    """

    def __init__(self, app: ASGIApp, seconds: float, deadline: BodyDeadline | None = None,
                 max_body_bytes: int = MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.seconds = seconds
        self.deadline = deadline or BodyDeadline()
        self.max_body_bytes = max_body_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        complete = False
        loop = asyncio.get_running_loop()
        allowed = self.deadline.seconds(declared_length(scope.get("headers", [])),
                                        self.max_body_bytes)
        ends_at = loop.time() + allowed

        async def timed_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            left = ends_at - loop.time()
            try:
                if left <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), min(self.seconds, left))
            except TimeoutError:
                if left <= self.seconds:
                    raise HTTPException(408, f"the whole request body did not arrive "
                                             f"within {allowed:g} seconds",
                                        headers=CLOSE) from None
                raise HTTPException(408, f"the request body did not arrive within "
                                         f"{self.seconds:g} seconds", headers=CLOSE) from None
            complete = message["type"] != "http.request" or not message.get("more_body")
            return message

        await self.app(scope, timed_receive, send)


class DeclaredLengthLimit(HttpMiddleware):
    """A body declared larger than the limit is refused before it is read (JSON 413).

    Bodies without a length (chunked) are counted as they arrive by Starlette's
    ``RequestBodyLimitMiddleware`` inside this one; its 413 reaches the JSON handlers.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = dict(scope.get("headers", [])).get(b"content-length", b"")
        if length and (not length.isdigit() or int(length) > self.max_bytes):
            response = error_response(
                413, f"the request body is larger than {self.max_bytes} bytes",
                "request_too_large")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
