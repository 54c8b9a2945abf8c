"""Checks on the conversation that every chat route shares."""

from __future__ import annotations

from collections.abc import Sequence

from qa.types import Message
from service.errors import ApiError


def check_conversation(messages: Sequence[Message], max_question_chars: int,
                       param: str = "messages") -> None:
    """Refuse a conversation without a usable last user question (400)."""
    users = [m for m in messages if m.role == "user"]
    if not users:
        raise ApiError(400, "messages must contain a user message", param)
    question = users[-1].content.strip()
    if not question:
        raise ApiError(400, "the question (the last user message) is empty", param)
    if len(question) > max_question_chars:
        raise ApiError(400, f"the question is {len(question)} characters long; the limit is "
                       f"{max_question_chars}", param)
