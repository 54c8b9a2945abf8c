"""What a text says whatever the question: a sentence's terms in order, the tokens that
could answer a question (numbers, dates, names), the cues of attribution and of an
earlier time; a passage's names and numbers.

The answer scorer reads these of 20-40 candidate sentences and 20 passages for each
question, most of them met for the first time: about 3 ms of pure Python per question.
So the builder reads every sentence and chunk once and stores the readings in a compact
text form beside the vectors (``encode``); answering decodes the candidates' (a few
microseconds each). A build from before them is read on the fly, as before.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from index.terms import STOPWORDS, terms, word_terms
from index.text_table import TextTable

log = logging.getLogger("index.reading")

# The tables a build keeps them in (``TextTable``), by sentence and by chunk row id. The
# version is in the names: a build whose readings were made by other rules has none of
# these (its sentences are read on the fly, and the next build writes them anew).
VERSION = 1
SENTENCE_READINGS = f"sentence_readings_v{VERSION}"
CHUNK_NAMES = f"chunk_names_v{VERSION}"

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
TOKEN = re.compile(r"[A-Za-z][\w'’.-]*|\d[\d,.:%]*")
YEAR = re.compile(r"^(1[89]|20)\d\d$")

_ATTRIBUTION = re.compile(r"\b(said|says|told|according to|added|stated|wrote|announced|"
                          r"explained|noted)\b", re.IGNORECASE)
_QUOTE = re.compile(r"[\"“”]")
# A sentence about an earlier time than the story's news ("earlier that month"); one that
# opens on a month or year ("In August, ...") tells of an earlier event far more often
# than of the story's own news, which is told as "on Thursday".
_LOOKS_BACK = re.compile(r"\b(earlier|previously|formerly|ago|last (week|month|year)|"
                         r"in the past|at the time|back then)\b|^\W*(in|on|since) "
                         r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|"
                         r"aug(ust)?|sep(t(ember)?)?|oct(ober)?|nov(ember)?|dec(ember)?)\b|"
                         r"^\W*(in|since) (1[89]|20)\d\d\b", re.IGNORECASE)
# How many terms after a number count as what it counts ("500 Russian citizens").
_COUNTED = 3
# How many terms either side of a name say what it names ("leader Hibatullah").
_NAMING = 2
_NUMBER_TERMS = frozenset(terms(" ".join(NUMBER_WORDS)))
_DATE_TERMS = frozenset(terms(" ".join(DATE_WORDS)))
_MONTH_TERMS = frozenset(terms(" ".join(MONTH_WORDS)))


@dataclass(frozen=True, slots=True)
class TokenKinds:
    """A sentence's tokens by what they can be, in their comparable form: numbers,
    dates, names (capitalised, not the first token) and possible answers (names that are
    not stop words, and numbers)."""

    numbers: frozenset[str]
    dates: frozenset[str]
    names: frozenset[str]
    answers: frozenset[str]


@lru_cache(maxsize=200_000)  # the same words recur in every text: look each up once
def comparable(token: str) -> str:
    """A token's comparable form: lower case, no trailing stop or comma, no possessive
    ("Rovers'" and "Reed's" are "rovers" and "reed")."""
    w = token.lower().rstrip(".,")
    if w.endswith(("'s", "’s")):
        return w[:-2]
    return w[:-1] if w.endswith(("'", "’")) else w


@lru_cache(maxsize=200_000)  # the same words recur in every sentence: read each once
def _read(token: str) -> tuple[str, bool, bool, bool]:
    """A token's comparable form, and whether it can be a number, a date or a name."""
    w = comparable(token)
    date = bool(YEAR.match(w)) or w in DATE_WORDS
    return w, token[0].isdigit() or w in NUMBER_WORDS, date, token[0].isupper() and \
        w not in DATE_WORDS


def token_kinds(sentence: str) -> TokenKinds:
    """The sentence's ``TokenKinds``."""
    tokens = TOKEN.findall(sentence)
    reads = list(map(_read, tokens))  # (comparable form, number?, date?, name?)
    names = frozenset(w for w, _, _, name in reads[1:] if name)  # not the first token
    # "The Times", "Will Smith": the capitalised stop word names nothing.
    answers = frozenset(w for w in names if len(w) > 1 and w not in STOPWORDS) | \
        frozenset(r[0] for r, t in zip(reads, tokens, strict=True) if t[0].isdigit())
    return TokenKinds(frozenset(w for w, number, _, _ in reads if number),
                      frozenset(w for w, _, date, _ in reads if date), names, answers)


# ``TOKEN``, its tokens that open with a capital or a digit captured (the others as "").
_NAME_OR_NUMBER = re.compile(r"[a-z][\w'’.-]*|([A-Z][\w'’.-]*|\d[\d,.:%]*)")


def names_and_numbers(text: str) -> frozenset[str]:
    """The text's capitalised words and numbers, in the comparable form of a sentence's
    possible answers (what can name one; "times" in "three times" does not name "The
    Times")."""
    found = set(_NAME_OR_NUMBER.findall(text))
    found.discard("")
    return frozenset(map(comparable, found))


def _counts(own: tuple[str, ...], i: int) -> bool:
    """Whether term ``i`` is a number that counts something: not a day of a month
    ("Aug. 15") or a year."""
    term = own[i]
    if term in _NUMBER_TERMS:
        return True
    return term[0].isdigit() and not YEAR.match(term) and \
        not (i > 0 and own[i - 1] in _MONTH_TERMS)


