"""Whether a sentence names a person, and whether a question asks for one."""

from __future__ import annotations

import pytest

from qa.answer_types import wants_person
from qa.people import given_names, new_person, people


def test_the_given_names_come_from_faker_in_the_latin_alphabet():
    names = given_names()
    assert len(names) > 5000
    assert {"Vladimir", "Maria", "Joe"} <= names
    assert all(n[0].isupper() and n[1:].islower() and n.isascii() for n in names)


@pytest.mark.parametrize(("sentence", "named"), [
    ("President Vladimir Putin said on Monday that talks would go on.", {"putin"}),
    ("Mr. Biden met Ms. Harris's staff.", {"biden", "harris"}),
    ("Maria K. Lopez's team won.", {"lopez"}),  # past a middle initial
    ("The Russian Air Force's Ilyushin Il-76 aircraft at Kabul airport.", set()),
    ("Flights to Paris resumed in May.", set()),  # a given name alone is no person
])
def test_a_person_is_a_given_name_before_a_capitalised_word_or_a_title(sentence, named):
    assert people(sentence) == named


def test_a_person_the_question_names_is_not_new():
    sentence = "President Vladimir Putin spoke to Emmanuel Macron."
    assert new_person(sentence, "What did Putin tell the French president?")
    assert not new_person("President Vladimir Putin spoke.", "What did Putin say?")


@pytest.mark.parametrize(("question", "wanted"), [
    ("Who won the election?", True),
    ("What is the name of the Taliban leader?", True),
    ("Which former US president was indicted?", True),
    ("Whose plane was shot down?", True),
    ("Which company bought the airline?", False),
    ("What is the capital of France?", False),
    ("How many people died?", False),
])
def test_a_question_wants_a_person_by_who_or_a_word_for_one(question, wanted):
    assert wants_person(question) is wanted
