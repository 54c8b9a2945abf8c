"""Turn a conversation into one retrieval query, without an LLM.

A follow-up ("How many of them were students?", "And who said that?") carries too
little of its own to retrieve the right story, so it borrows the earlier user turns.
("Who said that?" is first tried by rule, on the earlier answer: :mod:`qa.attribution`.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.terms import terms
from qa.limits import (
    MAX_ANSWERED_TURNS,
    MAX_CONTEXT_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES,
    MAX_QUESTION_CHARS,
)
from qa.types import Message

# A question that leans on an earlier turn starts with a connective or a reference ...
_LEADING = re.compile(
    r"^\s*(and|but|so|also|then|what about|how about|what else|why|"
    r"(is|was|are|were|did|does|do) (it|he|she|they|that|this)|"
    r"(he|she|it|they|them|his|her|its|their|this|that|these|those|there)\b)",
    re.IGNORECASE,
)
# ... or refers back with a pronoun.
_REFERENCE = re.compile(
    r"\b(he|she|it|they|them|his|her|its|their|theirs|this|that|these|those|there|"
    r"the same|the latter|the former)\b",
    re.IGNORECASE,
)
# With this many content terms of its own, a question stands alone even with a pronoun.
_SELF_SUFFICIENT_TERMS = 4


@dataclass(frozen=True)
class Query:
    """The question to answer and the text to retrieve with."""

    question: str  # the last user turn, as asked
    retrieval: str  # the question plus whatever context it borrowed
    context: str = ""  # the borrowed part alone (earlier user turns)
    answered: tuple[str, ...] = ()  # earlier assistant turns: a follow-up wants news


def is_follow_up(question: str) -> bool:
    """True when a question probably depends on the turns before it."""
    own_terms = terms(question)
    if len(own_terms) >= _SELF_SUFFICIENT_TERMS:
        return False
    return bool(_LEADING.match(question) or _REFERENCE.search(question) or len(own_terms) <= 1)


class ConversationError(ValueError):
    """A conversation the engine cannot answer, with the request field to blame."""

    def __init__(self, message: str, param: str = "messages") -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def check_conversation(messages: Sequence[Message],
                       max_question_chars: int = MAX_QUESTION_CHARS) -> str:
    """Validate a conversation once, for every surface; returns the question.

    The question is the last user turn: it must exist, hold text, and fit the limit.
    Every turn must be text the model can encode (no lone surrogates) and fit its own
    limit. Raises :class:`ConversationError` naming the field.
    """
    if len(messages) > MAX_MESSAGES:
        raise ConversationError(f"at most {MAX_MESSAGES} messages are accepted")
    last_user = None
    for i, m in enumerate(messages):
        where = f"messages.{i}.content"
        if len(m.content) > MAX_MESSAGE_CHARS:
            raise ConversationError(
                f"message {i} is longer than {MAX_MESSAGE_CHARS} characters", where)
        if not _encodable(m.content):
            raise ConversationError(f"message {i} holds invalid Unicode (a lone surrogate)",
                                    where)
        if m.role == "user":
            last_user = i
    if last_user is None:
        raise ConversationError("messages must contain a user message")
    question = messages[last_user].content.strip()
    where = f"messages.{last_user}.content"
    if not question:
        raise ConversationError("the question (the last user message) is empty", where)
    if len(question) > max_question_chars:
        raise ConversationError(f"the question is {len(question)} characters long; the "
                                f"limit is {max_question_chars}", where)
    return question


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def build_query(messages: Sequence[Message], max_question_chars: int = MAX_QUESTION_CHARS,
                max_context_turns: int = 2) -> Query:
    """The retrieval query for the last user turn of a conversation.

    Raises :class:`ConversationError` when the conversation cannot be answered.
    The borrowed context and the earlier answers are bounded, so a follow-up costs
    about what a fresh question does.
    """
    question = check_conversation(messages, max_question_chars)
    users = [m.content.strip() for m in messages if m.role == "user" and m.content.strip()]
    if len(users) == 1 or not is_follow_up(question):
        return Query(question, question)
    # Walk back until a turn that stands alone: that is the story being asked about.
    context_turns: list[str] = []
    for earlier in reversed(users[:-1]):
        context_turns.insert(0, earlier)
        if not is_follow_up(earlier) or len(context_turns) >= max_context_turns:
            break
    context = _clip(" ".join(context_turns), MAX_CONTEXT_CHARS)
    answered = tuple(m.content for m in messages if m.role == "assistant" and m.content)
    return Query(question, f"{context} {question}", context, answered[-MAX_ANSWERED_TURNS:])


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut
