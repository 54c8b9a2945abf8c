"""The error responses each route declares in the OpenAPI document, in one place."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

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


# One server-sent event (the OpenAPI 3.2 description of text/event-stream items).
SSE_EVENT = {"type": "object", "properties": {"data": {"type": "string"},
                                              "event": {"type": "string"}}}


def streams(model: type | None = None,
            description: str = "The answer") -> dict[int | str, dict[str, Any]]:
    """A 200 that is JSON, or server-sent events when the request asks to stream."""
    content: dict[str, Any] = {"text/event-stream": {"itemSchema": SSE_EVENT}}
    if model is None:
        content["application/json"] = {"schema": {"type": "object"}}
    response: dict[str, Any] = {"description": description, "content": content}
    if model is not None:
        response["model"] = model
    return {200: response}


BODY_ERRORS = errors(400, 408, 413, 422)
ADMIN_ERRORS = errors(401, 403)


def json_of(model: BaseModel) -> Response:
    """A route's model as its JSON response, serialised once.

    Returned as a model, FastAPI would validate it again against the route's response
    model (on a worker thread, for a sync route) before serialising it: about a
    millisecond per answer for a copy of what the model already checked.
    """
    return Response(model.model_dump_json(), media_type="application/json")
