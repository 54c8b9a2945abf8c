"""The records the index is made of: articles and their chunks and sentences."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit


def content_hash(*parts: str) -> str:
    """A stable hash of an article's content (title, text and metadata)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def source_of(url: str) -> str | None:
    """The site a URL belongs to (its host without ``www.``), or None for a non-web URL."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


@dataclass(frozen=True)
class Article:
    """One cleaned article. Every offset in the index refers to ``text``."""

    id: str
    title: str
    text: str
    url: str | None = None
    published: str | None = None
    source: str | None = None
    content_hash: str = field(default="")

    def __post_init__(self) -> None:
        if not self.source and self.url:
            # Filters and the widget name a source; a page without one is known by its site.
            object.__setattr__(self, "source", source_of(self.url))
        if not self.content_hash:
            digest = content_hash(
                self.title, self.text, self.url or "", self.published or "", self.source or ""
            )
            object.__setattr__(self, "content_hash", digest)


@dataclass(frozen=True)
class Span:
    """A half-open span ``[start, end)`` of an article's text, in code points."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A retrieval unit: ``text == article.text[start:end]``."""

    id: str
    article_id: str
    n: int
    start: int
    end: int
    text: str
