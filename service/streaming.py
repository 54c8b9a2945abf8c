"""Server-sent events: the native typed stream and helpers shared with the OpenAI stream."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from fastapi.sse import EventSourceResponse, format_sse_event

from qa.types import Answer
from service.schemas import ChatResponse

_PIECE = re.compile(r"\S+\s*")
WORDS_PER_DELTA = 3
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(data: object, event: str | None = None) -> bytes:
    """One SSE message; ``data`` is JSON-encoded (strings pass through as they are)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return format_sse_event(data_str=payload, event=event)


def pieces(text: str) -> Iterator[str]:
    """The answer in small word groups, in order; joined they give the text back exactly."""
    words = _PIECE.findall(text)
    lead = text[: len(text) - len(text.lstrip())]
    for i in range(0, len(words), WORDS_PER_DELTA):
        yield (lead if i == 0 else "") + "".join(words[i : i + WORDS_PER_DELTA])


def event_stream(messages: Iterable[bytes]) -> EventSourceResponse:
    """A text/event-stream response."""
    return EventSourceResponse(messages, headers=SSE_HEADERS)


def native_stream(answer: Answer) -> EventSourceResponse:
    """``POST /api/chat`` with ``stream: true``.

    Events, in order: ``passages`` (the evidence and index version), ``delta`` (pieces
    of the answer text), ``citations`` (with ``grounded`` and ``confidence``), ``done``
    (the whole response, as the non-streaming call returns it).
    """
    full = ChatResponse.of(answer).model_dump(mode="json")

    def events() -> Iterator[bytes]:
        yield sse({"passages": full["passages"], "index_version": full["index_version"]},
                  "passages")
        for piece in pieces(full["answer"]):
            yield sse({"text": piece}, "delta")
        yield sse({"citations": full["citations"], "grounded": full["grounded"],
                   "confidence": full["confidence"]}, "citations")
        yield sse(full, "done")

    return event_stream(events())
