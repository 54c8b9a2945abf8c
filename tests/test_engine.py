"""Answering with the hashing embedder: exact citations, abstention, follow-ups."""

from __future__ import annotations

import pytest

from index.reader import open_published
from qa.conversation import ConversationError, build_query, is_follow_up
from qa.engine import Engine
from qa.limits import MAX_CONTEXT_CHARS
from qa.types import Message
from tests.conftest import build, engine_for


@pytest.fixture
def engine(tmp_path, corpus_dir, hashing) -> Engine:
    build(tmp_path / "ix", hashing, corpus_dir)
    return engine_for(tmp_path / "ix", hashing, min_confidence=0.25)


def ask(engine: Engine, *turns: str):
    roles = ["user", "assistant"]
    return engine.answer([Message(roles[i % 2], t) for i, t in enumerate(turns)])


def assert_exact(engine: Engine, answer) -> None:
    for c in answer.citations:
        article = engine.index.store.article(c.article_id)
        assert article.text[c.start : c.end] == c.quote
        assert (c.title, c.url, c.published) == (article.title, article.url, article.published)
    for p in answer.passages:
        article = engine.index.store.article(p.article_id)
        assert article.text[p.start : p.end] == p.text
        assert len(p.text) <= 1000


@pytest.mark.parametrize("question, fact, article_id", [
    ("How many residents did rescue teams evacuate from Elmswick?", "1,200", "flood"),
    ("How many council seats did the Green Party win?", "14 of the 40", "election"),
    ("How many loaves does the Dunmore bakery bake a day?", "800 loaves", "bakery"),
])
def test_answers_quote_the_article_exactly(engine, question, fact, article_id):
    answer = ask(engine, question)
    assert answer.grounded
    assert fact in answer.text
    assert answer.text.endswith("[1]")
    assert [c.article_id for c in answer.citations] == [article_id]
    assert answer.citations[0].quote in answer.text
    assert answer.passages[0].article_id == article_id
    assert answer.index_version == engine.version
    assert_exact(engine, answer)


def test_abstains_when_nothing_is_relevant(engine):
    answer = ask(engine, "Quantum chromodynamics gluon lattice?")
    assert not answer.grounded
    assert answer.citations == []
    assert "don't know" in answer.text
    assert 0.0 <= answer.confidence < engine.config.min_confidence


def test_top_k_limits_passages(engine):
    assert len(engine.answer([Message("user", "flood rain town")], top_k=2).passages) == 2


def test_same_question_same_answer(engine):
    assert ask(engine, "Who is the mayor?") == ask(engine, "Who is the mayor?")


def test_follow_up_borrows_the_earlier_subject(engine):
    first = "How many residents were evacuated from the flooded river town of Elmswick?"
    alone = ask(engine, "How many of them were students?")
    followed = ask(engine, first, ask(engine, first).text, "How many of them were students?")
    assert alone.citations[0].article_id == "election"  # the question alone: wrong story
    assert followed.citations[0].article_id == "flood"
    assert "300 were students" in followed.text
    assert_exact(engine, followed)


def test_follow_up_detection():
    assert is_follow_up("And who said that?")
    assert is_follow_up("How many of them were students?")
    assert not is_follow_up("How many Afghan students signed up for the evacuation?")
    query = build_query([Message("user", "Floods in Elmswick"), Message("assistant", "x [1]"),
                         Message("user", "And the mayor?")])
    assert query.retrieval == "Floods in Elmswick And the mayor?"
    assert query.context == "Floods in Elmswick"


@pytest.mark.parametrize(("messages", "fragment", "param"), [
    ([Message("assistant", "hello")], "must contain a user message", "messages"),
    ([Message("user", "fine question?"), Message("user", "  ")], "is empty",
     "messages.1.content"),
    ([Message("user", "x" * 2001)], "2001 characters long", "messages.0.content"),
    ([Message("user", "bad \ud800 text")], "lone surrogate", "messages.0.content"),
    ([Message("assistant", "y" * 8001), Message("user", "ok?")], "longer than 8000",
     "messages.0.content"),
    ([Message("user", "q?")] * 51, "at most 50 messages", "messages"),
])
def test_conversations_are_checked_once_in_the_core(messages, fragment, param):
    with pytest.raises(ConversationError, match=fragment) as caught:
        build_query(messages)
    assert caught.value.param == param


def test_a_follow_up_borrows_bounded_context():
    long_turn = "Floods in Elmswick " + "and more words " * 450
    query = build_query([Message("user", long_turn), Message("assistant", "a " * 3000),
                         Message("user", "And the mayor?")])
    assert len(query.context) <= MAX_CONTEXT_CHARS and query.context.startswith("Floods")
    assert query.retrieval.endswith("And the mayor?")


def test_top_k_none_means_the_configured_default(engine, tmp_path, hashing):
    eng = engine_for(tmp_path / "ix", hashing, top_k=2)
    assert len(eng.answer([Message("user", "flood rain town")]).passages) == 2
    assert len(eng.answer([Message("user", "flood rain town")], top_k=3).passages) == 3


def test_engine_over_a_reopened_index_answers_the_same(tmp_path, corpus_dir, hashing, engine):
    again = Engine(open_published(tmp_path / "ix"), hashing, engine.config)
    q = [Message("user", "Which party won the council election?")]
    assert again.answer(q) == engine.answer(q)
