"""Every sentence's place (article and offsets) and its terms, held as arrays, so the
rerank finds and scores the sentences of 40 passages without a query: a few binary
searches and one gather per question.

A sentence's terms are ids in the lexical index's vocabulary (the one source of term
statistics); the few words no chunk holds (a word cut by a chunk boundary) get ids
after it, kept in a list of their own. The builder writes these files beside the
vectors; a build written before them derives them from the store when it opens.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.arrays import mapped, runs
from index.records import Span
from index.store import StoredSentence, StoreReader

PLACES = "sentence_places.npy"  # int32 (article rowid, start, end) by sentence row id
TERMS = "sentence_terms.npy"  # int32 term ids, each sentence's distinct terms together
TERM_STARTS = "sentence_term_starts.npy"  # int64: sentence i's ids are terms[s[i]:s[i+1]]
EXTRA_WORDS = "sentence_words.txt"  # words after the lexical vocabulary, one per line


class SentenceTableWriter:
    """Collects each sentence (in row order): its place, and its terms as ids of a
    vocabulary that may still grow (the lexical builder's, while chunks are added)."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        self.vocabulary = vocabulary
        self._pending: dict[str, int] = {}  # words not (yet) in it -> -(1 + their number)
        # Flat machine-integer arrays: an archive has millions of sentences, and a small
        # Python object per sentence would cost the build hundreds of megabytes.
        self._ids = array("q")
        self._counts = array("q")
        self._places = array("i")

    def add(self, article_rowid: int, start: int, end: int, words: Iterable[str]) -> None:
        """The next sentence."""
        known, pending = self.vocabulary, self._pending
        ids = {known[w] if w in known else -pending.setdefault(w, len(pending) + 1)
               for w in words}
        self._ids.extend(ids)
        self._counts.append(len(ids))
        self._places.extend((article_rowid, start, end))

    def finish(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """(places, ids, starts, extra words), with the vocabulary as it ended: a word
        pending then gets its id there if a later chunk brought it, else one after it."""
        size = len(self.vocabulary)
        extra = [w for w in self._pending if w not in self.vocabulary]
        late = np.zeros(len(self._pending) + 1, dtype=np.int64)
        number = {w: size + i for i, w in enumerate(extra)}
        for word, n in self._pending.items():
            late[n] = self.vocabulary.get(word, number.get(word, -1))
        ids = np.frombuffer(self._ids, dtype=np.int64) if self._ids else np.zeros(0, np.int64)
        ids = np.where(ids < 0, late[np.clip(-ids, 0, len(late) - 1)], ids)
        starts = np.zeros(len(self._counts) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self._counts, dtype=np.int64) if self._counts else [],
                  out=starts[1:])
        places = np.array(self._places, dtype=np.int32).reshape(-1, 3)
        return places, ids.astype(np.int32), starts, extra

    def save(self, folder: Path) -> None:
        """Write the four files of a build."""
        places, ids, starts, extra = self.finish()
        np.save(folder / PLACES, places)
        np.save(folder / TERMS, ids)
        np.save(folder / TERM_STARTS, starts)
        (folder / EXTRA_WORDS).write_text("".join(w + "\n" for w in extra), encoding="utf-8")


@dataclass(frozen=True)
class SentenceTable:
    """Sentence places and terms by row id.

    Builds number an article's sentences together and in text order, and sentences do
    not overlap, so (article, start) and (article, end) both ascend with the row id:
    ``start_keys`` and ``end_keys`` pack each pair into one integer, and the sentences
    overlapping any passage are found by two binary searches over the whole table.
    """

    places: np.ndarray  # int32 (article rowid, start, end) by sentence row id
    start_keys: np.ndarray  # int64 article << 32 | start, ascending
    end_keys: np.ndarray  # int64 article << 32 | end, ascending
    terms: np.ndarray  # int32 term ids
    term_starts: np.ndarray  # int64, one more than the sentences
    extra: dict[str, int]  # words after the lexical vocabulary -> their ids

    @classmethod
    def load(cls, folder: Path, store: StoreReader,
             vocabulary: dict[str, int]) -> SentenceTable:
        """Read a build's sentence files (the places into memory, the terms
        memory-mapped), or derive them from the store when it has none. Raises
        ValueError when they do not fit together."""
        if not (folder / PLACES).exists():
            return cls.derive(store, vocabulary)
        places = np.load(folder / PLACES)  # read on every question: held in memory
        terms = mapped(folder / TERMS)
        term_starts = mapped(folder / TERM_STARTS)
        words = (folder / EXTRA_WORDS).read_text(encoding="utf-8").splitlines()
        return cls.of(places, terms, term_starts, words, vocabulary)

    @classmethod
    def derive(cls, store: StoreReader, vocabulary: dict[str, int]) -> SentenceTable:
        """The table of a store's sentences, worked out from its rows."""
        writer = SentenceTableWriter(vocabulary)
        for n, (rowid, article, start, end, text) in enumerate(store.sentence_rows()):
            if rowid != n:
                raise ValueError("sentence row ids are not 0..n-1")
            writer.add(article, start, end, text.split())
        return cls.of(*writer.finish(), vocabulary)

    @classmethod
    def of(cls, places: np.ndarray, terms: np.ndarray, term_starts: np.ndarray,
           words: list[str], vocabulary: dict[str, int]) -> SentenceTable:
        """The table of these arrays, checked to fit together."""
        if places.ndim != 2 or places.shape[1] != 3:
            raise ValueError("sentence places are not (article, start, end) rows")
        if len(term_starts) != len(places) + 1 or term_starts[-1] != len(terms):
            raise ValueError("sentence terms do not match the sentences")
        start_keys, end_keys = _key(places[:, 0], places[:, 1]), _key(places[:, 0], places[:, 2])
        if (np.diff(start_keys) <= 0).any() or (np.diff(end_keys) < 0).any():
            raise ValueError("sentences are not in article and text order")
        return cls(places, start_keys, end_keys, terms, term_starts,
                   {w: len(vocabulary) + i for i, w in enumerate(words)})

    def overlapping(self, ranges: Sequence[tuple[int, int, int]]
                    ) -> tuple[np.ndarray, np.ndarray]:
        """For each ``(article_rowid, start, end)``, the row ids ``lo[i]`` up to ``hi[i]``
        of the article's sentences overlapping ``[start, end)`` (in text order)."""
        if not ranges:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        a, start, end = np.asarray(ranges, dtype=np.int64).reshape(-1, 3).T
        # From the first sentence ending after ``start`` to the last starting before ``end``.
        lo = np.searchsorted(self.end_keys, _key(a, start), side="right")
        hi = np.searchsorted(self.start_keys, _key(a, end), side="left")
        return lo, np.maximum(lo, hi)

    def sentences(self, rows: range) -> list[StoredSentence]:
        """The sentences at these row ids."""
        return [StoredSentence(row, a, Span(start, end)) for row, (a, start, end) in
                zip(rows, self.places[rows.start:rows.stop].tolist(), strict=True)]

    def differences(self, other: SentenceTable) -> list[str]:
        """How this table differs from another of the same sentences (empty if not)."""
        if not np.array_equal(self.places, other.places):
            return ["sentence places differ from the store's"]
        if not np.array_equal(self.term_starts, other.term_starts):
            return ["sentence term counts differ from the store's"]
        owner = np.repeat(np.arange(len(self.places)), np.diff(self.term_starts))
        mine = self.terms[np.lexsort((self.terms, owner))]
        theirs = other.terms[np.lexsort((other.terms, owner))]
        if self.extra != other.extra or not np.array_equal(mine, theirs):
            return ["sentence terms differ from the store's"]
        return []

    def term_ids(self, words: Sequence[str], vocabulary: dict[str, int]) -> list[int | None]:
        """Each word's id (None for a word no sentence holds)."""
        return [vocabulary.get(w, self.extra.get(w)) for w in words]

    def coverage(self, rows: np.ndarray, weights: dict[int, float]) -> np.ndarray:
        """For each row, the summed weight of the weighted term ids it holds."""
        if not len(rows) or not weights:
            return np.zeros(len(rows))
        begin, stop = self.term_starts[rows], self.term_starts[rows + 1]
        lengths = (stop - begin).astype(np.int64)
        owner = np.repeat(np.arange(len(rows)), lengths)
        ids = self.terms[runs(begin, lengths)]
        keys = np.fromiter(weights, dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        sort = np.argsort(keys)
        keys, values = keys[sort], values[sort]
        at = np.minimum(np.searchsorted(keys, ids), len(keys) - 1)
        held = np.where(keys[at] == ids, values[at], 0.0)
        return np.bincount(owner, weights=held, minlength=len(rows))


def _key(article: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(article, offset) pairs as integers in the same order (offsets are below 2**32)."""
    return (np.asarray(article, dtype=np.int64) << 32) | np.asarray(offset, dtype=np.int64)
