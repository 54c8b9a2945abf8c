"""The native API: chat, articles, health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from qa.live import LiveEngine, NotReady
from service.errors import ApiError
from service.questions import check_conversation
from service.schemas import ArticleOut, ChatRequest, ChatResponse, ErrorResponse

router = APIRouter()
_ERRORS = {status: {"model": ErrorResponse} for status in (400, 404, 413, 422, 503)}


def live(request: Request) -> LiveEngine:
    """The app's live engine."""
    return request.app.state.live


@router.post("/api/chat", response_model=ChatResponse, responses=_ERRORS)
def chat(body: ChatRequest, request: Request):
    """Answer the last user message of a conversation, with exact citations."""
    messages = body.to_messages()
    check_conversation(messages, request.app.state.settings.max_question_chars)
    engine = live(request).engine()
    answer = engine.answer(messages, top_k=body.top_k)
    if body.stream:
        from service.streaming import native_stream

        return native_stream(answer)
    return ChatResponse.of(answer)


@router.get("/api/articles/{article_id:path}", response_model=ArticleOut, responses=_ERRORS)
def article(article_id: str, request: Request) -> ArticleOut:
    """One article with the text every citation offset refers to."""
    found = live(request).engine().index.store.article(article_id)
    if found is None:
        raise ApiError(404, f"no article with id {article_id!r}", "article_id",
                       "not_found_error")
    return ArticleOut(id=found.id, title=found.title, url=found.url, published=found.published,
                      source=found.source, text=found.text, content_hash=found.content_hash)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses=_ERRORS)
def readyz(request: Request):
    """Readiness: 200 once the model and a published index are loaded, else 503."""
    state = live(request)
    try:
        engine = state.engine()
    except NotReady as exc:
        return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
    body = {"status": "ready", "index_version": engine.version,
            "articles": engine.index.manifest.articles, "model": engine.index.manifest.model}
    if state.error:  # serving an older build because the newest would not open
        body["warning"] = state.error
    return body
