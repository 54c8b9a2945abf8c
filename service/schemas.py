"""Pydantic models of the native HTTP API, and conversion from the core's dataclasses."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.types import Answer, Citation, Message, Passage

MAX_MESSAGES = 50
MAX_MESSAGE_CHARS = 8000  # earlier turns (answers included); the question has its own limit


class ChatMessage(BaseModel):
    """One turn of the conversation the client keeps."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["user", "assistant", "system"]
    content: str = Field(max_length=MAX_MESSAGE_CHARS)


class ChatRequest(BaseModel):
    """``POST /api/chat``."""

    model_config = ConfigDict(extra="ignore")

    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    top_k: int = Field(5, ge=1, le=20)
    stream: bool = False

    def to_messages(self) -> list[Message]:
        """The conversation as the core takes it."""
        return [Message(m.role, m.content) for m in self.messages]


class CitationOut(BaseModel):
    """An exact quote of an article: ``quote == article.text[start:end]``."""

    n: int
    article_id: str
    title: str
    url: str | None
    published: str | None
    start: int
    end: int
    quote: str

    @classmethod
    def of(cls, c: Citation) -> CitationOut:
        """From the core's citation."""
        return cls(**asdict(c))


class PassageOut(BaseModel):
    """A retrieved passage (at most 1000 characters) with its offsets and score."""

    article_id: str
    chunk_id: str
    title: str
    start: int
    end: int
    text: str
    score: float

    @classmethod
    def of(cls, p: Passage) -> PassageOut:
        """From the core's passage."""
        return cls(**asdict(p))


class ChatResponse(BaseModel):
    """The grounded answer, or an abstention (``grounded`` false, no citations)."""

    answer: str
    grounded: bool
    confidence: float
    citations: list[CitationOut]
    passages: list[PassageOut]
    index_version: str

    @classmethod
    def of(cls, a: Answer) -> ChatResponse:
        """From the core's answer."""
        return cls(answer=a.text, grounded=a.grounded, confidence=a.confidence,
                   citations=[CitationOut.of(c) for c in a.citations],
                   passages=[PassageOut.of(p) for p in a.passages],
                   index_version=a.index_version)


class ArticleOut(BaseModel):
    """``GET /api/articles/{id}``."""

    id: str
    title: str
    url: str | None
    published: str | None
    source: str | None
    text: str
    content_hash: str


class ErrorBody(BaseModel):
    """The error object (the OpenAI shape, used by every route)."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorBody
