"""The part of a too-long sentence an answer shows.

An answer is one sentence of an article, cited by its characters. A few sentences run
far past what an answer shows (``qa.limits.ANSWER_MAX_CHARS``): a list, a table flattened
into one line, a run-on paragraph. Cutting one at the limit loses whatever the question
asked about when it comes late in the sentence. Instead the answer shows the stretch of
whole words, at most the limit long, centred on the sentence's densest cluster of the
question's terms (weighted by their rarity). It is still the article's own text, cited by
its characters.

Centred on the cluster, not on all the words that hold a question term: the answer
usually sits right beside the words that echo the question ("... the Gaulish name as
*Rīnaz", "NASA's CALIPSO satellite has measured the amount of dust"), and a common term
repeated far away (the article's subject) pulled the old stretch off them. On the SQuAD
training half the stretch held the gold answer for 188 of 192 long answers whose
sentence held it, against 180 for the stretch holding the most terms; ``CORE_SHARE``
(0.3 to 0.8 tried) was chosen there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from index.terms import terms

_WORD = re.compile(r"\S+")
# The cluster is at most this share of the limit long: the rest is room either side.
CORE_SHARE = 0.4


def narrowed(text: str, weights: Mapping[str, float], limit: int) -> tuple[int, int]:
    """The (start, end) in ``text`` of the whole words inside the ``limit`` characters
    centred on the cluster of question terms (``_cluster``; ``weights``: by term, as
    ``index.terms.terms`` makes them), moved inside the text at its ends; the opening
    words when no word holds a question term. The whole text when it fits; its first
    word alone when no word fits. A word longer than the limit (a URL, a run of text
    without spaces) is passed over."""
    if len(text) <= limit:
        return 0, len(text)
    words = [(m.start(), m.end(), frozenset(terms(m.group())) & weights.keys())
             for m in _WORD.finditer(text)]
    fitting = [w for w in words if w[1] - w[0] <= limit]
    if not fitting:
        return words[0][:2] if words else (0, 0)
    cluster = _cluster(fitting, weights, int(limit * CORE_SHARE))
    middle = (cluster[0] + cluster[1]) / 2 if cluster else fitting[0][0] + limit / 2
    low = max(0.0, min(len(text) - limit, middle - limit / 2))
    inside = [w for w in fitting if w[0] >= low and w[1] <= low + limit]
    if not inside:  # the window lies on a word too long to show: the nearest that fits
        nearest = min(range(len(fitting)), key=lambda i: abs(fitting[i][0] - middle))
        inside = [w for w in fitting[nearest:] if w[1] - fitting[nearest][0] <= limit]
    return inside[0][0], inside[-1][1]


def _cluster(words: list[tuple[int, int, frozenset[str]]], weights: Mapping[str, float],
             limit: int) -> tuple[int, int] | None:
    """The (start, end) of the stretch that opens and closes on a word holding a question
    term, at most ``limit`` characters long (or a single such word), holding the greatest
    weight of distinct terms: of those the shortest, the earliest of equals. None when no
    word holds one."""
    best: tuple[float, int] | None = None
    span = None
    for first, (start, _, opening) in enumerate(words):
        if not opening:
            continue
        held: set[str] = set()
        weight = 0.0
        for at in range(first, len(words)):  # no slice: a copy per word is quadratic
            _, end, holding = words[at]
            if end - start > limit and held:
                break
            if not holding:
                continue
            for term in holding - held:
                held.add(term)
                weight += weights[term]
            key = (round(weight, 9), start - end)
            if best is None or key > best:
                best, span = key, (start, end)
    return span
