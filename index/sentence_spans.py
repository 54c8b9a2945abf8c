"""Where every sentence lies (its article and offsets), held as arrays, so finding the
sentences of 40 passages is a few binary searches instead of a query with a subquery
per passage: the rerank asks this for every question."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.store import StoredSentence, StoreReader


@dataclass(frozen=True)
class SentenceSpans:
    """Sentence row ids grouped by article, each article's in text order.

    ``rows[first[a]:first[a + 1]]`` are article ``a``'s sentences; ``starts`` and
    ``ends`` are their offsets in the same order (both ascending within an article, as
    an article's sentences do not overlap).
    """

    rows: np.ndarray  # int64 sentence row ids, by (article, start)
    starts: np.ndarray  # int32
    ends: np.ndarray  # int32
    first: np.ndarray  # int64 by article rowid, one more than the highest

    @classmethod
    def load(cls, store: StoreReader, articles: int) -> SentenceSpans:
        """Read every sentence's place (one scan of three integer columns, no text);
        ``articles`` is one more than the highest article row id."""
        table = np.asarray(store.sentence_places(), dtype=np.int64).reshape(-1, 4)
        # Builds write an article's sentences together and in order, so this sort
        # leaves them as they are; it only guards the lookups' assumption.
        order = np.lexsort((table[:, 2], table[:, 1]))
        table = table[order]
        counts = np.bincount(table[:, 1], minlength=articles) if len(table) else \
            np.zeros(articles, dtype=np.int64)
        first = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=first[1:])
        return cls(table[:, 0].copy(), table[:, 2].astype(np.int32),
                   table[:, 3].astype(np.int32), first)

    def overlapping(self, article_rowid: int, start: int, end: int) -> np.ndarray:
        """Row ids of the article's sentences overlapping ``[start, end)``, in order."""
        if not 0 <= article_rowid < len(self.first) - 1:
            return self.rows[:0]
        lo, hi = int(self.first[article_rowid]), int(self.first[article_rowid + 1])
        # The first sentence ending after ``start`` to the last starting before ``end``.
        i = lo + int(np.searchsorted(self.ends[lo:hi], start, side="right"))
        j = lo + int(np.searchsorted(self.starts[lo:hi], end, side="left"))
        return self.rows[i:max(i, j)]

    def in_many(self, store: StoreReader, ranges: Sequence[tuple[int, int, int]]
                ) -> list[list[StoredSentence]]:
        """The sentences overlapping each ``(article_rowid, start, end)``, in order, with
        their terms read from the store in one query by row id."""
        found = [self.overlapping(a, start, end) for a, start, end in ranges]
        wanted = sorted({int(r) for rows in found for r in rows})
        by_row = {s.rowid: s for s in store.sentences(wanted)}
        return [[by_row[int(r)] for r in rows] for rows in found]
