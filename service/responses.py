"""The error responses each route declares in the OpenAPI document, in one place."""

from __future__ import annotations

from typing import Any

from service.schemas import ErrorResponse

_WHY = {
    400: "Bad request: not JSON, no question, too long, invalid text",
    401: "A valid key is required",
    403: "Disabled: no key is configured",
    404: "Not found",
    408: "The request body arrived too slowly",
    413: "The request body is too large",
    422: "The body does not match the schema",
    503: "Not ready: the model or the index is not loaded",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry declaring these error statuses with the error shape."""
    return {s: {"model": ErrorResponse, "description": _WHY[s]} for s in statuses}


def streams(model: type) -> dict[int | str, dict[str, Any]]:
    """A 200 that is JSON, or server-sent events when the request asks to stream."""
    return {200: {"model": model, "content": {
        "text/event-stream": {"schema": {"type": "string"},
                              "description": "with \"stream\": true"}}}}


BODY_ERRORS = errors(400, 408, 413, 422)
ADMIN_ERRORS = errors(401, 403)
