"""Hybrid retrieval: FAISS dense search and SQLite FTS5 BM25, fused by rank."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.reader import IndexReader
from index.store import StoredChunk
from index.terms import STOPWORDS, stem, words
from qa.limits import MAX_LEXICAL_TERMS


@dataclass(frozen=True)
class RetrievalConfig:
    """Retrieval knobs; defaults chosen on held-out evaluation, see the README."""

    candidates: int = 50  # how many each retriever proposes before fusion
    rrf_k: float = 60.0  # reciprocal rank fusion constant
    dense_weight: float = 1.0
    lexical_weight: float = 1.0


@dataclass(frozen=True)
class Candidate:
    """A fused candidate chunk with the evidence behind its rank."""

    stored: StoredChunk
    dense: float  # cosine similarity of query and chunk
    lexical: float  # BM25 score (0 when not among lexical hits)
    fused: float


def fts_query(text: str, document_frequency: Callable[[list[str]], dict[str, int]],
              limit: int = MAX_LEXICAL_TERMS) -> str:
    """An FTS5 MATCH expression: the question's most informative content words, quoted.

    An OR-query's cost grows with its terms, so a long question keeps only the ``limit``
    words whose stems are rarest in the corpus (ties: first asked first).
    """
    seen: dict[str, None] = {}
    for word in words(text):
        if word not in STOPWORDS:
            seen.setdefault(word, None)
    chosen = list(seen)
    if len(chosen) > limit:
        stems = {w: stem(w) for w in chosen}
        dfs = document_frequency(list(set(stems.values())))
        rank = {w: (dfs.get(stems[w], 0), i) for i, w in enumerate(chosen)}
        chosen = sorted(sorted(chosen, key=rank.__getitem__)[:limit], key=lambda w: rank[w][1])
    return " OR ".join(f'"{w}"' for w in chosen)


class Retriever:
    """Finds the chunks most likely to hold the answer."""

    def __init__(self, index: IndexReader, config: RetrievalConfig | None = None) -> None:
        self.index = index
        self.config = config or RetrievalConfig()

    def search(self, text: str, vector: np.ndarray, k: int) -> list[Candidate]:
        """The ``k`` best chunks for a query text and its embedding, best first."""
        cfg = self.config
        n = min(cfg.candidates, self.index.vectors.ntotal)
        dense: dict[int, float] = {}
        if n:
            _, ids = self.index.vectors.search(vector.reshape(1, -1).astype(np.float32), n)
            found = sorted(int(i) for i in ids[0] if i >= 0)
            # Exact cosines from the stored vectors: an approximate index only proposes.
            exact = np.asarray(self.index.chunk_vectors[found], dtype=np.float32) @ vector
            dense = dict(zip(found, exact.tolist(), strict=True))
        match = fts_query(text, self.index.store.document_frequencies)
        lexical = dict(self.index.store.lexical_search(match, cfg.candidates)) if match else {}
        fused: dict[int, float] = {}
        for weight, ranking in ((cfg.dense_weight, dense), (cfg.lexical_weight, lexical)):
            for rank, rowid in enumerate(sorted(ranking, key=lambda r: -ranking[r])):
                fused[rowid] = fused.get(rowid, 0.0) + weight / (cfg.rrf_k + rank + 1)
        # Ties broken by row id so the same query always gives the same bytes.
        best = sorted(fused, key=lambda r: (-fused[r], r))[:k]
        stored = self.index.store.chunks(best)
        return [Candidate(stored[r], self._dense(dense, r, vector), lexical.get(r, 0.0), fused[r])
                for r in best]

    def _dense(self, dense: dict[int, float], rowid: int, vector: np.ndarray) -> float:
        # A lexical-only hit still gets its true cosine from the stored vectors.
        if rowid in dense:
            return dense[rowid]
        return float(np.asarray(self.index.chunk_vectors[rowid], dtype=np.float32) @ vector)
