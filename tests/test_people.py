"""Whether a sentence names a person, and whether a question asks for one."""

from __future__ import annotations

import pytest

from qa.answer_types import wants_person
from qa.people import given_names, new_person, people


def test_the_given_names_come_from_faker_less_places_and_words():
    names = given_names()
    assert len(names) > 10_000
    assert {"Vladimir", "Maria", "Joe", "François"} <= names
    # Its base list's words and its address providers' countries and states are not
    # names here; a town's name that is a given name stays one.
    assert not {"North", "General", "Royal", "Israel", "Washington", "China"} & names
    assert {"George", "Mark", "Laura"} <= names
    assert all(n.isalpha() and n[0].isupper() for n in names)


@pytest.mark.parametrize(("sentence", "named"), [
    ("President Vladimir Putin said on Monday that talks would go on.", {"putin"}),
    ("Mr. Biden met Ms. Harris's staff.", {"biden", "harris"}),
    ("Maria K. Lopez's team won.", {"lopez"}),  # past a middle initial
    ("Sen. Bernie Sanders and Sir Keir Starmer spoke.", {"sanders", "starmer"}),
    ("Tim Cook said George Clooney and José María Aznar came.", {"cook", "clooney", "aznar"}),
    ("He met Mr. Smith. Then he left for St. Louis on Tuesday.", {"smith"}),
    ("François Hollande spoke to Emmanuel Macron, the president.", {"hollande", "macron"}),
    ("The Russian Air Force's Ilyushin Il-76 aircraft at Kabul airport.", set()),
    ("Flights to Paris resumed in May.", set()),  # a given name alone is no person
    ("North Korea fired as General Motors and the Washington Post watched.", set()),
    ("Royal Air Force planes left; Israel Defense Forces said so.", set()),
    ("NATO said so.", set()),
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
    ("According to the report, who leads the party?", True),
    ("The award went to whom?", True),
    ("Which company bought the airline?", False),
    ("What is the capital of France?", False),
    ("How many people died?", False),
    ("What did the president say about inflation?", False),  # a verb is no part of "who"
    ("Which country's prime minister resigned?", False),  # a country, not a person
    ("What did the astronauts who trained say?", False),  # a relative "who"
    ("How many astronauts were selected?", False),  # a number, whatever it counts
    ("What is the name of the company whose CEO resigned?", False),
    ("What are the names of the victims?", True),
    ("What did the WHO declare?", False),
    ("When did the king die?", False),
])
def test_a_question_wants_a_person_by_who_or_a_word_for_one(question, wanted):
    assert wants_person(question) is wanted
