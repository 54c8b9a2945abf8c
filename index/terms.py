"""The one word normaliser shared by indexing and querying (lower case, stemmed)."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)
_STEMMER = Stemmer.Stemmer("english")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself
    yourselves also many much whose say said says""".split()
)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The stem of one lower-cased word."""
    return _STEMMER.stemWord(word)


def terms(text: str) -> list[str]:
    """The content terms of a text: lower-cased, stemmed, without stop words."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def word_terms(text: str) -> list[tuple[int, str, str]]:
    """The words of a text that are content terms: each word's position among all the
    text's words, the word, and its term (as ``terms``, but split before lower-casing,
    so the word's case can be read)."""
    return [(i, w, stem(low)) for i, w in enumerate(_WORD.findall(text))
            if (low := w.lower()) not in STOPWORDS]
