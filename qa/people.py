"""Whether a sentence names a person: a known given name before a capitalised word, or a
title before one.

"What is the name of the Taliban leader?" wants a person; a sentence naming only an
aircraft and an airport ("The Russian Air Force's Ilyushin Il-76 aircraft at Kabul
airport.") holds capitalised words but no one. The given names are Faker's (its person
providers' lists, one per locale, in the alphabets written with capitals: about 20,000),
not a list kept here, less two kinds that news reads as something else: those of its
locale-less base list only (it holds "North", "General", "Royal", "Orange") and those
its address providers list as a country, state or city ("Israel", "Jordan",
"Washington"). A given name alone is often a place or a month ("Paris", "May"), so it
counts only before another capitalised word ("Vladimir Putin", "Maria K. Lopez"); after a
title the last of the capitalised words that follow is the surname ("Sen. Bernie
Sanders"). A person is known by surname only: "Jill Biden" is not new to a question
naming "Joe Biden".
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from types import ModuleType

from index.reading import comparable
from qa.answer_types import question_words

# A word opening with a letter, with its trailing stop ("Mr.", an initial "K.").
_WORD = re.compile(r"[^\W\d_][\w'’-]*\.?")
_TITLES = frozenset({"Mr", "Mrs", "Ms", "Dr", "Sen", "Rep", "Gov", "Gen", "Sir", "Dame"})
# After a title, at most this many capitalised words make the name.
_NAME_WORDS = 3


def _capitalised(word: str) -> bool:
    """Opens with a capital and is not all capitals ("Putin's", "McDonald", not "NATO")."""
    return word[0].isupper() and any(c.islower() for c in word)


def _initial(word: str) -> bool:
    """A middle initial: "K."."""
    return len(word) == 2 and word[0].isupper() and word[1] == "."


def _lists(package: ModuleType, attributes: Iterable[str], skip: frozenset[str] = frozenset()
           ) -> set[str]:
    """The capitalised one-word strings of these list attributes of the ``Provider`` of
    every locale module of a Faker providers package (the modules unloaded after)."""
    found: set[str] = set()
    for module in pkgutil.iter_modules(package.__path__):
        if module.name in skip:
            continue
        name = f"{package.__name__}.{module.name}"
        loaded = name in sys.modules
        provider = importlib.import_module(name).Provider
        for attr in attributes:
            values = getattr(provider, attr, None)
            if isinstance(values, (list, tuple, dict)):
                found.update(v for v in values
                             if isinstance(v, str) and v.isalpha() and _capitalised(v))
        if not loaded:  # about 20 MB of lists the service never reads again
            del sys.modules[name]
    return found


@cache
def given_names() -> frozenset[str]:
    """Faker's given names less place names and its base list's own (read once)."""
    import faker.providers.address as addresses
    import faker.providers.person as persons

    names = _lists(persons, ("first_names", "first_names_male", "first_names_female"),
                   skip=frozenset({"en"}))
    places = _lists(addresses, ("countries", "states", "cities", "city_names", "provinces",
                                "regions"))
    return frozenset(names - places)


@lru_cache(maxsize=50_000)  # a top passage's sentences meet many questions
def people(sentence: str) -> frozenset[str]:
    """The surnames (comparable form: lower case, no possessive) of the people the
    sentence names."""
    known = given_names()
    # Only capitalised words start or continue a name; a lower-case one between two
    # breaks the run (the gap is then more than spaces).
    words = [m for m in _WORD.finditer(sentence) if m.group()[0].isupper()]
    found = set()
    for i, word in enumerate(words):
        text = word.group()
        titled = text.rstrip(".") in _TITLES
        if not titled and text not in known:
            continue
        # The capitalised words right after this one, with only spaces between.
        run: list[str] = []
        before = word
        for after in words[i + 1:i + 1 + _NAME_WORDS]:
            if not sentence[before.end():after.start()].isspace() \
                    or not (_capitalised(after.group()) or _initial(after.group())):
                break
            run.append(after.group())
            before = after
        if not run:
            continue
        if titled:
            if not _initial(run[-1]):
                found.add(run[-1])
        else:
            # Past a middle initial ("Maria K. Lopez").
            rest = run[1:] if _initial(run[0]) else run
            if rest and not _initial(rest[0]):
                found.add(rest[0])
    return frozenset(map(comparable, found))


def new_person(sentence: str, question: str) -> bool:
    """Whether the sentence names someone the question does not (by surname)."""
    return not people(sentence) <= question_words(question)
