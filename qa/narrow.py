"""The part of a too-long sentence an answer shows.

An answer is one sentence of an article, cited by its characters. A few sentences run
far past what an answer shows (``qa.limits.ANSWER_MAX_CHARS``): a list, a table flattened
into one line, a run-on paragraph. Cutting one at the limit loses whatever the question
asked about when it comes late in the sentence. Instead the answer shows the stretch of
whole words, at most the limit long, that holds the most of the question's terms
(weighted by their rarity), centred on those it holds. It is still the article's own
text, cited by its characters.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping

from index.terms import terms

_WORD = re.compile(r"\S+")


def narrowed(text: str, weights: Mapping[str, float], limit: int) -> tuple[int, int]:
    """The (start, end) in ``text`` of the stretch of whole words, at most ``limit``
    characters, holding the greatest weight of distinct question terms (``weights``: by
    term, as ``index.terms.terms`` makes them), of those the one that starts nearest half
    the limit before the middle of the words holding them, the earliest of equals. The
    whole text when it fits; its first word alone when no stretch of whole words fits."""
    if len(text) <= limit:
        return 0, len(text)
    words = [(m.start(), m.end(), frozenset(terms(m.group())) & weights.keys())
             for m in _WORD.finditer(text)]
    if not words:
        return 0, 0
    best: tuple[float, float] | None = None
    span = words[0][:2]
    held: dict[str, int] = {}  # question term -> how many words of the stretch hold it
    placed: deque[float] = deque()  # the middles of the stretch's words that hold one
    last = 0  # one past the stretch's last word
    for first, (start, _, _) in enumerate(words):
        while last < len(words) and words[last][1] - start <= limit:
            for term in words[last][2]:
                held[term] = held.get(term, 0) + 1
            if words[last][2]:
                placed.append((words[last][0] + words[last][1]) / 2)
            last += 1
        if last == first:  # a single word longer than the limit
            last += 1
            continue
        # Centred: the stretch starts nearest half the limit before the middle of the
        # words it holds that the question has (the earliest, when none).
        centre = sum(placed) / len(placed) if placed else start + limit / 2
        key = (round(sum(weights[t] for t in held), 9), -abs(start + limit / 2 - centre))
        if best is None or key > best:
            best, span = key, (start, words[last - 1][1])
        if last == len(words):
            break
        for term in words[first][2]:  # the stretch moves past its first word
            held[term] -= 1
            if not held[term]:
                del held[term]
        if words[first][2]:
            placed.popleft()
    return span
