"""Asking the engine from a route: time it, keep it in the journal, tell the access log."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request

from qa.engine import Engine
from qa.scope import Scope
from qa.types import Answer, Message
from service.journal import Journal


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

    def __call__(self, engine: Engine, messages: Sequence[Message], top_k: int | None,
                 scope: Scope | None, channel: str) -> Answer:
        """Answer and record."""
        answer = ask(engine, self.request.app.state.journal, messages, top_k, scope, channel)
        self.request.state.outcome = answer
        return answer


async def get_asker(request: Request) -> Asker:
    """The route's asker (a coroutine, so FastAPI does not hop to a thread to make it)."""
    return Asker(request)


AskerDep = Annotated[Asker, Depends(get_asker)]
