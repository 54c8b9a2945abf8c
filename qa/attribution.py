"""Who said it: answering "And who said that?" with the sentence that attributes a quote.

A follow-up asking who said the previous answer has no words of its own to retrieve or
score with, so it is answered by rule instead: find the previous answer in the article it
was quoted from (it is an exact span of that article), then take the sentence that
attributes it. That is the quoted sentence itself when it names its speaker
("..., the Defense Ministry was quoted as saying."), else the nearest sentence around it
that does (a "he added" refers back to a speaker named before). The answer is always a
sentence of the article, cited with its offsets; nothing is generated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index.reading import DATE_WORDS
from qa.types import Message

# "Who said that?", "And who said this?", "According to whom?", "Who was quoted?",
# "Whose words are those?": the whole question, so a question that names what was said
# ("Who said the water would recede?") is an ordinary question.
_WHO_SAID = re.compile(
    r"^\s*(?:(?:and|but|so|then|ok|okay)\b[\s,]*)?(?:"
    r"who\s+(?:said|says|say|told|wrote|stated|added|claimed|is\s+saying|was\s+saying|"
    r"(?:is|was)\s+quoted|did\s+say)(?:\s+(?:that|this|it|so|these|those))?"
    r"(?:\s+(?:quote|statement|remark|comment|words?))?"
    r"|according\s+to\s+whom"
    r"|who\s+(?:is|was)\s+(?:that|this|it)\s+(?:quote\s+)?from"
    r"|whose\s+(?:words?|quote|statement|remark|comment)s?\s+(?:is|are|was|were)\s+"
    r"(?:that|this|these|those|it)"
    r")\s*[?.!]*\s*$",
    re.IGNORECASE,
)
# The citation markers an answer carries at its end: "... [1]", "... [1][2]".
_MARKERS = re.compile(r"(?:\s*\[\d+\])+\s*$")
# What a speaker does to a quote. Single words, and "according to".
_VERBS = frozenset({
    "said", "says", "saying", "told", "tells", "added", "adds", "stated", "states",
    "wrote", "writes", "quoted", "announced", "explained", "noted", "insisted", "argued",
    "claimed", "warned", "declared", "commented", "remarked", "asserted", "replied",
    "recalled", "acknowledged", "confirmed", "stressed", "emphasized", "emphasised",
    "according"})
# Capitalised words that do not name a speaker.
_NOT_NAMES = frozenset({
    "i", "he", "she", "they", "we", "it", "you", "his", "her", "their", "its", "our",
    "this", "that", "these", "those", "the", "a", "an", "there", "here"}) | DATE_WORDS
# A quoted part of a sentence: a pair of quotation marks, or a quote that opened in an
# earlier sentence (a closing mark alone) or goes on in a later one (an opening alone).
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|“[^”]*$|^[^“]*”")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
# A speaker is named this many words before the verb ("the Defense Ministry was quoted"),
# or this many after it ("said Mayor Ines Varga", "according to Reuters").
_BEFORE, _AFTER = 3, 2
# How many sentences away from the quote its attribution may be.
MAX_DISTANCE = 2


def asks_who_said(question: str) -> bool:
    """True when a question asks only who said the previous answer."""
    return bool(_WHO_SAID.match(question))


def earlier_answer(messages: Sequence[Message]) -> str | None:
    """The answer a "who said that?" question is about: the last assistant turn before
    the question, without its citation markers. None when the last user turn is not
    such a question or no answer came before it."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users or not asks_who_said(messages[users[-1]].content):
        return None
    for m in reversed(messages[: users[-1]]):
        if m.role == "assistant":
            text = _MARKERS.sub("", m.content).strip()
            return text or None
    return None


def attributes(sentence: str) -> bool:
    """True when a sentence attributes what it reports: a speaking verb (said, told,
    according to, added, ...) outside its quotation marks, with a named speaker next to
    it (a capitalised word that is not a pronoun: "Zhirnov", "the Defense Ministry")."""
    words = _WORD.findall(_QUOTED.sub(" ", sentence))
    lowered = [w.lower().rstrip(".") for w in words]  # "said." ends a sentence
    for i, word in enumerate(lowered):
        if word not in _VERBS or (word == "according" and lowered[i + 1 : i + 2] != ["to"]):
            continue
        after = i + 2 if word == "according" else i + 1
        near = list(range(max(0, i - _BEFORE), i)) + list(range(after, after + _AFTER))
        if any(j < len(words) and _names(words, j) for j in near):
            return True
    return False


def _names(words: list[str], j: int) -> bool:
    """True when ``words[j]`` may be (part of) a name. A capitalised first word may just
    open the sentence ("However, officials said"): it counts only when the next word is
    capitalised too or is the verb ("Zhirnov said")."""
    word = words[j]
    if not word[0].isupper() or word.lower().rstrip(".") in _NOT_NAMES:
        return False
    if j > 0:
        return True
    following = words[1] if len(words) > 1 else ""
    return following[:1].isupper() or following.lower().rstrip(".") in _VERBS


def locate(quote: str, articles: Sequence[int],
           text_of: Callable[[int], str]) -> tuple[int, int, int] | None:
    """Where an earlier answer was quoted from: the first of ``articles`` (row ids, best
    first) whose text holds it exactly, as (article row id, start, end); else None."""
    for rowid in articles:
        start = text_of(rowid).find(quote)
        if start >= 0:
            return rowid, start, start + len(quote)
    return None


def attribution(text: str, sentences: Sequence[tuple[int, int]], start: int,
                end: int) -> tuple[tuple[int, int], int] | None:
    """The sentence that attributes the quote ``text[start:end]``, as its span and its
    distance in sentences from the quote (0: a sentence of the quote itself), or None.

    ``sentences`` are the article's (start, end), in order. At equal distance the
    sentence before wins: a pronoun ("he added") refers back to a speaker named before.
    """
    inside = [i for i, (s, e) in enumerate(sentences) if s < end and e > start]
    if not inside:
        return None
    for i in inside:
        if attributes(text[slice(*sentences[i])]):
            return sentences[i], 0
    first, last = inside[0], inside[-1]
    for distance in range(1, MAX_DISTANCE + 1):
        for i in (first - distance, last + distance):
            if 0 <= i < len(sentences) and attributes(text[slice(*sentences[i])]):
                return sentences[i], distance
    return None


def confidence(distance: int) -> float:
    """The confidence of an attribution found ``distance`` sentences from the quote: the
    rule, not a similarity, found it, so it says how far it had to look (1.0 in the quote's
    own sentence, 0.8 next to it, 0.6 two sentences away)."""
    return round(1.0 - 0.2 * distance, 4)
