"""Turn a conversation into one retrieval query, without an LLM.

A follow-up ("How many of them were students?", "And who said that?") carries too
little of its own to retrieve the right story, so it borrows the earlier user turns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.terms import terms
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


def build_query(messages: Sequence[Message], max_context_turns: int = 2) -> Query:
    """The retrieval query for the last user turn of a conversation.

    Raises ValueError when there is no user turn with content.
    """
    users = [m.content.strip() for m in messages if m.role == "user" and m.content.strip()]
    if not users:
        raise ValueError("the conversation has no user message")
    question = users[-1]
    if len(users) == 1 or not is_follow_up(question):
        return Query(question, question)
    # Walk back until a turn that stands alone: that is the story being asked about.
    context_turns: list[str] = []
    for earlier in reversed(users[:-1]):
        context_turns.insert(0, earlier)
        if not is_follow_up(earlier) or len(context_turns) >= max_context_turns:
            break
    context = " ".join(context_turns)
    answered = tuple(m.content for m in messages if m.role == "assistant" and m.content)
    return Query(question, f"{context} {question}", context, answered)
