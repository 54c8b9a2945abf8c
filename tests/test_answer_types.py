"""What kind of answer a question wants, and the short answer inside a sentence."""

from __future__ import annotations

import pytest

from qa.answer_types import DATE, NAME, NUMBER, answer_span, answer_tokens, answer_type, holds
from qa.types import Message
from tests.conftest import build, engine_for, write_stories


@pytest.mark.parametrize("question, kind", [
    ("How many loaves does the bakery bake?", NUMBER),
    ("How much did the repairs cost?", NUMBER),
    ("What percentage of voters turned out?", NUMBER),
    ("When did the harbour reopen?", DATE),
    ("In what year was the bridge built?", DATE),
    ("Who won the election?", NAME),
    ("Which company bought the airline?", NAME),
    ("Where did the storm make landfall?", NAME),
    ("Why did the council resign?", None),
])
def test_question_kinds(question, kind):
    assert answer_type(question) == kind


def test_a_sentence_holds_an_answer_the_question_lacks():
    question = "How many seats did the Green Party win in 2024?"
    assert holds(NUMBER, "The party won 14 seats.", question)
    assert not holds(NUMBER, "The Green Party won seats in 2024.", question)
    assert holds(NAME, "The leader, Tomas Reed, spoke.", "Who leads the party?")
    assert not holds(NAME, "Nobody spoke after the vote.", "Who leads the party?")


def test_possible_answers_are_the_names_and_numbers_the_question_lacks():
    question = "NFL player Damar Hamlin collapsed this week. Which team does he play for?"
    found = answer_tokens("Since March, Hamlin, 24, has played for the Buffalo Bills' "
                          "defence, The Times says.", question)
    # Not the opening word, not a month, not a stop word ("The"), not a name the
    # question already gives; a possessive is its name.
    assert found == {"24", "buffalo", "bills", "times"}
    assert answer_tokens("He collapsed on the field.", question) == frozenset()


@pytest.mark.parametrize("question, sentence, expected", [
    ("How many loaves a day?", "They bake 800 loaves a day.", "800"),
    ("How much did it cost?", "The repairs cost $4.5 million, officials said.", "$4.5 million"),
    ("When did it reopen?", "It reopened on March 3, 2025 after repairs.", "March 3, 2025"),
    ("How many were evacuated?", "Crews evacuated 1,200 people from 3 districts.", None),
    ("Who won?", "Ines Varga won with 61 percent.", None),
])
def test_answer_span_only_when_there_is_exactly_one(question, sentence, expected):
    found = answer_span(answer_type(question), sentence, question)
    assert (sentence[found[0] : found[1]] if found else None) == expected


def test_the_engine_returns_the_span_as_article_offsets(tmp_path, hashing):
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src"))
    engine = engine_for(tmp_path / "ix", hashing, min_confidence=0.25)
    answer = engine.answer([Message("user", "How many loaves does the bakery bake a day?")])
    span = answer.answer_span
    assert answer.grounded and span is not None and span.text == "800"
    article = engine.index.store.article(span.article_id)
    assert article.text[span.start : span.end] == span.text
    citation = answer.citations[0]
    assert citation.start <= span.start < span.end <= citation.end
    who = engine.answer([Message("user", "Who said the water would recede by Friday?")])
    assert who.answer_span is None
