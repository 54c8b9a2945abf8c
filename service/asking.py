"""Asking the engine from a route: time it, keep it in the journal, tell the access log.

A route's answer runs on the event loop's own thread when its request is the only one
the server holds, else on a worker thread. Handing an answer to a worker thread and back
costs about 0.9 ms of it here (two wake-ups on a VM), and an idle server is the common
case. But while an answer runs on the loop nothing else is served: with every answer
inline, ``/healthz`` waited 190 ms (p50) behind 8 busy clients against 19 ms threaded
(``bench.served_news``). So under load the answers go to worker threads, and a request
that arrives during an inline answer waits for one answer at most.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from qa.engine import Engine
from qa.scope import Scope
from qa.types import Answer, Message
from service.journal import Journal
from service.server import requests_held


def ask(engine: Engine, journal: Journal | None, messages: Sequence[Message],
        top_k: int | None, scope: Scope | None, channel: str) -> Answer:
    """The engine's answer, recorded with its outcome and latency (never the asker)."""
    began = time.perf_counter()
    answer = engine.answer(messages, top_k=top_k, scope=scope)
    if journal is not None:
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        journal.record(answer.answer_id, question, answer,
                       (time.perf_counter() - began) * 1000, channel)
    return answer


class Asker:
    """A route's way to ask: :func:`ask` with the app's journal, the outcome left on the
    request for its log line."""

    def __init__(self, request: Request) -> None:
        self.request = request

    async def __call__(self, engine: Engine, messages: Sequence[Message], top_k: int | None,
                       scope: Scope | None, channel: str) -> Answer:
        """Answer and record: inline when this is the only request held, else on a
        worker thread (the module's docstring says why)."""
        args = (engine, self.request.app.state.journal, messages, top_k, scope, channel)
        if requests_held(self.request.scope) == 1:
            answer = ask(*args)
        else:
            answer = await run_in_threadpool(ask, *args)
        self.request.state.outcome = answer
        return answer


async def get_asker(request: Request) -> Asker:
    """The route's asker (a coroutine, so FastAPI does not hop to a thread to make it)."""
    return Asker(request)


AskerDep = Annotated[Asker, Depends(get_asker)]
