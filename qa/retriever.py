"""Hybrid retrieval: FAISS dense search and in-memory BM25, fused by rank."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.arrays import rows_float32
from index.reader import IndexReader
from index.store import StoredChunk
from qa.limits import MAX_LEXICAL_TERMS
from qa.scoped import ScopeCache, Scoped


@dataclass(frozen=True)
class RetrievalConfig:
    """Retrieval knobs; defaults chosen on held-out evaluation, see docs/benchmarks.md."""

    candidates: int = 50  # how many each retriever proposes before fusion
    rrf_k: float = 60.0  # reciprocal rank fusion constant
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # A second search inside the question's time window (or, without time words, the
    # last ``recent_days``) is fused in with this weight: news questions mean recent news.
    # Chosen on half of the news quick loop, checked on the other half (docs/benchmarks.md).
    window_weight: float = 1.0
    recency_weight: float = 1.0
    recent_days: int = 7
    # An allowed set this small is scored exactly from the stored vectors, which is
    # cheaper than a filtered FAISS search and never misses inside a narrow filter.
    exact_subset: int = 8192


@dataclass(frozen=True)
class Candidate:
    """A fused candidate chunk with the evidence behind its rank."""

    stored: StoredChunk
    dense: float  # cosine similarity of query and chunk
    lexical: float  # BM25 score for the query (0 when it holds none of its terms)
    fused: float


class Retriever:
    """Finds the chunks most likely to hold the answer."""

    def __init__(self, index: IndexReader, config: RetrievalConfig | None = None) -> None:
        self.index = index
        self.config = config or RetrievalConfig()
        self.scopes = ScopeCache(index, self.config.exact_subset)

    def search(self, text: str, vector: np.ndarray, k: int,
               allowed: np.ndarray | None = None, prefer: np.ndarray | None = None,
               prefer_weight: float | None = None) -> list[Candidate]:
        """The ``k`` best chunks for a query text and its embedding, best first.

        ``allowed`` (bool by article row id) limits the search to those articles, inside
        both searches; ``prefer`` marks articles (a time window) searched once more and
        fused in with ``prefer_weight`` (default: the configured window weight).
        """
        cfg = self.config
        bm25 = self.index.lexical
        # Scored once for every chunk; each ranking below is a mask over these scores.
        scores = bm25.scores(bm25.query_terms(text, MAX_LEXICAL_TERMS))
        rankings = [(cfg.dense_weight, cfg.lexical_weight, allowed)]
        if prefer is not None and prefer.any():
            weight = cfg.window_weight if prefer_weight is None else prefer_weight
            rankings.append((weight * cfg.dense_weight, weight * cfg.lexical_weight, prefer))
        dense: dict[int, float] = {}
        fused: dict[int, float] = {}
        for dense_weight, lexical_weight, articles in rankings:
            scoped = None if articles is None else self.scopes.get(articles)
            found_dense = self._dense_search(vector, cfg.candidates, scoped)
            found_lexical = (bm25.top(scores, cfg.candidates) if scoped is None
                             else bm25.top(scores, cfg.candidates, scoped.mask, scoped.rows))
            dense.update(found_dense)
            for weight, ranking in ((dense_weight, found_dense),
                                    (lexical_weight, found_lexical)):
                for rank, rowid in enumerate(sorted(ranking, key=lambda r: -ranking[r])):
                    fused[rowid] = fused.get(rowid, 0.0) + weight / (cfg.rrf_k + rank + 1)
        # Ties broken by row id so the same query always gives the same bytes.
        best = sorted(fused, key=lambda r: (-fused[r], r))[:k]
        stored = self.index.chunks(best)
        # Every chunk's BM25 score is at hand, so a dense-only hit gets its true one too.
        return [Candidate(stored[r], self._dense(dense, r, vector), float(scores[r]), fused[r])
                for r in best]

    def _dense_search(self, vector: np.ndarray, n: int,
                      scoped: Scoped | None) -> dict[int, float]:
        """Chunk rowid -> exact cosine of the ``n`` nearest (allowed) chunks."""
        index = self.index
        if scoped is None:
            n = min(n, index.vectors.ntotal)
            if not n:
                return {}
            _, ids = index.vectors.search(vector.reshape(1, -1).astype(np.float32), n)
            found = sorted(int(i) for i in ids[0] if i >= 0)
        elif scoped.rows is not None:  # few enough: scored exactly, never missed
            if not len(scoped.rows):
                return {}
            scores = scoped.vectors @ vector
            top = np.argsort(-scores, kind="stable")[:n]
            return {int(scoped.rows[i]): float(scores[i]) for i in top}
        else:
            found = index.filtered_search(vector, n, scoped.bits)
        # Exact cosines from the stored vectors: an approximate index only proposes.
        exact = rows_float32(index.chunk_vectors, found) @ vector
        return dict(zip(found, exact.tolist(), strict=True))

    def _dense(self, dense: dict[int, float], rowid: int, vector: np.ndarray) -> float:
        # A lexical-only hit still gets its true cosine from the stored vectors.
        if rowid in dense:
            return dense[rowid]
        return float(rows_float32(self.index.chunk_vectors, rowid) @ vector)
