"""The HTTP app: ``uvicorn --factory api:create_app`` or ``qa serve``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from qa.live import LiveEngine, Watcher
from service import admin, docs, errors, feedback, metrics, native, openai_api, widget
from service.access import AccessControl
from service.body_deadline import BodyDeadline
from service.journal import Journal
from service.mcp_server import build_mcp
from service.middleware import BodyTimeout, CatchAll, DeclaredLengthLimit, SecurityHeaders
from service.server import configure_process
from service.settings import Settings


def create_app(settings: Settings | None = None, live: LiveEngine | None = None) -> FastAPI:
    """Build the app. The model and index load in the background after start-up, so
    ``/healthz`` answers at once and ``/readyz`` says 503 until they are loaded."""
    configure_process()
    settings = settings or Settings()
    if live is None:
        live = LiveEngine(settings.index_dir, settings.embedder_spec().load,
                          settings.answer_config())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = Watcher(live, settings.reload_interval) if settings.reload_interval else None

        def load() -> None:
            live.warm_up()
            if watcher:
                watcher.start()

        threading.Thread(target=load, name="engine-loader", daemon=True).start()
        async with mcp.session_manager.run():
            yield
        if watcher:
            watcher.stop()
        live.close()
        journal.close()

    app = FastAPI(title="Grounded QA", version="0.1.0", lifespan=lifespan,
                  description="Answers taken from the articles, with exact citations.",
                  docs_url=None, redoc_url=None)
    journal = Journal(settings.data_dir, settings.retention_days)
    app.state.settings = settings
    app.state.live = live
    app.state.journal = journal
    errors.install(app, settings.max_body_bytes)
    measured = metrics.install(app)
    docs.install(app)
    app.include_router(native.router)
    app.include_router(feedback.router)
    app.include_router(admin.router)
    app.include_router(openai_api.router)
    app.include_router(widget.router)
    # MCP over Streamable HTTP at /mcp: stateless JSON, behind the same middleware (keys,
    # rate limits, body limits, logs) as every other public route.
    mcp = build_mcp(live, journal)
    for route in mcp.streamable_http_app(streamable_http_path="/mcp", stateless_http=True,
                                         json_response=True, host=settings.host).routes:
        app.router.routes.append(metrics.named(route))
    # Added innermost first: the last one added sees the request first.
    app.add_middleware(BodyTimeout, seconds=settings.body_timeout,
                       deadline=BodyDeadline(settings.body_deadline,
                                             settings.body_deadline_per_64k),
                       max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=settings.max_body_bytes)
    app.add_middleware(DeclaredLengthLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessControl, metrics=measured,
                       keys=[k.get_secret_value() for k in settings.api_keys],
                       allowed_origins=settings.allowed_origins,
                       rate_limit=settings.rate_limit, trusted_proxies=settings.trusted_proxies)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
        max_age=600,
    )
    app.add_middleware(CatchAll)
    app.add_middleware(metrics.MeasureRequests, metrics=measured,
                       log_questions=settings.log_questions)
    return app
