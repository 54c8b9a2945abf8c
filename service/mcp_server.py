"""The Model Context Protocol server: the same engine as the HTTP API, as MCP tools.

Mounted at ``/mcp`` (Streamable HTTP, stateless, JSON responses) and run by ``qa mcp``
over stdio. No model tokens are spent: the tools return the engine's grounded answer,
passages and article text.

Tools: ``search_articles``, ``answer``, ``get_article``. Resource: ``articles://sources``
(the sources with their article counts and date ranges).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from qa.conversation import ConversationError
from qa.limits import MAX_QUESTION_CHARS, TOP_K_DEFAULT, TOP_K_MAX, TOP_K_MIN
from qa.live import LiveEngine, NotReady
from qa.scope import ScopeError, article_as_of, missing_article, parse_day, parse_scope
from qa.types import Message
from service.asking import ask
from service.journal import Journal
from service.schemas import ChatResponse

INSTRUCTIONS = (
    "Grounded answers from a news archive. Every answer is text quoted from an article, "
    "with the article id and character offsets it came from; when the archive does not "
    "answer, 'grounded' is false: say so instead of guessing. Dates are YYYY-MM-DD; as_of "
    "(default today) hides later articles; filters: published_after, published_before, "
    "sources, article_ids.")

Question = Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                description="The question, in plain words.")]
Filters = Annotated[dict[str, Any] | None, Field(
    None, description="Optional: published_after, published_before (YYYY-MM-DD, inclusive), "
    "sources (list), article_ids (list). A filter matching nothing gives no answer.")]
AsOf = Annotated[str | None, Field(None, description="Answer as of this day, YYYY-MM-DD "
                                   "(default: today, UTC).")]


@contextmanager
def refusals() -> Iterator[None]:
    """A request the service refuses reaches the assistant as a tool error with the same
    message the HTTP API gives (not as a crash)."""
    try:
        yield
    except (ScopeError, ConversationError) as exc:
        raise ToolError(exc.message) from exc
    except NotReady as exc:
        raise ToolError(f"the service is not ready: {exc}") from exc


def build_mcp(live: LiveEngine, journal: Journal | None) -> MCPServer:
    """An MCP server answering from ``live`` (and recording questions in ``journal``)."""
    server = MCPServer("grounded-qa", title="Grounded QA", instructions=INSTRUCTIONS,
                       version="0.1.0")

    @server.tool()
    def search_articles(query: Question, k: Annotated[int, Field(
            TOP_K_DEFAULT, ge=TOP_K_MIN, le=TOP_K_MAX)] = TOP_K_DEFAULT,
            filters: Filters = None, as_of: AsOf = None) -> dict[str, Any]:
        """Find the passages of the archive that best match a query, best first, with their
        article ids, character offsets, titles, dates and URLs."""
        with refusals(), live.use() as engine:
            found = engine.answer([Message("user", query)], top_k=k,
                                  scope=parse_scope(as_of, filters))
            store = engine.index.store
            # Each article's metadata, without reading its text.
            refs = {r["id"]: r for r in store.article_refs(
                store.article_rowids(list({p.article_id for p in found.passages})))}
            passages = [{**asdict(p), **{k: refs.get(p.article_id, {}).get(k)
                                          for k in ("url", "published", "source")}}
                        for p in found.passages]
        return {"passages": passages, "as_of": found.as_of, "reason": (
            found.reason if found.reason == "no_matching_articles" else None),
                "index_version": found.index_version}

    @server.tool()
    def answer(question: Question, filters: Filters = None,
               as_of: AsOf = None) -> dict[str, Any]:
        """Answer a question with a sentence quoted from the archive and its citation, or
        say that the archive does not answer it (grounded false, with the reason)."""
        with refusals(), live.use() as engine:
            found = ask(engine, journal, [Message("user", question)], None,
                        parse_scope(as_of, filters), "mcp")
        # The same object POST /api/chat returns (same schema, same code), less the
        # passages: an assistant that wants them calls search_articles.
        return ChatResponse.of(found).model_dump(mode="json", exclude={"passages"})

    @server.tool()
    def get_article(id: str, start: Annotated[int | None, Field(None, ge=0)] = None,
                    end: Annotated[int | None, Field(None, ge=0)] = None,
                    as_of: str | None = None) -> dict[str, Any]:
        """An article's text (all of it, or the span [start, end) in characters, the
        offsets citations use), with its title, URL, date and source. With as_of
        (YYYY-MM-DD) an article published after that day is not found."""
        with refusals(), live.use() as engine:
            day = parse_day(as_of, "as_of")
            article = article_as_of(engine.index.store, id, day)
        if article is None:
            raise ToolError(missing_article(id, day))
        lo = 0 if start is None else start
        hi = len(article.text) if end is None else end
        if not lo <= hi <= len(article.text):
            raise ToolError(f"span {lo}..{hi} is outside the article (0..{len(article.text)})")
        return {"id": article.id, "title": article.title, "url": article.url,
                "published": article.published, "source": article.source,
                "start": lo, "end": hi, "text": article.text[lo:hi]}

    @server.resource("articles://sources", mime_type="application/json",
                     description="The sources of the archive with their article counts and "
                     "first and last publication dates.")
    def sources() -> list[dict[str, Any]]:
        with refusals(), live.use() as engine:
            return engine.index.store.source_summary()

    return server
