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
from dataclasses import dataclass
from functools import lru_cache

from index.terms import STOPWORDS

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

NUMBER_WORDS = frozenset({
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "dozen", "dozens", "hundred", "hundreds", "thousand", "thousands", "million",
    "millions", "billion", "billions", "trillion", "half", "twenty", "thirty", "forty",
    "fifty", "sixty", "seventy", "eighty", "ninety"})
# The months and their abbreviations ("Aug. 15").
MONTH_WORDS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec"})
DATE_WORDS = MONTH_WORDS | {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "yesterday", "today", "tomorrow", "week", "month", "year", "decade", "century",
    # the unambiguous seasons
    "summer", "winter", "autumn"}
_TOKEN = re.compile(r"[A-Za-z][\w'’.-]*|\d[\d,.:%]*")
YEAR = re.compile(r"^(1[89]|20)\d\d$")


def answer_type(question: str) -> str | None:
    """``number``, ``date`` or ``name``, or None when the question's form says nothing."""
    if _NUMBER_Q.search(question):
        return NUMBER
    if _DATE_Q.search(question):
        return DATE
    if _NAME_Q.search(question):
        return NAME
    return None


@lru_cache(maxsize=64)  # asked once per sentence scored: parse each question once
def _question_words(question: str) -> frozenset[str]:
    return frozenset(map(_comparable, _TOKEN.findall(question)))


def holds(kind: str, sentence: str, question: str) -> bool:
    """True when the sentence has a token of the wanted kind that the question lacks."""
    asked = _question_words(question)
    kinds = token_kinds(sentence)
    # A name is not the sentence's first token: any sentence opens with a capital.
    held = {NUMBER: kinds.numbers, DATE: kinds.dates, NAME: kinds.names}.get(kind)
    return held is not None and not held <= asked


def answer_tokens(sentence: str, question: str) -> frozenset[str]:
    """The tokens of the sentence that could be an answer the question lacks: names (a
    capitalised word, not the sentence's first, not a date or stop word) and numbers (a
    token opening with a digit), lower-cased.
    A name that several top passages share is likelier to be the answer than one that
    only a single sentence mentions (the redundancy of news coverage)."""
    return read_sentence(sentence, question)[3]


@dataclass(frozen=True, slots=True)
class TokenKinds:
    """A sentence's tokens by what they can be, in their comparable form: numbers,
    dates, names (capitalised, not the first token) and possible answers (names that are
    not stop words, and numbers). Read once per sentence, whatever the question."""

    numbers: frozenset[str]
    dates: frozenset[str]
    names: frozenset[str]
    answers: frozenset[str]


@lru_cache(maxsize=50_000)  # a top passage's sentences meet many questions
def token_kinds(sentence: str) -> TokenKinds:
    """The sentence's ``TokenKinds``."""
    tokens = _TOKEN.findall(sentence)
    reads = list(map(_read, tokens))  # (comparable form, number?, date?, name?)
    names = frozenset(w for w, _, _, name in reads[1:] if name)  # not the first token
    # "The Times", "Will Smith": the capitalised stop word names nothing.
    answers = frozenset(w for w in names if len(w) > 1 and w not in STOPWORDS) | \
        frozenset(r[0] for r, t in zip(reads, tokens, strict=True) if t[0].isdigit())
    return TokenKinds(frozenset(w for w, number, _, _ in reads if number),
                      frozenset(w for w, _, date, _ in reads if date), names, answers)


def read_sentence(sentence: str, question: str
                  ) -> tuple[bool, bool, bool, frozenset[str]]:
    """Whether the sentence holds a number, a date and a name that the question lacks
    (``holds`` for each kind), and its ``answer_tokens``: set differences of its
    ``token_kinds``."""
    asked = _question_words(question)
    kinds = token_kinds(sentence)
    return (not kinds.numbers <= asked, not kinds.dates <= asked, not kinds.names <= asked,
            kinds.answers - asked)


@lru_cache(maxsize=200_000)  # the same words recur in every sentence: read each once
def _read(token: str) -> tuple[str, bool, bool, bool]:
    """A token's comparable form, and whether it can be a number, a date or a name."""
    w = _comparable(token)
    date = bool(YEAR.match(w)) or w in DATE_WORDS
    return w, token[0].isdigit() or w in NUMBER_WORDS, date, token[0].isupper() and \
        w not in DATE_WORDS


# ``_TOKEN``, its tokens that open with a capital or a digit captured (the others as "").
_NAME_OR_NUMBER = re.compile(r"[a-z][\w'’.-]*|([A-Z][\w'’.-]*|\d[\d,.:%]*)")


@lru_cache(maxsize=4096)  # a passage's text is read again by every question it meets
def names_and_numbers(text: str) -> frozenset[str]:
    """The text's capitalised words and numbers, in the comparable form of
    ``answer_tokens`` (what can name a possible answer; "times" in "three times" does not
    name "The Times")."""
    found = set(_NAME_OR_NUMBER.findall(text))
    found.discard("")
    return frozenset(map(_comparable, found))


@lru_cache(maxsize=200_000)  # the same words recur in every text: look each up once
def _comparable(token: str) -> str:
    """A token's comparable form: lower case, no trailing stop or comma, no possessive
    ("Rovers'" and "Reed's" are "rovers" and "reed")."""
    w = token.lower().rstrip(".,")
    if w.endswith(("'s", "’s")):
        return w[:-2]
    return w[:-1] if w.endswith(("'", "’")) else w


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
