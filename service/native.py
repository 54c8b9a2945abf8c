"""The native API: chat, articles, health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from index.records import Article
from qa.live import NotReady
from qa.scope import article_as_of, missing_article, parse_day
from service.asking import AskerDep
from service.deps import EngineDep, LiveDep
from service.errors import ApiError, not_ready_response
from service.responses import BODY_ERRORS, errors, json_of, streams
from service.schemas import DAY_SCHEMA, ChatRequest, ChatResponse
from service.streaming import native_stream

router = APIRouter()
AsOfQuery = Annotated[str | None, Query(
    **DAY_SCHEMA, description="Hide the article if it was published after this day.")]


@router.post("/api/chat", response_model=ChatResponse,
             responses={**streams(ChatResponse), **BODY_ERRORS, **errors(503)})
async def chat(body: ChatRequest, engine: EngineDep, ask: AskerDep):
    """Answer the last user message of a conversation, with exact citations.

    With ``"stream": true`` the answer comes as server-sent events."""
    answer = await ask(engine, body.to_messages(), body.top_k, body.scope(), "api")
    if body.stream:
        return native_stream(answer)
    return json_of(ChatResponse.of(answer))


@router.get("/api/articles/{article_id:path}", response_model=Article,
            responses=errors(400, 404, 503))
def article(article_id: str, engine: EngineDep, as_of: AsOfQuery = None) -> Article:
    """One article with the text every citation offset refers to.

    With ``as_of`` (YYYY-MM-DD) an article published after that day is not found, as
    it would not be for a question asked as of that day."""
    day = parse_day(as_of, "as_of")
    found = article_as_of(engine.index.store, article_id, day)
    if found is None:
        raise ApiError(404, missing_article(article_id, day), "article_id", "not_found_error")
    return found


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses=errors(503))
def readyz(live: LiveDep):
    """Readiness: 200 once the model and a published index are loaded, else 503 (in the
    error shape, with the reason)."""
    try:
        with live.use() as engine:
            body = {"status": "ready", "index_version": engine.version,
                    "articles": engine.index.manifest.articles,
                    "model": engine.index.manifest.model}
    except NotReady as exc:
        return not_ready_response(str(exc))
    if problem := live.problem():  # serving an older build: the newest would not open
        body["warning"] = problem
    return body
