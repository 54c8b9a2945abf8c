"""The HTTP app: ``uvicorn --factory api:create_app`` or ``qa serve``."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from index.embedder import load_embedder
from qa.live import LiveEngine, Watcher
from qa.settings import Settings
from service import admin, errors, metrics, native, openai_api, widget

log = logging.getLogger("qa.api")


def create_app(settings: Settings | None = None, live: LiveEngine | None = None) -> FastAPI:
    """Build the app. The model and index load in the background after start-up, so
    ``/healthz`` answers at once and ``/readyz`` says 503 until they are loaded."""
    settings = settings or Settings()
    if live is None:
        live = LiveEngine(settings.index_dir, lambda: load_embedder(settings.model),
                          settings.answer_config())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = Watcher(live, settings.reload_interval) if settings.reload_interval else None

        def load() -> None:
            try:
                if live.embedder is None:
                    live.load()
                else:
                    live.refresh()
            except (OSError, ValueError, RuntimeError) as exc:
                live.error = f"cannot load the model {settings.model!r}: {exc}"
                log.error(live.error)
                return
            if live.error:
                log.error("index not loaded: %s", live.error)
            if watcher:
                watcher.start()

        threading.Thread(target=load, name="engine-loader", daemon=True).start()
        yield
        if watcher:
            watcher.stop()

    app = FastAPI(title="Grounded QA", version="0.1.0", lifespan=lifespan,
                  description="Answers taken from the articles, with exact citations.")
    app.state.settings = settings
    app.state.live = live
    errors.install(app)
    metrics.install(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization"],
        max_age=600,
    )
    app.include_router(native.router)
    app.include_router(admin.router)
    app.include_router(openai_api.router)
    app.include_router(widget.router)
    return app
