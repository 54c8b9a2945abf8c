"""Pydantic models of the native HTTP API.

The answer's parts are the core's own dataclasses (``Citation``, ``Passage``, ``Article``):
pydantic validates and documents them as they are, so no field list is copied here.
Conversation rules (a question exists, its length, valid text) are enforced by the core;
the request models state them for the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from qa.limits import MAX_FILTER_VALUES, MAX_MESSAGE_CHARS, MAX_MESSAGES, MAX_QUESTION_CHARS
from qa.scope import Scope, parse_scope
from qa.types import Answer, AnswerSpan, Citation, Message, Passage
from service.settings import TopK

# The conversation rules the core enforces (qa.conversation.check_conversation), stated in
# the OpenAPI document too, so that a request valid by the document is one the server
# accepts: every user turn is a question with text, within the question limit.
# "Has text" is what the core's ``str.strip()`` leaves something of. Python counts the
# separators U+001C-U+001F as whitespace; the Unicode whitespace of ``\s`` in the
# validator's (and JSON Schema's) regex does not, so they are named.
Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                pattern=r"[^\s\x1c-\x1f]")]
Turn = Annotated[str, Field(max_length=MAX_MESSAGE_CHARS)]
HAS_A_QUESTION = {"contains": {"type": "object", "properties": {"role": {"const": "user"}},
                               "required": ["role"]}}


class UserMessage(BaseModel):
    """A question (the last one is answered)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["user"]
    content: Question


class OtherMessage(BaseModel):
    """An earlier answer, or a system turn (ignored by answering)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["assistant", "system"]
    content: Turn


ChatMessage = Annotated[UserMessage | OtherMessage, Field(discriminator="role")]


# How a day is declared wherever a request carries one (body field or query parameter).
DAY_SCHEMA = {"pattern": r"^\d{4}-\d{2}-\d{2}$", "examples": ["2025-03-14"],
              "json_schema_extra": {"format": "date"}}
Day = Annotated[str, Field(**DAY_SCHEMA)]
Values = Annotated[list[Annotated[str, Field(max_length=500)]],
                   Field(max_length=MAX_FILTER_VALUES)]


class FilterSpec(BaseModel):
    """Explicit filters (inclusive days, combined with AND). A filter matching no article
    gives an abstention with reason ``no_matching_articles``, never a wider search;
    an unknown filter is refused."""

    model_config = ConfigDict(extra="forbid")

    published_after: Day | None = None
    published_before: Day | None = None
    sources: Values | None = Field(None, description="Sources (site names), any of them.")
    article_ids: Values | None = Field(None, description="Article ids, any of them.")


class Scoped(BaseModel):
    """The request fields that say what may be searched (shared by both chat APIs)."""

    as_of: Day | None = Field(None, description="Answer as of this day (default: today, "
                              "UTC): later articles are never used.")
    filters: FilterSpec | None = None

    def scope(self) -> Scope:
        """The core's scope; raises ScopeError (a 400) for an impossible date."""
        filters = self.filters.model_dump(exclude_none=True) if self.filters else None
        return parse_scope(self.as_of, filters)


class ChatRequest(Scoped):
    """``POST /api/chat``."""

    model_config = ConfigDict(extra="ignore")

    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES,
                                        json_schema_extra=HAS_A_QUESTION)
    top_k: TopK | None = Field(None, description="Passages to return (default: QA_TOP_K).")
    stream: bool = False

    def to_messages(self) -> list[Message]:
        """The conversation as the core takes it."""
        return [Message(m.role, m.content) for m in self.messages]


class ChatResponse(BaseModel):
    """The grounded answer, or an abstention (``grounded`` false, no citations)."""

    answer: str
    grounded: bool
    confidence: float
    citations: list[Citation]
    passages: list[Passage]
    index_version: str
    reason: Literal["low_confidence", "no_matching_articles", "withheld"] | None = Field(
        None, description="Why there is no grounded answer (null when grounded).")
    as_of: str | None = Field(None, description="The day the question was answered as of.")
    answer_id: str = Field("", description="Names this answer for POST /api/feedback.")
    answer_span: AnswerSpan | None = Field(
        None, description="The short answer (a number or date) inside the cited sentence, "
        "when there is exactly one.")

    @classmethod
    def of(cls, a: Answer) -> ChatResponse:
        """From the core's answer."""
        return cls(answer=a.text, grounded=a.grounded, confidence=a.confidence,
                   citations=a.citations, passages=a.passages, index_version=a.index_version,
                   reason=a.reason, as_of=a.as_of, answer_id=a.answer_id,
                   answer_span=a.answer_span)


class ErrorBody(BaseModel):
    """The error object (the OpenAI shape, used by every route)."""

    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorBody
