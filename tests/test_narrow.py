"""A too-long answer sentence narrowed to the part that holds the question's terms."""

from __future__ import annotations

import pytest

from index.terms import terms
from qa.engine import Engine
from qa.limits import ANSWER_MAX_CHARS
from qa.narrow import narrowed
from qa.types import Message
from tests.conftest import build, engine_for, write_stories

TEXT = "alpha beta gamma delta epsilon zeta eta theta"


def shown(text: str, question: str, limit: int) -> str:
    start, end = narrowed(text, dict.fromkeys(terms(question), 1.0), limit)
    return text[start:end]


def test_a_text_that_fits_is_shown_whole():
    assert narrowed(TEXT, {"delta": 1.0}, len(TEXT)) == (0, len(TEXT))


def test_the_stretch_holds_the_asked_term_in_whole_words():
    part = shown(TEXT, "delta", 12)
    assert "delta" in part.split() and len(part) <= 12
    assert part in TEXT and part == part.strip()


def test_without_a_question_term_the_text_opens_the_answer():
    assert shown(TEXT, "omega", 12) == "alpha beta"


def test_the_rarer_term_wins_when_both_do_not_fit():
    start, end = narrowed(TEXT, {"alpha": 1.0, "theta": 3.0}, 12)
    assert "theta" in TEXT[start:end] and "alpha" not in TEXT[start:end]
    start, end = narrowed(TEXT, {"alpha": 3.0, "theta": 1.0}, 12)
    assert "alpha" in TEXT[start:end] and "theta" not in TEXT[start:end]


def test_more_of_the_question_beats_one_term():
    text = "cats sleep " + "filler " * 10 + "dogs bark loudly " + "filler " * 10 + "dogs"
    assert "bark" in shown(text, "Do dogs bark?", 20)


def test_a_word_longer_than_the_limit_is_passed_over():
    text = "x" * 30 + " short words here"
    start, end = narrowed(text, {"word": 1.0}, 12)
    assert "words" in text[start:end] and "x" not in text[start:end]
    assert end - start <= 12
    assert text[slice(*narrowed(text, {"omega": 1.0}, 12))] == "short words"


def test_question_terms_inside_a_word_too_long_to_show_are_passed_over():
    # A hyphenated chain holds three of the terms, but cannot be shown: the term that
    # can be shown is.
    chain = "delta-epsilon-zeta-eta-theta-iota-kappa"
    weights = {"alpha": 1.0, "delta": 1.0, "epsilon": 1.0, "zeta": 1.0}
    for text in (f"{chain} alpha beta gamma",
                 "alpha beta gamma " + "filler " * 5 + chain + " filler" * 5):
        start, end = narrowed(text, weights, 20)
        assert "alpha" in text[start:end] and end - start <= 20



def test_the_words_beside_the_cluster_of_question_terms_are_shown():
    # The subject, named once far off, fits in the limit only with the cluster at the
    # stretch's very end: the word after the cluster (where answers sit) would be lost.
    text = ("rhine " + "filler " * 10 + "gaulish name as Rinaz" + " filler" * 10)
    start, end = narrowed(text, {"rhine": 0.5, "gaulish": 1.0, "name": 1.0}, 90)
    part = text[start:end]
    assert "gaulish name as Rinaz" in part and len(part) <= 90
    assert part.startswith("filler") and part.endswith("filler")

# One run-on sentence, far longer than an answer shows, with the fact asked for late in it.
RUN_ON = ("The harbour board listed the works of the year, " + ", ".join(
    f"the repair of berth {n} and its cranes" for n in range(1, 16))
    + ", and the dredging of the northern channel to a depth of 14 metres, paid for by "
    "the port of Calloway.")


@pytest.fixture
def long_engine(tmp_path, hashing) -> Engine:
    stories = [{"id": "works", "title": "Harbour Works", "published": "2024-05-01",
                "url": "https://news.example/works", "text": RUN_ON}]
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src", stories))
    return engine_for(tmp_path / "ix", hashing, min_confidence=0.0)


def test_a_run_on_answer_shows_the_part_the_question_asks_about(long_engine):
    assert len(RUN_ON) > ANSWER_MAX_CHARS
    answer = long_engine.answer([Message("user", "How deep was the northern channel dredged?")])
    assert answer.grounded
    citation = answer.citations[0]
    assert len(citation.quote) <= ANSWER_MAX_CHARS
    assert "14 metres" in citation.quote and "northern channel" in citation.quote
    article = long_engine.index.store.article(citation.article_id)
    assert article.text[citation.start:citation.end] == citation.quote
    assert answer.text == f"{citation.quote} [1]"
