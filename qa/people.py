"""Whether a sentence names a person: a known given name before a capitalised word.

"What is the name of the Taliban leader?" wants a person; a sentence naming only an
aircraft and an airport ("The Russian Air Force's Ilyushin Il-76 aircraft at Kabul
airport.") holds capitalised words but no one. The given names are Faker's (its person
providers' lists for every locale written in the Latin alphabet: some 16,000 names of
many countries), not a list kept here. A given name alone is often a place or a month
("Paris", "May"), so it counts only before another capitalised word ("Vladimir Putin"),
or after a title ("Mr. Putin" counts by the title alone).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache, lru_cache

from index.reading import comparable
from qa.answer_types import question_words

_NAME = re.compile(r"[A-Z][a-z]+")
# Two capitalised words in a row (the second may be hyphenated or an initial), or a
# title and a capitalised word.
# (A lookahead: "President Vladimir Putin" is read at "President" and at "Vladimir".)
_PAIR = re.compile(r"\b([A-Z][a-z]+)(?=\s+(?:[A-Z]\.\s+)?([A-Z][\w'’-]+))")
_TITLED = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Sir|Dame)\.?\s+([A-Z][\w'’-]+)")


@cache
def given_names() -> frozenset[str]:
    """Faker's given names in the Latin alphabet, of all its locales (read once)."""
    import faker.providers.person as providers

    names: set[str] = set()
    for module in pkgutil.iter_modules(providers.__path__):
        provider = importlib.import_module(f"{providers.__name__}.{module.name}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            found = getattr(provider, attr, None)
            if isinstance(found, (list, tuple, dict)):
                names.update(n for n in found if _NAME.fullmatch(n))
    return frozenset(names)


@lru_cache(maxsize=50_000)  # a top passage's sentences meet many questions
def people(sentence: str) -> frozenset[str]:
    """The surnames (lower-cased) of the people the sentence names."""
    known = given_names()
    found = {m.group(2) for m in _PAIR.finditer(sentence) if m.group(1) in known}
    found.update(m.group(1) for m in _TITLED.finditer(sentence))
    return frozenset(map(comparable, found))


def new_person(sentence: str, question: str) -> bool:
    """Whether the sentence names someone the question does not."""
    return not people(sentence) <= question_words(question)