def _counted(own: tuple[str, ...]) -> frozenset[str]:
    """The terms up to ``_COUNTED`` after each number that counts ("380 Russian")."""
    return frozenset(t for i in range(len(own)) if _counts(own, i)
                     for t in own[i + 1:i + 1 + _COUNTED])


def _named(text: str) -> frozenset[tuple[str, str]]:
    """(name, term) pairs: each capitalised word that does not open the sentence and is
    not a date word, with each lower-case term up to ``_NAMING`` terms before or after
    it ("leader Hibatullah Akhundzada", not "Taliban ... Russia")."""
    own = [(i > 0 and w[0].isupper(), w[0].islower(), term) for i, w, term in word_terms(text)]
    return frozenset((name, own[j][2]) for i, (capital, _, name) in enumerate(own)
                     if capital and name not in _DATE_TERMS
                     for j in range(max(0, i - _NAMING), min(len(own), i + _NAMING + 1))
                     if own[j][1])


ATTRIBUTION, QUOTE, LOOKS_BACK, IS_QUESTION = 1, 2, 4, 8  # ``SentenceReading.cues``


@dataclass(frozen=True, slots=True)
class SentenceReading:
    """What the answer scorer needs of a sentence whatever the question."""

    terms: tuple[str, ...]  # in order
    cues: int  # ATTRIBUTION | QUOTE | LOOKS_BACK | IS_QUESTION
    kinds: TokenKinds
    counted: frozenset[str]  # terms a number counts ("380 Russian" -> russian)
    named: frozenset[tuple[str, str]]  # (name, a lower-case term beside it)

    def has(self, cue: int) -> bool:
        """Whether the sentence shows the cue."""
        return bool(self.cues & cue)


def read_sentence(text: str) -> SentenceReading:
    """Read a sentence (about 0.1 ms: ``encode`` keeps it for the next time)."""
    own = tuple(terms(text))
    cues = (ATTRIBUTION * bool(_ATTRIBUTION.search(text)) | QUOTE * bool(_QUOTE.search(text))
            | LOOKS_BACK * bool(_LOOKS_BACK.search(text))
            | IS_QUESTION * text.rstrip().endswith("?"))
    return SentenceReading(own, cues, token_kinds(text), _counted(own),
                           _named(text))


# The encoded form: fields apart by tabs, items by spaces; a (name, term) pair as
# "name:term". No item holds a space or a tab (tokens are runs of word characters and
# punctuation), nor a term a colon.
_FIELD, _ITEM, _PAIR = "\t", " ", ":"


def encode(reading: SentenceReading) -> str:
    """The reading as one line of text (``decode`` reads it back)."""
    k = reading.kinds
    return _FIELD.join([
        str(reading.cues), _ITEM.join(reading.terms),
        *(_ITEM.join(sorted(s)) for s in (k.numbers, k.dates, k.names, k.answers,
                                            reading.counted)),
        _ITEM.join(sorted(f"{name}{_PAIR}{term}" for name, term in reading.named))])


def decode(line: str) -> SentenceReading:
    """The reading ``encode`` wrote (ValueError for a line it did not)."""
    cues, own, numbers, dates, names, answers, counted, named = line.split(_FIELD)
    own_terms = tuple(own.split(_ITEM)) if own else ()
    pairs = frozenset((name, term) for name, term in
                      (p.split(_PAIR) for p in named.split(_ITEM))) if named else frozenset()
    return SentenceReading(own_terms, int(cues),
                           TokenKinds(*(frozenset(f.split()) for f in
                                        (numbers, dates, names, answers))),
                           frozenset(counted.split()), pairs)  # type: ignore[arg-type]


def encode_names(text: str) -> str:
    """A passage's ``names_and_numbers`` as one line (``decode_names`` reads it back)."""
    return _ITEM.join(sorted(names_and_numbers(text)))


def decode_names(line: str) -> frozenset[str]:
    """The names and numbers ``encode_names`` wrote."""
    return frozenset(line.split())


@dataclass(frozen=True)
class Readings:
    """A build's stored readings: each sentence's and each chunk's, by row id."""

    sentences: TextTable
    chunks: TextTable

    @classmethod
    def load(cls, folder: Path) -> Readings | None:
        """The readings of the build in ``folder``; None for a build from before them.
        Raises ValueError or OSError when their files are unreadable."""
        sentences, chunks = TextTable.load(folder, SENTENCE_READINGS), \
            TextTable.load(folder, CHUNK_NAMES)
        if sentences is None or chunks is None:
            return None
        return cls(sentences, chunks)

    def sentence(self, row: int) -> SentenceReading | None:
        """The reading of the sentence at this row id; None when its row is damaged
        (the caller reads the sentence itself: a damaged file costs time, not answers)."""
        try:
            return decode(self.sentences[row])
        except ValueError:  # a UnicodeDecodeError too
            _damaged(SENTENCE_READINGS)
            return None

    def chunk_names(self, row: int) -> frozenset[str] | None:
        """The names and numbers of the chunk at this row id; None when its row is
        damaged."""
        try:
            return decode_names(self.chunks[row])
        except ValueError:
            _damaged(CHUNK_NAMES)
            return None


@cache  # once per table and process
def _damaged(table: str) -> None:
    log.error("a row of the build's %s does not decode: that text is read again "
              "(qa index verify checks every file)", table)
