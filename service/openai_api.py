"""An OpenAI-compatible Chat Completions endpoint, so existing clients can use the service.

The answer (with ``[n]`` markers) is the message content; the same citation objects as
``/api/chat`` ride along as ``choices[0].message.citations`` (and on the final stream
chunk). Responses are deterministic: the id is a hash of the request and the index
version, and ``created`` is the index build's time, so the same messages over the same
index give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from qa.limits import MAX_MESSAGES
from qa.types import Answer, Message
from service.asking import AskerDep
from service.deps import EngineDep
from service.responses import BODY_ERRORS, errors, streams
from service.schemas import HAS_A_QUESTION, Question, Scoped, Turn
from service.settings import TopK
from service.streaming import event_stream, pieces, sse

router = APIRouter(prefix="/v1")
MODEL_ID = "qa"


class TextPart(BaseModel):
    """A text part of a message's content."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: Question


class OpenAIMessage(BaseModel):
    """A chat message; content may be a string or a list of text parts."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant", "system", "developer"]
    content: Turn | list[TextPart] | None = None

    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, list):
            return "".join(p.text for p in self.content)
        return self.content or ""


class UserTurn(OpenAIMessage):
    """A question: its text must say something."""

    role: Literal["user"]
    content: Question | Annotated[list[TextPart], Field(min_length=1)]


class OtherTurn(OpenAIMessage):
    """An earlier answer or a system prompt."""

    role: Literal["assistant", "system", "developer"]


Turns = Annotated[UserTurn | OtherTurn, Field(discriminator="role")]


class ChatCompletionRequest(Scoped):
    """The OpenAI request; fields we cannot honour (temperature, max_tokens, ...) are
    accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[Turns] = Field(min_length=1, max_length=MAX_MESSAGES,
                                  json_schema_extra=HAS_A_QUESTION)
    stream: bool = False
    top_k: TopK | None = Field(None, description="Passages to return (default: QA_TOP_K).")

    def to_messages(self) -> list[Message]:
        """The conversation as the core takes it."""
        out = []
        for m in self.messages:
            # System turns are kept (and ignored by answering) so that the core's error
            # positions match the request's.
            out.append(Message(m.role if m.role in ("user", "assistant") else "system",
                               m.text()))
        return out


@router.get("/models")
def models() -> dict:
    """The one model this service offers."""
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                        "owned_by": "grounded-qa"}]}


@router.post("/chat/completions", responses={
    **streams(description="A chat completion, or its chunks as server-sent events"),
    **BODY_ERRORS, **errors(503)})
async def chat_completions(body: ChatCompletionRequest, engine: EngineDep, ask: AskerDep):
    """Answer like an OpenAI chat model, with citations."""
    messages = body.to_messages()
    answer = await ask(engine, messages, body.top_k, body.scope(), "openai")
    created = int(datetime.fromisoformat(engine.index.manifest.created_at).timestamp())
    ident = "chatcmpl-" + hashlib.sha256(json.dumps(
        [body.model_dump(mode="json", include={"messages", "top_k", "filters"}),
         answer.index_version, answer.as_of],
        sort_keys=True).encode()).hexdigest()[:24]
    citations = [asdict(c) for c in answer.citations]
    if body.stream:
        return event_stream(_chunks(ident, created, answer, citations))
    # Plain JSON types already: FastAPI's jsonable_encoder pass over them is skipped.
    return JSONResponse({
        "id": ident, "object": "chat.completion", "created": created, "model": MODEL_ID,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": answer.text,
                                 "citations": citations}}],
        "usage": _usage(messages, answer),
        "grounded": answer.grounded, "confidence": answer.confidence,
        "index_version": answer.index_version, "reason": answer.reason, "as_of": answer.as_of,
        "answer_id": answer.answer_id,
        "answer_span": asdict(answer.answer_span) if answer.answer_span else None,
    })


def _chunks(ident: str, created: int, answer: Answer,
            citations: list[dict]) -> Iterator[bytes]:
    def chunk(delta: dict, finish: str | None = None, **extra: object) -> bytes:
        return sse({"id": ident, "object": "chat.completion.chunk", "created": created,
                    "model": MODEL_ID, "choices": [{"index": 0, "delta": delta,
                                                    "finish_reason": finish, "logprobs": None}],
                    **extra})

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces(answer.text):
        yield chunk({"content": piece})
    yield chunk({}, "stop", citations=citations, grounded=answer.grounded,
                confidence=answer.confidence, index_version=answer.index_version,
                reason=answer.reason, as_of=answer.as_of, answer_id=answer.answer_id)
    yield sse("[DONE]")


def _usage(messages: list[Message], answer: Answer) -> dict[str, int]:
    # No tokenizer-based billing here: words are an honest, stable stand-in.
    prompt = sum(len(m.content.split()) for m in messages)
    completion = len(answer.text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}
