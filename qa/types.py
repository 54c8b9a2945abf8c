"""What answering returns: dataclasses, serialised only at the edges."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    """One turn of a conversation."""

    role: str  # "user" or "assistant" (or "system", which answering ignores)
    content: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its score for one question."""

    article_id: str
    chunk_id: str
    title: str
    start: int
    end: int
    text: str
    score: float


@dataclass(frozen=True)
class CopyRef:
    """Another page carrying the same story (a wire copy) as a cited article."""

    id: str
    url: str | None
    source: str | None
    published: str | None


@dataclass(frozen=True)
class Citation:
    """An exact quote: ``quote == article.text[start:end]``."""

    n: int
    article_id: str
    title: str
    url: str | None
    published: str | None
    start: int
    end: int
    quote: str
    source: str | None = None
    # The article URL with a text fragment that scrolls to and highlights the quote.
    link: str | None = None
    also_in: list[CopyRef] = field(default_factory=list)  # the story's other copies


@dataclass(frozen=True)
class AnswerSpan:
    """The short answer inside the cited sentence (a number or a date), when there is
    exactly one: ``article.text[start:end] == text``."""

    article_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Answer:
    """A grounded answer, or an honest abstention (``grounded`` false, no citations)."""

    text: str
    grounded: bool
    confidence: float
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    index_version: str = ""
    query: str = ""  # the retrieval query the conversation was turned into
    # Why there is no grounded answer: "low_confidence", "no_matching_articles" (the
    # filters and as_of leave nothing to search) or "withheld" (the article it would
    # cite fails its recorded hash); None when grounded.
    reason: str | None = None
    as_of: str | None = None  # the day the question was answered as of (YYYY-MM-DD)
    # Names this answer for feedback: the same conversation, scope and index give the same
    # id (and the same answer), so identical answers share their ratings.
    answer_id: str = ""
    answer_span: AnswerSpan | None = None
