"""Lexical search: BM25 over every chunk's title and text, held as postings arrays.

The index is built from the stored chunks with the one word normaliser (``index/terms``),
written beside the vectors, and scored with numpy: one pass over the postings of the
question's terms gives every chunk's BM25 score at once. A filter, an ``as_of`` day or a
time window is then a mask over that one score array, never another query, so a narrow
scope cannot starve the ranking and two rankings (scope and window) cost one scoring.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.terms import terms

# Okapi BM25 as SQLite FTS5 and Lucene use it.
K1 = 1.2
B = 0.75
# Every chunk of an article repeats its title: a title word counts half a body word.
TITLE_WEIGHT = 0.5
# Written into the manifest's description of the build, so a change is visible.
VERSION = f"bm25 k1={K1} b={B} title={TITLE_WEIGHT} snowball-english"


class LexicalBuilder:
    """Collects chunks one at a time (in row order) and finishes into a LexicalIndex."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self._ids: list[np.ndarray] = []
        self._freqs: list[np.ndarray] = []
        self._lengths: list[float] = []
        # An article's chunks share its title: its term counts are worked out once.
        self._title: tuple[str, dict[int, float], float] = ("", {}, 0.0)

    def add(self, title: str, text: str) -> None:
        """Add the next chunk (its row id is the number of chunks added before it)."""
        counts = dict(self._title_counts(title))
        words = terms(text)
        for term in words:
            term_id = self.vocabulary.setdefault(term, len(self.vocabulary))
            counts[term_id] = counts.get(term_id, 0.0) + 1.0
        self._ids.append(np.fromiter(counts.keys(), dtype=np.int32, count=len(counts)))
        self._freqs.append(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        self._lengths.append(self._title[2] + len(words))

    def _title_counts(self, title: str) -> dict[int, float]:
        if title != self._title[0]:
            counts: dict[int, float] = {}
            for term in terms(title):
                term_id = self.vocabulary.setdefault(term, len(self.vocabulary))
                counts[term_id] = counts.get(term_id, 0.0) + TITLE_WEIGHT
            self._title = (title, counts, sum(counts.values()))
        return self._title[1]

    def finish(self) -> LexicalIndex:
        """The index of every chunk added, postings grouped by term."""
        size = len(self._lengths)
        vocabulary = self.vocabulary
        if not size:
            return LexicalIndex(vocabulary, np.zeros(len(vocabulary) + 1, dtype=np.int64),
                                np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32), 0)
        ids = np.concatenate(self._ids)
        freqs = np.concatenate(self._freqs)
        rows = np.repeat(np.arange(size, dtype=np.int32), [len(a) for a in self._ids])
        lengths = np.asarray(self._lengths, dtype=np.float64)
        df = np.bincount(ids, minlength=len(vocabulary))
        # Lucene's idf: never negative, so a word in most chunks still counts a little.
        idf = np.log1p((size - df + 0.5) / (df + 0.5))
        norm = K1 * (1.0 - B + B * lengths / max(lengths.mean(), 1e-9))
        weights = idf[ids] * freqs * (K1 + 1.0) / (freqs + norm[rows])
        order = np.argsort(ids, kind="stable")  # by term, rows ascending within a term
        offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(df, out=offsets[1:])
        return LexicalIndex(vocabulary, offsets, rows[order],
                            weights[order].astype(np.float32), size)


