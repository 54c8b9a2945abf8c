"""Running the app under uvicorn with the service's timeouts, and process-wide set-up."""

from __future__ import annotations

import asyncio
import logging
import os

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.settings import Settings

# The key, in every request's ``scope["state"]``, of the live set of requests the server
# holds (uvicorn's own: a request is in it from its parsed headers to its last byte).
HELD = "qa.requests_held"


def requests_held(scope: dict) -> int | None:
    """How many requests the server holds, this one included; None when the server does
    not say (run by another server than :func:`uvicorn_config`'s)."""
    held = scope.get("state", {}).get(HELD)
    return None if held is None else len(held)


def configure_process() -> None:
    """Process-wide settings, applied once at start-up (never in a constructor)."""
    # FAISS's OpenMP workers spin while torch runs its own pool: one query embedding took
    # 25x longer with both active. A search of one query needs no threads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(1)
    # numpy's OpenBLAS splits a question's sentence scoring (a few hundred rows times the
    # question vector) over every core, and its idle workers then spin: about 2 ms of CPU
    # per answer, taken from the embedding's threads and from everything else on the
    # machine. One thread gives the same scores.
    threadpool_limits(1, user_api="blas")
    # A per-load progress bar from the model library is noise in CLI and server logs.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)


def header_timeout_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers take longer
    than ``seconds`` to arrive (uvicorn itself waits for ever: a client sending one byte
    a second held a connection indefinitely), and telling each request how many the
    server holds (:func:`requests_held`)."""

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            # Copied into each request's scope["state"]: the set itself, so it is live.
            held = getattr(self.server_state, "tasks", None)
            if held is not None:
                self.app_state = {**self.app_state, HELD: held}

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE:
                self._arm()  # a (next) request has begun: its headers are on the clock
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # headers complete

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expire(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeoutProtocol


def uvicorn_config(app: object, settings: Settings, **overrides: object) -> uvicorn.Config:
    """The uvicorn configuration ``qa serve`` and the tests use."""
    options: dict = {
        "host": settings.host, "port": settings.port, "log_level": "info",
        "http": header_timeout_protocol(settings.header_timeout),
        "timeout_keep_alive": int(max(1, settings.keep_alive_timeout)), "lifespan": "on",
        # uvicorn would trust X-Forwarded-For from 127.0.0.1 by default; the service trusts
        # only QA_TRUSTED_PROXIES, in its access control.
        "proxy_headers": False,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)
