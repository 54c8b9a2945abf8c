"""'And who said that?': the follow-up is answered with the sentence that attributes the
previous answer, a sentence of the seed article cited with its exact offsets."""

from __future__ import annotations

import re

import pytest

from qa.attribution import asks_who_said, attributes, attribution, earlier_answer
from qa.engine import Engine
from qa.types import Answer, Message
from tests.conftest import SEEDS, build, engine_for

FOLLOW_UPS = ["And who said that?", "Who said that?", "According to whom?"]
VERB = re.compile(r"\b(said|told|according to|added|stated|wrote|quoted|saying)\b")


@pytest.fixture(scope="module")
def engine(tmp_path_factory, hashing) -> Engine:
    """The seed article alone, answered with the hashing embedder."""
    folder = tmp_path_factory.mktemp("seed")
    build(folder / "ix", hashing, SEEDS)
    return engine_for(folder / "ix", hashing, min_confidence=0.25)


def two_turns(engine: Engine, question: str, follow_up: str) -> tuple[Answer, Answer]:
    first = engine.answer([Message("user", question)])
    then = engine.answer([Message("user", question), Message("assistant", first.text),
                          Message("user", follow_up)])
    return first, then


def assert_exact(engine: Engine, answer: Answer) -> None:
    for c in answer.citations:
        assert engine.index.store.article(c.article_id).text[c.start : c.end] == c.quote


@pytest.mark.parametrize("follow_up", FOLLOW_UPS)
def test_a_quote_attributed_to_he_is_answered_with_the_speaker_named_before(engine,
                                                                             follow_up):
    # The first answer is a quote attributed to "he"; the speaker is named just before.
    first, then = two_turns(engine, "How have the Taliban authorities interacted with Russia?",
                            follow_up)
    assert first.grounded and "he added" in first.citations[0].quote
    assert then.grounded and then.reason is None and "don't know" not in then.text
    quote = then.citations[0].quote
    assert VERB.search(quote) and "the Russian envoy" in quote
    assert then.citations[0].end <= first.citations[0].start  # the sentence before
    assert then.citations[0].article_id == first.citations[0].article_id
    assert_exact(engine, then)


@pytest.mark.parametrize("follow_up", FOLLOW_UPS)
def test_a_quote_that_names_its_speaker_is_its_own_attribution(engine, follow_up):
    first, then = two_turns(engine, "Were military medics sent?", follow_up)
    assert first.grounded and "“Military medics" in first.citations[0].quote
    assert then.grounded and then.citations[0].quote == first.citations[0].quote
    assert "the Defense Ministry was quoted as saying" in then.citations[0].quote
    assert_exact(engine, then)


def test_an_earlier_answer_found_in_no_article_is_answered_as_usual(engine):
    not_quoted = "I don't know: the articles I have don't answer that."
    answer = engine.answer([Message("user", "What did the envoy remember?"),
                            Message("assistant", not_quoted),
                            Message("user", "And who said that?")])
    assert answer.query != not_quoted  # the usual retrieval, with the borrowed context


@pytest.mark.parametrize("question, expected", [
    ("And who said that?", True), ("Who said this?", True), ("According to whom?", True),
    ("Who was quoted?", True), ("Whose words are those?", True), ("who said so", True),
    ("Who said the water would recede by Friday?", False), ("And who is he?", False),
    ("Who won the election?", False)])
def test_who_said_questions_are_recognised(question, expected):
    assert asks_who_said(question) is expected


def test_the_earlier_answer_loses_its_markers():
    turns = [Message("user", "What did she say?"), Message("assistant", "“Go,” she said. [1]"),
             Message("user", "Who said that?")]
    assert earlier_answer(turns) == "“Go,” she said."
    assert earlier_answer([*turns[:2], Message("user", "Why?")]) is None
    assert earlier_answer([Message("user", "Who said that?")]) is None


@pytest.mark.parametrize("sentence, expected", [
    ("“Yes,” said Mayor Ines Varga.", True),
    ("Zhirnov said it was fine.", True),
    ("The plan, according to Reuters, failed.", True),
    ("“Military medics were sent,” the Defense Ministry was quoted as saying.", True),
    ("“Yes,” he said on Monday.", False),  # a pronoun and a day name no one
    ("However, officials said the plan failed.", False),
    ("“The Mayor said no,” he added.", False),  # the name is inside the quote
    ("The water rose by Friday.", False)])
def test_an_attribution_needs_a_verb_and_a_named_speaker(sentence, expected):
    assert attributes(sentence) is expected


def test_the_nearest_attribution_wins_and_the_one_before_at_a_tie():
    text = "Tomas Reed said so. “Yes,” he added. Ines Varga said no."
    sentences = [(0, 19), (20, 36), (37, 56)]
    assert attribution(text, sentences, 20, 36) == ((0, 19), 1)
    assert attribution(text, sentences, 0, 19) == ((0, 19), 0)
    assert attribution("“Yes,” he added. It rained.", [(0, 16), (17, 27)], 0, 16) is None


@pytest.mark.model
def test_who_said_that_with_the_real_model(tmp_path, real_model):
    # With the model this follow-up was "I don't know" (the quote says only "he added").
    # The earlier answer is that quote as the service gave it before, whichever sentence
    # the scorer now picks for the first question.
    build(tmp_path / "ix", real_model, SEEDS)
    engine = engine_for(tmp_path / "ix", real_model)
    quote = next(line.strip() for seed in sorted(SEEDS.glob("*.txt"))
                 for line in seed.read_text().splitlines() if "he added" in line)
    then = engine.answer([Message("user", "How did the Taliban interact with Russia on "
                                  "the evacuation?"), Message("assistant", quote),
                          Message("user", "And who said that?")])
    assert then.grounded and "the Russian envoy said" in then.citations[0].quote
    assert_exact(engine, then)
