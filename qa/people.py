"""Whether a sentence names a person: a known given name before a capitalised word, or a
title before one.

"What is the name of the Taliban leader?" wants a person; a sentence naming only an
aircraft and an airport ("The Russian Air Force's Ilyushin Il-76 aircraft at Kabul
airport.") holds capitalised words but no one. The given names are Faker's (its person
providers' lists, one per locale, in the alphabets written with capitals: about 19,800),
not a list kept here, less two kinds that news reads as something else: those of its
locale-less base list only (it holds "North", "General", "Royal", "Orange") and those
its address providers list as a country or state ("Israel", "Jordan", "Washington"). A
given name alone is often a place or a month ("Paris", "May"), so it counts only before
another capitalised word: the surname is the first after it that is no given name or
initial ("Vladimir Putin", "Maria K. Lopez", "José María Aznar"); after a title, the
last of the capitalised words that follow ("Sen. Bernie Sanders"). Some organisations
read as people ("St. Louis Cardinals", "Christian Democrats"), and a title-case headline
misleads it ("Mr. Biden Says ..."). A person is known by surname only: "Jill Biden" is
not new to a question naming "Joe Biden".
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
# Capitalised words that are no surname: a weekday, a month, a pronoun ("flew to St.
# Louis Tuesday", "Mr. Biden Says He Will Run").
_NOT_NAMES = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April "
    "May June July August September October November December He She They It We I You "
    "His Her Their".split())
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
    every locale module of a Faker providers package."""
    found: set[str] = set()
    for module in pkgutil.iter_modules(package.__path__):
        if module.name in skip:
            continue
        provider = importlib.import_module(f"{package.__name__}.{module.name}").Provider
        for attr in attributes:
            values = getattr(provider, attr, None)
            if isinstance(values, (list, tuple, dict)):
                found.update(v for v in values
                             if isinstance(v, str) and v.isalpha() and _capitalised(v))
    return found


def _unload(packages: Iterable[ModuleType], before: set[str]) -> None:
    """Forget the locale modules imported since ``before`` (about 15 MB of lists never
    read again): from ``sys.modules`` and from their package, which holds each too."""
    for package in packages:
        prefix = package.__name__ + "."
        for name in [n for n in sys.modules if n.startswith(prefix) and n not in before]:
            sys.modules.pop(name, None)
            if hasattr(package, name[len(prefix):]):
                delattr(package, name[len(prefix):])


@cache
def given_names() -> frozenset[str]:
    """Faker's given names less the countries and states of its address providers and
    its base list's own (read once)."""
    import faker.providers.address as addresses
    import faker.providers.person as persons

    before = set(sys.modules)
    names = _lists(persons, ("first_names", "first_names_male", "first_names_female"),
                   skip=frozenset({"en"}))
    # Countries and states only: its cities' lists hold small towns named "Laura",
    # "Mark" or "George".
    places = _lists(addresses, ("countries", "states"))
    _unload((persons, addresses), before)
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
        if text.rstrip(".") not in _TITLES and text not in known:
            continue
        # The capitalised words right after this one, with only spaces between, up to
        # the end of the sentence (a stop after a word that is no initial).
        run: list[str] = []
        before = word
        for after in words[i + 1:i + 1 + _NAME_WORDS]:
            following = after.group()
            if not sentence[before.end():after.start()].isspace() \
                    or following.rstrip(".") in _NOT_NAMES \
                    or not (_capitalised(following) or _initial(following)):
                break
            run.append(following)
            if following.endswith(".") and not _initial(following):
                break
            before = after
        # The surname: after a title the last word ("Sen. Bernie Sanders": not every
        # given name is known), after a given name the first past more given names and
        # initials ("José María Aznar", "John F. Kennedy").
        if text.rstrip(".") in _TITLES:
            surname = run[-1] if run and not _initial(run[-1]) else None
        else:
            surname = next((w for w in run if w not in known and not _initial(w)), None)
        if surname:
            found.add(surname)
    return frozenset(map(comparable, found))


def new_person(sentence: str, question: str) -> bool:
    """Whether the sentence names someone the question does not (by surname)."""
    return not people(sentence) <= question_words(question)
