"""Every error leaves the service as JSON: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa.conversation import ConversationError
from qa.live import NotReady
from qa.scope import ScopeError

_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
          405: "invalid_request_error", 408: "timeout_error", 413: "request_too_large",
          503: "service_unavailable"}


class ApiError(Exception):
    """A request the service refuses, with the status and message to send."""

    def __init__(self, status: int, message: str, param: str | None = None,
                 type_: str = "invalid_request_error", code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.type, self.code = (
            status, message, param, type_, code)
        self.headers = headers


def error_response(status: int, message: str, type_: str = "invalid_request_error",
                   param: str | None = None, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON error body every route uses."""
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def not_ready_response(reason: str) -> JSONResponse:
    """503 while the service cannot answer (loading, or no usable index)."""
    return error_response(503, f"the service is not ready: {reason}", "service_unavailable",
                          headers={"Retry-After": "5"})


# Tags of the message unions (by role): pydantic puts them in error locations.
_ROLE_TAGS = {"user", "assistant", "system", "developer"}


def _field_path(loc: tuple) -> list[str]:
    """The request field an error location names, without pydantic's union labels
    (``messages.0.user.content.constrained-str`` is ``messages.0.content``)."""
    path: list[str] = []
    for part in loc:
        if part in ("body", "query"):
            continue
        if isinstance(part, str) and (not part.isidentifier() or (
                part in _ROLE_TAGS and path and path[-1].isdigit())):
            continue
        path.append(str(part))
    return path


def _describe(exc: RequestValidationError) -> tuple[str, str | None, int | None]:
    """One readable sentence for the first validation problem, its field, and the status
    it must have whatever the route (None: the route's usual one)."""
    errors = exc.errors()
    if not errors:
        return "invalid request", None, None
    first = errors[0]
    kind = first.get("type")
    if kind == "json_invalid":
        return "the request body is not valid JSON", None, 400
    path = _field_path(tuple(first.get("loc", ())))
    if kind == "union_tag_invalid":
        path.append("role")
    param = ".".join(path) or None
    where = f"{param}: " if param else ""
    if kind == "string_unicode":  # text the model cannot encode: the same 400 everywhere
        return f"{where}invalid Unicode (a lone surrogate)", param, 400
    return f"{where}{first.get('msg', 'invalid value')}", param, None


def install(app: FastAPI, max_body_bytes: int) -> None:
    """Register the handlers that turn every refusal into the JSON error shape.

    Unexpected exceptions are answered by :class:`service.middleware.CatchAll`.
    """

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.type, exc.param, exc.code,
                              exc.headers)

    @app.exception_handler(ConversationError)
    async def _conversation(_: Request, exc: ConversationError) -> JSONResponse:
        return error_response(400, exc.message, param=exc.param)

    @app.exception_handler(ScopeError)
    async def _scope(_: Request, exc: ScopeError) -> JSONResponse:
        return error_response(400, exc.message, param=exc.param)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message, param, status = _describe(exc)
        # OpenAI clients expect 400 for any bad request; the native API uses 422 for
        # well-formed JSON that breaks the schema, as FastAPI does.
        if status is None:
            scoped = param is not None and param.split(".")[0] in ("as_of", "filters")
            status = 400 if scoped or request.url.path.startswith("/v1/") else 422
        return error_response(status, message, param=param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 413:
            message = f"the request body is larger than {max_body_bytes} bytes"
        return error_response(exc.status_code, message,
                              _TYPES.get(exc.status_code, "invalid_request_error"),
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(NotReady)
    async def _not_ready(_: Request, exc: NotReady) -> JSONResponse:
        return not_ready_response(str(exc))
