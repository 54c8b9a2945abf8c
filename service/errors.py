"""Every error leaves the service as JSON: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.live import NotReady

log = logging.getLogger("qa.api")

MAX_BODY_BYTES = 1 << 20


class ApiError(Exception):
    """A request the service refuses, with the status and message to send."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 type_: str = "invalid_request_error", code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.type, self.code = (
            status, message, param, type_, code)


def error_response(status: int, message: str, type_: str = "invalid_request_error",
                   param: str | None = None, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error body every route uses."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _describe(exc: RequestValidationError) -> tuple[str, str | None, bool]:
    """One readable sentence for the first validation problem, its field, and whether the
    body was not JSON at all."""
    errors = exc.errors()
    if not errors:
        return "invalid request", None, False
    first = errors[0]
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON", None, True
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    where = f"{param}: " if param else ""
    return f"{where}{first.get('msg', 'invalid value')}", param, False


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the JSON error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.type, exc.param, exc.code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param, not_json = _describe(exc)
        # OpenAI clients expect 400 for any bad request; the native API uses 422 for
        # well-formed JSON that breaks the schema, as FastAPI does.
        status = 400 if not_json or request.url.path.startswith("/v1/") else 422
        return error_response(status, message, param=param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return error_response(exc.status_code, str(exc.detail), type_,
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(NotReady)
    async def _not_ready(_: Request, exc: NotReady) -> JSONResponse:
        return error_response(503, f"the service is not ready: {exc}", "service_unavailable",
                              headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback for operators; the client only learns that it failed.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error", "server_error")

    @app.middleware("http")
    async def _limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return error_response(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        return await call_next(request)
