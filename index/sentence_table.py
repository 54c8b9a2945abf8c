"""Every sentence's place (article and offsets) and its terms, held as arrays, so the
rerank finds and scores the sentences of 40 passages without a query: a few binary
searches and one gather per question.

A sentence's terms are ids in the lexical index's vocabulary (the one source of term
statistics); the few words no chunk holds (a word cut by a chunk boundary) get ids
after it, kept in a list of their own. The builder writes them beside the vectors; a
build written before that derives them from the store when it opens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.records import Span
from index.store import StoredSentence, StoreReader

TERMS = "sentence_terms.npy"  # int32 term ids, each sentence's distinct terms together
TERM_STARTS = "sentence_term_starts.npy"  # int64: sentence i's ids are terms[s[i]:s[i+1]]
EXTRA_WORDS = "sentence_words.txt"  # words after the lexical vocabulary, one per line


class SentenceTermsWriter:
    """Collects each sentence's terms (in row order) as ids of a vocabulary that may
    still grow (the lexical builder's, while chunks are added), and writes them."""

    def __init__(self, vocabulary: dict[str, int]) -> None:
        self.vocabulary = vocabulary
        self._pending: dict[str, int] = {}  # words not (yet) in it -> -(1 + their number)
        self._ids: list[np.ndarray] = []

    def add(self, words: Iterable[str]) -> None:
        """The next sentence's terms."""
        known, pending = self.vocabulary, self._pending
        ids = {known[w] if w in known else -pending.setdefault(w, len(pending) + 1)
               for w in words}
        self._ids.append(np.fromiter(ids, dtype=np.int64, count=len(ids)))

    def finish(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(ids, starts, extra words), with the vocabulary as it ended: a word pending
        then gets its id there if a later chunk brought it, else one after it."""
        size = len(self.vocabulary)
        extra = [w for w in self._pending if w not in self.vocabulary]
        late = np.zeros(len(self._pending) + 1, dtype=np.int64)
        number = {w: size + i for i, w in enumerate(extra)}
        for word, n in self._pending.items():
            late[n] = self.vocabulary.get(word, number.get(word, -1))
        ids = np.concatenate(self._ids) if self._ids else np.zeros(0, dtype=np.int64)
        ids = np.where(ids < 0, late[np.clip(-ids, 0, len(late) - 1)], ids)
        starts = np.zeros(len(self._ids) + 1, dtype=np.int64)
        np.cumsum([len(a) for a in self._ids], out=starts[1:])
        return ids.astype(np.int32), starts, extra

    def save(self, folder: Path) -> None:
        """Write the three files of a build."""
        ids, starts, extra = self.finish()
        np.save(folder / TERMS, ids)
        np.save(folder / TERM_STARTS, starts)
        (folder / EXTRA_WORDS).write_text("".join(w + "\n" for w in extra), encoding="utf-8")


@dataclass(frozen=True)
class SentenceTable:
    """Sentence places by row id, row ids grouped by article in text order, and terms.

    ``order[first[a]:first[a + 1]]`` are article ``a``'s sentences, whose offsets
    ``starts`` and ``ends`` (in that order) both ascend, as sentences do not overlap.
    """

    article: np.ndarray  # int32 by sentence row id
    start: np.ndarray  # int32 by sentence row id
    end: np.ndarray  # int32 by sentence row id
    order: np.ndarray  # int64 row ids by (article, start)
    starts: np.ndarray  # int32, ``start[order]``
    ends: np.ndarray  # int32, ``end[order]``
    first: np.ndarray  # int64 by article rowid, one more than the highest
    terms: np.ndarray  # int32 term ids
    term_starts: np.ndarray  # int64, one more than the sentences
    extra: dict[str, int]  # words after the lexical vocabulary -> their ids

    @classmethod
    def load(cls, folder: Path, store: StoreReader, articles: int,
             vocabulary: dict[str, int]) -> SentenceTable:
        """Read a build's sentences: places from the store (three integer columns),
        terms from the build's files, or from the store when it has none.
        ``articles`` is one more than the highest article row id."""
        places = np.asarray(store.sentence_places(), dtype=np.int64).reshape(-1, 4)
        if not (places[:, 0] == np.arange(len(places))).all():
            raise ValueError("sentence row ids are not 0..n-1")
        if (folder / TERMS).exists():
            terms = np.load(folder / TERMS, mmap_mode="r")
            term_starts = np.load(folder / TERM_STARTS, mmap_mode="r")
            words = (folder / EXTRA_WORDS).read_text(encoding="utf-8").splitlines()
        else:
            writer = SentenceTermsWriter(vocabulary)
            for row in store.sentence_terms():
                writer.add(row.split())
            terms, term_starts, words = writer.finish()
        if len(term_starts) != len(places) + 1 or term_starts[-1] != len(terms):
            raise ValueError("sentence terms do not match the sentences")
        # Builds write an article's sentences together and in order, so this sort keeps
        # them as they are; it only guards the lookups' assumption.
        order = np.lexsort((places[:, 2], places[:, 1]))
        counts = np.bincount(places[:, 1], minlength=articles)
        first = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=first[1:])
        article, start, end = (places[:, i].astype(np.int32) for i in (1, 2, 3))
        return cls(article, start, end, order, start[order], end[order], first, terms,
                   term_starts, {w: len(vocabulary) + i for i, w in enumerate(words)})

    def overlapping(self, article_rowid: int, start: int, end: int) -> np.ndarray:
        """Row ids of the article's sentences overlapping ``[start, end)``, in order."""
        if not 0 <= article_rowid < len(self.first) - 1:
            return self.order[:0]
        lo, hi = int(self.first[article_rowid]), int(self.first[article_rowid + 1])
        # From the first sentence ending after ``start`` to the last starting before ``end``.
        i = lo + int(np.searchsorted(self.ends[lo:hi], start, side="right"))
        j = lo + int(np.searchsorted(self.starts[lo:hi], end, side="left"))
        return self.order[i:max(i, j)]

    def sentences(self, rows: np.ndarray) -> list[StoredSentence]:
        """The sentences at these row ids."""
        return [StoredSentence(r, a, Span(s, e)) for r, a, s, e in zip(
            rows.tolist(), self.article[rows].tolist(), self.start[rows].tolist(),
            self.end[rows].tolist(), strict=True)]

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
        # Position of each gathered id: its sentence's first id plus its place in it.
        offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths,
                                                            lengths)
        ids = self.terms[np.repeat(begin, lengths) + offsets]
        keys = np.fromiter(weights, dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        sort = np.argsort(keys)
        keys, values = keys[sort], values[sort]
        at = np.minimum(np.searchsorted(keys, ids), len(keys) - 1)
        held = np.where(keys[at] == ids, values[at], 0.0)
        return np.bincount(owner, weights=held, minlength=len(rows))
