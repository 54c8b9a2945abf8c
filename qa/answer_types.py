"""What kind of answer a question wants, and whether a sentence holds one.

A "how many" question is answered by a sentence with a number in it, a "who" question by
one that names someone the question does not already name. The extractor gives such
sentences a bonus; it never invents text. The rules, by the question's opening words:

- number: "how many / much / old / long / far", "what percentage / number / share";
  a sentence holds one with digits or a number word that the question lacks.
- date: "when", "what year / day / date / month"; a year, month (or its abbreviation),
  weekday, season or date word.
- name: "who / whom / whose / where", "what is the name of", "which or what + person,
  company, team, country, city, ..."; a capitalised word (not opening the sentence) that
  the question lacks.
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.reading import TOKEN, TokenKinds, comparable, token_kinds

NUMBER, DATE, NAME = "number", "date", "name"

_NUMBER_Q = re.compile(r"\b(how (many|much|old|long|far|tall|big|large|often)|what "
                       r"(percentage|percent|number|share|amount|age|fraction)|by how)\b",
                       re.IGNORECASE)
_DATE_Q = re.compile(r"^\s*(when)\b|\b(what|which) (year|day|date|month|week)\b",
                     re.IGNORECASE)
_NAME_Q = re.compile(r"^\s*(who|whom|whose|where)\b|\b(who|whom|whose)\b|"
                     r"\bwhat(?: is|'s|’s| was) the name\b|\b(which|what) "
                     r"(person|man|woman|company|companies|team|country|countries|city|"
                     r"state|nation|organi[sz]ation|group|party|player|singer|actor|actress"
                     r"|artist|band|brand|network|firm|agency|airline|leader|official|"
                     r"president|politician|candidate|athlete|author|celebrity|star|"
                     r"musician|rapper|university|school|island|region|province|"
                     r"retailer|carmaker|automaker|bank|court|senator|governor|lawmaker|"
                     r"ceo|executive|billionaire|tech)\b", re.IGNORECASE)
# Who is asked for: a person. By "who", "whom" or "whose" opening the question or a
# clause ("According to the report, who ...", "by whom"), not a relative one ("the
# astronauts who were selected") nor the WHO; or by a word for a person after "which",
# "what" or "the name of the", at most two words between that are no verb or possessive
# ("the name of the Taliban leader", "which former president", not "what did the
# president say" nor "which country's prime minister").
_WHO_Q = re.compile(r"(?:^\s*|[,:;]\s*|\b(?:to|by|with|for|of|from|about|against|and|but)\s+)"
                    r"(who|whom|whose)\b", re.IGNORECASE)
_PERSON_NOUN_Q = re.compile(
    r"\b(?:which|what|the names? of the)\s+"
    r"(?:(?!(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could|who|whose|"
    r"whom|which|that)\b)"
    r"[\w-]+\s+){0,2}?"
    r"(?:person|man|woman|player|singer|actor|actress|artist|leader|official|president|"
    r"politician|candidate|athlete|author|celebrity|star|musician|rapper|senator|governor|"
    r"lawmaker|ceo|executive|billionaire|minister|chancellor|coach|director|founder|judge|"
    r"spokesman|spokeswoman|spokesperson|king|queen|prince|princess|pope|chief|mayor|"
    r"manager|owner|winner|driver|journalist|reporter|suspect|victim|doctor)s?\b",
    re.IGNORECASE)
# A top passage's sentences meet many questions: each read once.
_token_kinds = lru_cache(maxsize=50_000)(token_kinds)


@lru_cache(maxsize=64)  # the engine, the scorer's features and ``wants_person`` each ask
def answer_type(question: str) -> str | None:
    """``number``, ``date`` or ``name``, or None when the question's form says nothing."""
    if _NUMBER_Q.search(question):
        return NUMBER
    if _DATE_Q.search(question):
        return DATE
    if _NAME_Q.search(question):
        return NAME
    return None


def wants_person(question: str) -> bool:
    """Whether the question asks who: a person, by name (never a "how many" or "when"
    question, whatever its clauses say)."""
    if answer_type(question) in (NUMBER, DATE):
        return False
    return (any(who.group(1) != "WHO" for who in _WHO_Q.finditer(question))
            or bool(_PERSON_NOUN_Q.search(question)))


@lru_cache(maxsize=64)  # asked once per sentence scored: parse each question once
def question_words(question: str) -> frozenset[str]:
    """The question's tokens in their comparable form (``index.reading.comparable``)."""
    return frozenset(map(comparable, TOKEN.findall(question)))


def holds(kind: str, sentence: str, question: str) -> bool:
    """True when the sentence has a token of the wanted kind that the question lacks."""
    return kind in KIND_AT and against(_token_kinds(sentence), question)[KIND_AT[kind]]


def answer_tokens(sentence: str, question: str) -> frozenset[str]:
    """The tokens of the sentence that could be an answer the question lacks: names (a
    capitalised word, not the sentence's first, not a date or stop word) and numbers (a
    token opening with a digit), lower-cased.
    A name that several top passages share is likelier to be the answer than one that
    only a single sentence mentions (the redundancy of news coverage)."""
    return against(_token_kinds(sentence), question)[3]


# Where each kind is in ``against``'s answer.
KIND_AT = {NUMBER: 0, DATE: 1, NAME: 2}


def against(kinds: TokenKinds, question: str) -> tuple[bool, bool, bool, frozenset[str]]:
    """Whether a sentence of these ``token_kinds`` holds a number, a date and a name that
    the question lacks (``holds`` for each kind; a name is never the sentence's first
    token, as any sentence opens with a capital), and its ``answer_tokens``: set
    differences."""
    asked = question_words(question)
    return (not kinds.numbers <= asked, not kinds.dates <= asked, not kinds.names <= asked,
            kinds.answers - asked)


_NUMBER_RUN = re.compile(
    r"(?:[$€£]\s?)?\b\d[\d,.]*(?:\s?%|\s(?:percent|million|billion|thousand|trillion))?"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|a hundred|hundreds|a dozen|dozens)"
    r"(?:\s(?:million|billion|thousand|hundred))?\b", re.IGNORECASE)
_DATE_RUN = re.compile(
    r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?(?:\s\d{1,2})?"
    r"(?:,?\s(?:1[89]|20)\d\d)?\b|\b(?:1[89]|20)\d\d\b")


def answer_span(kind: str | None, sentence: str, question: str) -> tuple[int, int] | None:
    """The one number or date in the sentence that the question lacks, as offsets into
    the sentence; None when the kind is another, or there is none or more than one
    (then the whole sentence is the answer)."""
    pattern = {NUMBER: _NUMBER_RUN, DATE: _DATE_RUN}.get(kind or "")
    if pattern is None:
        return None
    asked = question.lower()
    found = [m for m in pattern.finditer(sentence)
             if m.group(0).strip().lower() not in asked]
    distinct = {m.group(0).strip().lower() for m in found}
    if len(distinct) != 1:
        return None
    m = found[0]
    start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
    return start, m.end()
