"""Pick the answer: the best sentence (or two adjacent ones) of the top passages.

Each sentence is scored by its own dense similarity to the question (vectors computed
at index time), by the IDF-weighted share of the question's terms it contains, and by
the rank of the passage it came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from index.reader import IndexReader
from index.records import Span
from index.store import StoredSentence
from index.terms import terms
from qa.conversation import Query
from qa.retriever import Candidate


@dataclass(frozen=True)
class ExtractionConfig:
    """Sentence-scoring knobs; defaults chosen on held-out evaluation, see the README."""

    passages: int = 3  # how many top passages to take sentences from
    dense_weight: float = 0.5
    lexical_weight: float = 0.5
    rank_weight: float = 0.1  # bonus for the top passage, decaying with rank
    context_weight: float = 0.1  # weight of borrowed follow-up context terms
    repeat_penalty: float = 0.5  # factor on a sentence an earlier answer already gave
    min_chars: int = 60  # a shorter best sentence is joined with its neighbour
    max_chars: int = 400


@dataclass(frozen=True)
class Pick:
    """The chosen span and the evidence for it."""

    article_rowid: int
    span: Span
    score: float
    dense: float
    lexical: float
    passage_rank: int


class Extractor:
    """Chooses the answer span from the retrieved passages."""

    def __init__(self, index: IndexReader, config: ExtractionConfig | None = None) -> None:
        self.index = index
        self.config = config or ExtractionConfig()

    def pick(self, query: Query, vector: np.ndarray,
             candidates: list[Candidate]) -> Pick | None:
        """The best answer span among the top candidates, or None when there are none."""
        cfg = self.config
        weights = self._term_weights(query.question, query.context)
        total = sum(weights.values()) or 1.0
        best: Pick | None = None
        seen: set[int] = set()
        for rank, cand in enumerate(candidates[: cfg.passages]):
            chunk = cand.stored.chunk
            sentences = self.index.store.sentences_in(cand.stored.article_rowid, chunk.start,
                                                      chunk.end)
            fresh = [s for s in sentences if s.rowid not in seen]
            seen.update(s.rowid for s in fresh)
            if not fresh:
                continue
            dense = self._dense(fresh, vector)
            text = self.index.store.article_text(cand.stored.article_rowid) \
                if query.answered else ""
            for sentence, cos in zip(fresh, dense, strict=True):
                lexical = sum(weights.get(t, 0.0) for t in set(sentence.terms)) / total
                score = (cfg.dense_weight * cos + cfg.lexical_weight * lexical
                         + cfg.rank_weight / (rank + 1))
                if text and _already_given(text[sentence.span.start : sentence.span.end],
                                           query.answered):
                    score *= cfg.repeat_penalty
                if best is None or score > best.score:
                    best = Pick(sentence.article_rowid, sentence.span, float(score),
                                float(cos), lexical, rank)
        return self._widen(best) if best else None

    def _term_weights(self, question: str, context: str) -> dict[str, float]:
        own = terms(question)
        borrowed = [t for t in terms(context) if t not in own]
        dfs = self.index.store.document_frequencies(own + borrowed)
        n = max(self.index.manifest.chunks, 1)

        def idf(term: str) -> float:
            df = dfs.get(term, 0)
            return math.log(1 + (n - df + 0.5) / (df + 0.5))

        weights = {t: idf(t) for t in own}
        for t in borrowed:
            weights[t] = self.config.context_weight * idf(t)
        return weights

    def _dense(self, sentences: list[StoredSentence], vector: np.ndarray) -> np.ndarray:
        rows = self.index.sentence_vectors[[s.rowid for s in sentences]]
        return np.asarray(rows, dtype=np.float32) @ vector

    def _widen(self, pick: Pick) -> Pick:
        """Join a too-short sentence with the next one in its article (when it fits)."""
        cfg = self.config
        if pick.span.end - pick.span.start >= cfg.min_chars:
            return pick
        following = self.index.store.sentences_in(pick.article_rowid, pick.span.end,
                                                  pick.span.end + cfg.max_chars)
        if following and following[0].span.end - pick.span.start <= cfg.max_chars:
            span = Span(pick.span.start, following[0].span.end)
            return Pick(pick.article_rowid, span, pick.score, pick.dense, pick.lexical,
                        pick.passage_rank)
        return pick


def _already_given(sentence: str, answers: tuple[str, ...]) -> bool:
    return any(sentence in answer for answer in answers)