@dataclass(frozen=True)
class LexicalIndex:
    """BM25 postings by term: term ``t``'s chunks are ``rows[offsets[t]:offsets[t+1]]``."""

    vocabulary: dict[str, int]
    offsets: np.ndarray  # int64, one more than the vocabulary
    rows: np.ndarray  # int32 chunk row ids
    weights: np.ndarray  # float32 BM25 contribution of the term to that chunk
    size: int  # how many chunks

    @classmethod
    def build(cls, chunks: Iterable[tuple[str, str]]) -> LexicalIndex:
        """The index of ``(title, text)`` chunks given in row order."""
        builder = LexicalBuilder()
        for title, text in chunks:
            builder.add(title, text)
        return builder.finish()

    def save(self, path: Path) -> None:
        """Write the index as one uncompressed ``.npz`` file."""
        # Terms are \\w+ runs, so a newline can never occur inside one.
        words = "\n".join(sorted(self.vocabulary, key=self.vocabulary.__getitem__))
        with path.open("wb") as f:
            np.savez(f, offsets=self.offsets, rows=self.rows, weights=self.weights,
                     size=np.int64(self.size),
                     vocabulary=np.frombuffer(words.encode("utf-8"), dtype=np.uint8))

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        """Read an index written by ``save``; raises ValueError when it is malformed."""
        with np.load(path, allow_pickle=False) as data:
            words = data["vocabulary"].tobytes().decode("utf-8")
            vocabulary = {w: i for i, w in enumerate(words.split("\n"))} if words else {}
            index = cls(vocabulary, data["offsets"], data["rows"], data["weights"],
                        int(data["size"]))
        if len(index.offsets) != len(vocabulary) + 1 or index.offsets[-1] != len(index.rows):
            raise ValueError("lexical index postings do not match its vocabulary")
        return index

    def frequency(self, term: str) -> int:
        """How many chunks hold ``term``."""
        t = self.vocabulary.get(term)
        return 0 if t is None else int(self.offsets[t + 1] - self.offsets[t])

    def query_terms(self, text: str, limit: int) -> list[str]:
        """The question's distinct terms that occur, at most ``limit`` of the rarest
        (ties: first asked first): scoring cost grows with the postings read."""
        present = [t for t in dict.fromkeys(terms(text)) if t in self.vocabulary]
        if len(present) <= limit:
            return present
        rank = {t: (self.frequency(t), i) for i, t in enumerate(present)}
        return sorted(sorted(present, key=rank.__getitem__)[:limit], key=lambda t: rank[t][1])

    def scores(self, query: list[str]) -> np.ndarray:
        """Every chunk's BM25 score for these terms (0 where none occurs)."""
        spans = [(self.offsets[t], self.offsets[t + 1])
                 for t in (self.vocabulary[q] for q in query if q in self.vocabulary)]
        if not spans:
            return np.zeros(self.size)
        rows = np.concatenate([self.rows[a:b] for a, b in spans])
        weights = np.concatenate([self.weights[a:b] for a, b in spans])
        return np.bincount(rows, weights=weights, minlength=self.size)

    @staticmethod
    def top(scores: np.ndarray, n: int, allowed: np.ndarray | None = None,
            rows: np.ndarray | None = None) -> dict[int, float]:
        """The ``n`` best-scoring chunks (among ``allowed``, bool by row id): row id ->
        score, best first, ties by row id. ``rows``, when given, are the allowed row ids
        in order: a narrow scope is then scanned without a pass over every chunk."""
        if n <= 0:
            return {}
        if rows is not None:
            hits = rows[scores[rows] > 0]
        else:
            hits = np.flatnonzero(scores > 0 if allowed is None else (scores > 0) & allowed)
        if len(hits) > n:
            # The n-th best score; of the chunks tied at it, the lowest row ids are kept,
            # so the cut (not only the order) is the same whatever the partition did.
            values = scores[hits]
            cut = nth_largest(values, n)
            above = hits[values > cut]
            hits = np.concatenate([above, hits[values == cut][: n - len(above)]])
        chosen = hits[np.lexsort((hits, -scores[hits]))]
        return dict(zip(chosen.tolist(), scores[chosen].tolist(), strict=True))


def nth_largest(values: np.ndarray, n: int) -> float:
    """The ``n``-th largest of ``values`` (ties counted), exactly; ``1 <= n <= len``.

    A common question word gives thousands of scored chunks, and numpy's partition of
    them all took most of a lexical search. So a floor is found first: the smallest of
    the maxima of ``n`` disjoint blocks. Those ``n`` maxima are all at least the floor,
    so the ``n`` largest values are too, and only the few values above it are partitioned.
    """
    if len(values) >= 8 * n:
        blocks = values[: n * (len(values) // n)].reshape(n, -1)
        values = values[values >= blocks.max(axis=1).min()]
    return float(-np.partition(-values, n - 1)[n - 1])
