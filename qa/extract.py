"""Score the sentences of the retrieved passages, rerank the passages by that evidence,
and pick the answer: the best sentence (or two adjacent ones).

A sentence is scored by its own dense similarity to the question (vectors computed at
index time, so a question costs one model call) and by the IDF-weighted share of the
question's terms it contains. A passage is then ranked by its fused retrieval score, its
own similarity and BM25 score, its best sentence, and (for news) how near its date is to
the days the question means.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from index.arrays import rows_float32, runs
from index.catalog import UNDATED, day_number
from index.reader import IndexReader
from index.records import Chunk, Span
from index.store import StoredSentence
from index.terms import terms
from qa.answer_types import answer_type, holds
from qa.conversation import Query
from qa.limits import ANSWER_MAX_CHARS
from qa.narrow import narrowed
from qa.retriever import Candidate


@dataclass(frozen=True)
class ExtractionConfig:
    """Sentence and rerank knobs; defaults chosen on held-out evaluation, see docs/benchmarks.md."""

    rerank_depth: int = 40  # fused candidates whose sentences are scored
    fused_weight: float = 1.0  # passage rank: fused score (scaled to the best one)
    # Passage rank: the evidence that rank fusion discards, its size. A fused score only
    # knows ranks, so a passage far more similar to the question, or holding far more of
    # its rare terms, than the next one gains nothing for it.
    passage_dense_weight: float = 1.0  # the passage's own cosine with the question
    passage_lexical_weight: float = 0.5  # its BM25 score, scaled to the pool's best
    sentence_weight: float = 4.0  # passage rank: its best sentence's score
    passages: int = 3  # how many top passages the answer may come from
    dense_weight: float = 0.5
    lexical_weight: float = 0.5
    rank_weight: float = 0.1  # answer: bonus for the top passage, decaying with rank
    context_weight: float = 0.1  # weight of borrowed follow-up context terms
    repeat_penalty: float = 0.5  # factor on a sentence an earlier answer already gave
    type_weight: float = 0.1  # bonus for a sentence holding the kind of answer asked for
    min_chars: int = 60  # a shorter best sentence is joined with its neighbour
    # Passage rank: a bonus for coverage near the days the question means (its time
    # window, else the day it is asked as of), decaying by ``age_days`` per e-fold.
    # A news question means the latest coverage, and an archive holds years of older
    # pages on the same topic. Undated articles get no bonus (and lose nothing).
    age_weight: float = 0.4
    age_days: float = 120.0
    # The answer sentence gets this share of its passage's bonus: without it, an older
    # article's sentence that echoes the question best wins the answer from the newer
    # story the ranking put first.
    age_pick_share: float = 0.5
    max_chars: int = ANSWER_MAX_CHARS


@dataclass(frozen=True)
class ScoredSentence:
    """A sentence with its evidence for one question."""

    sentence: StoredSentence
    dense: float
    lexical: float
    score: float


@dataclass(frozen=True)
class PoolSentences:
    """The sentences of one rerank pool, scored once (overlapping passages share some):
    arrays by position, row ids ascending."""

    rows: np.ndarray  # int64 sentence row ids
    places: np.ndarray  # int32 (article rowid, start, end)
    dense: np.ndarray  # float64
    lexical: np.ndarray  # float64
    score: np.ndarray  # float64

    def scored(self, first: int, count: int) -> tuple[ScoredSentence, ...]:
        """The sentences at positions ``first`` to ``first + count``, as objects."""
        part = slice(first, first + count)
        return tuple(ScoredSentence(StoredSentence(row, a, Span(start, end)), dense, lexical,
                                    score)
                     for row, (a, start, end), dense, lexical, score in zip(
                         self.rows[part].tolist(), self.places[part].tolist(),
                         self.dense[part].tolist(), self.lexical[part].tolist(),
                         self.score[part].tolist(), strict=True))


@dataclass(frozen=True)
class Evidence:
    """A candidate passage, its scored sentences and its reranked score."""

    candidate: Candidate
    score: float
    recency: float  # the part of ``score`` for being published near the question's days
    # Its sentences: ``count`` of the pool's, from position ``first`` (they are adjacent).
    pool: PoolSentences
    first: int
    count: int

    @property
    def sentences(self) -> tuple[ScoredSentence, ...]:
        """The passage's sentences with their evidence, in text order (made on use: only
        the passages the answer may come from are asked)."""
        return self.pool.scored(self.first, self.count)


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
    """Reranks passages by sentence evidence and chooses the answer span."""

    def __init__(self, index: IndexReader, config: ExtractionConfig | None = None) -> None:
        self.index = index
        self.config = config or ExtractionConfig()

    def rerank(self, query: Query, vector: np.ndarray, candidates: list[Candidate],
               meant: tuple[date, date] | None = None) -> list[Evidence]:
        """Score the sentences of the top candidates; passages best first.

        ``meant`` (first and last day) is when the question means: passages of articles
        published near it rank higher.
        """
        cfg = self.config
        pool = candidates[: cfg.rerank_depth]
        if not pool:
            return []
        weights = self.term_weights(query.question, query.context)
        kind = answer_type(query.question) if cfg.type_weight else None
        evidence = []
        top_fused = max(c.fused for c in pool) or 1.0
        top_lexical = max(c.lexical for c in pool) or 1.0
        # A follow-up's passages are ranked by the retrieval that carried its context;
        # ranking them by how well a sentence fits the bare question would undo that.
        sentence_weight = 0.0 if query.context else cfg.sentence_weight
        # Every candidate's sentences from the in-memory table (each passage's are
        # adjacent rows), one read of their vectors.
        table = self.index.sentence_table
        lo, hi = table.overlapping([(c.stored.article_rowid, c.stored.chunk.start,
                                     c.stored.chunk.end) for c in pool])
        counts = hi - lo
        rows = np.unique(runs(lo, counts))
        vectors = rows_float32(self.index.sentence_vectors, rows)
        dense = (vectors @ vector).astype(np.float64)
        lexical = self._coverage(rows, weights)
        first = np.searchsorted(rows, lo)  # where each passage's sentences begin in rows
        sentences = self._score(pool, PoolSentences(
            rows, table.places[rows], dense, lexical,
            cfg.dense_weight * dense + cfg.lexical_weight * lexical), first, counts, query,
            kind)
        best = _segment_max(sentences.score, first, counts)
        # A follow-up keeps to the story its context found, whatever its date.
        recency = self._recency(pool, None if query.context else meant)
        for i, (cand, fresh_bonus) in enumerate(zip(pool, recency, strict=True)):
            score = (cfg.fused_weight * cand.fused / top_fused + sentence_weight * best[i]
                     + cfg.passage_dense_weight * cand.dense
                     + cfg.passage_lexical_weight * cand.lexical / top_lexical + fresh_bonus)
            evidence.append(Evidence(cand, score, fresh_bonus, sentences, int(first[i]),
                                     int(counts[i])))
        # Stable sort: ties keep the fused (and so deterministic) order.
        return sorted(evidence, key=lambda e: -e.score)

    def pick(self, ranked: list[Evidence], same_story: bool = False) -> Pick | None:
        """The best answer span among the top reranked passages, or None.

        With ``same_story`` (a follow-up) only passages of the top passage's article count:
        the conversation is about that story.
        """
        cfg = self.config
        best: Pick | None = None
        if same_story and ranked:
            story = ranked[0].candidate.stored.article_rowid
            ranked = [e for e in ranked if e.candidate.stored.article_rowid == story]
        for rank, ev in enumerate(ranked[: cfg.passages]):
            for s in ev.sentences:
                score = (s.score + cfg.rank_weight / (rank + 1)
                         + cfg.age_pick_share * ev.recency)
                if best is None or score > best.score:
                    best = Pick(s.sentence.article_rowid, s.sentence.span, score, s.dense,
                                s.lexical, rank)
        return self.widen(best) if best else None

    def _coverage(self, rows: np.ndarray, weights: dict[str, float]) -> np.ndarray:
        """Each sentence's IDF-weighted share of the question's terms."""
        table = self.index.sentence_table
        ids = table.term_ids(list(weights), self.index.lexical.vocabulary)
        by_id = {i: w for i, w in zip(ids, weights.values(), strict=True) if i is not None}
        total = sum(weights.values()) or 1.0
        return table.coverage(rows, by_id) / total

    def _score(self, pool: list[Candidate], sentences: PoolSentences, first: np.ndarray,
               counts: np.ndarray, query: Query, kind: str | None) -> PoolSentences:
        """The pool's sentences with the bonus for holding the kind of answer asked for
        and the penalty for repeating an earlier answer applied to their base scores;
        candidate ``i`` holds the ``counts[i]`` from position ``first[i]``. A sentence that
        cannot become any passage's best is not checked for its answer type: its score
        may lack that bonus, which changes no ranking and no answer."""
        cfg = self.config
        held = runs(first, counts)  # each passage's sentences, passage by passage
        read = self._worth_reading(sentences, first, counts, held, query, kind)
        if not len(read):
            return sentences
        # The first passage holding a sentence lends it its text: the chunk's when the
        # sentence lies inside it (no read), else the article's.
        lender = np.full(len(sentences.rows), len(pool))
        np.minimum.at(lender, held, np.repeat(np.arange(len(pool)), counts))
        score = sentences.score.copy()
        texts = ArticleTexts(self.index.store.article_text)
        for i in read.tolist():
            article, start, end = sentences.places[i].tolist()
            said = sentence_text(pool[int(lender[i])].stored.chunk, article, start, end,
                                 texts)
            if kind and holds(kind, said, query.question):
                score[i] += cfg.type_weight
            if query.answered and _already_given(said, query.answered):
                score[i] *= cfg.repeat_penalty
        return replace(sentences, score=score)

    def _worth_reading(self, sentences: PoolSentences, first: np.ndarray,
                       counts: np.ndarray, held: np.ndarray, query: Query,
                       kind: str | None) -> np.ndarray:
        """Positions of the sentences whose text can change their score where it matters.

        A follow-up checks every sentence for repeats. Otherwise the answer-type bonus
        only matters where it can make a sentence the best of a passage it is in (the
        answer is always some passage's best too), so the text of the rest is never
        read or parsed: with 40 passages that is most of them.
        """
        if query.answered:
            return np.arange(len(sentences.rows))
        if not kind:
            return np.zeros(0, dtype=np.int64)
        best = _segment_max(sentences.score, first, counts)
        # Each sentence's floor: the lowest best of the passages holding it.
        floor = np.full(len(sentences.rows), np.inf)
        np.minimum.at(floor, held, np.repeat(best, counts))
        return np.flatnonzero(sentences.score + self.config.type_weight >= floor)

    def _recency(self, pool: list[Candidate],
                 meant: tuple[date, date] | None) -> list[float]:
        """Each candidate's bonus for being published near ``meant`` (0 gap inside it)."""
        cfg = self.config
        if meant is None or not cfg.age_weight:
            return [0.0] * len(pool)
        first, last = day_number(meant[0]), day_number(meant[1])
        published = self.index.catalog.article_day[
            [c.stored.article_rowid for c in pool]].astype(np.int64)
        gap = np.maximum(first - published, 0) + np.maximum(published - last, 0)
        bonus = cfg.age_weight * np.exp(-gap / cfg.age_days)
        return np.where(published == UNDATED, 0.0, bonus).tolist()

    def term_weights(self, question: str, context: str = "") -> dict[str, float]:
        """The IDF of each term of the question (and, weighted down, of its context's)."""
        own = terms(question)
        borrowed = [t for t in terms(context) if t not in own]
        lexical = self.index.lexical  # the one source of term statistics
        n = max(lexical.size, 1)

        def idf(term: str) -> float:
            df = lexical.frequency(term)
            return math.log(1 + (n - df + 0.5) / (df + 0.5))

        weights = {t: idf(t) for t in own}
        for t in borrowed:
            weights[t] = self.config.context_weight * idf(t)
        return weights

    def widen(self, pick: Pick) -> Pick:
        """Join a too-short sentence with the next one in its article (when it fits)."""
        cfg = self.config
        if pick.span.end - pick.span.start >= cfg.min_chars:
            return pick
        following = self.index.sentences_in(pick.article_rowid, pick.span.end,
                                            pick.span.end + cfg.max_chars)
        if following and following[0].span.end - pick.span.start <= cfg.max_chars:
            span = Span(pick.span.start, following[0].span.end)
            return Pick(pick.article_rowid, span, pick.score, pick.dense, pick.lexical,
                        pick.passage_rank)
        return pick

    def narrow(self, pick: Pick, question: str, context: str = "") -> Pick:
        """A sentence longer than an answer shows narrowed to the part of it centred on
        its densest cluster of the question's terms (``qa.narrow``; weighted as
        ``term_weights``)."""
        limit = self.config.max_chars
        if pick.span.end - pick.span.start <= limit:
            return pick
        text = self.index.store.article_text(pick.article_rowid)[pick.span.start:pick.span.end]
        start, end = narrowed(text, self.term_weights(question, context), limit)
        return replace(pick, span=Span(pick.span.start + start, pick.span.start + end))


class ArticleTexts(dict):
    """Article texts by rowid, each read from the store on first use."""

    def __init__(self, read: Callable[[int], str]) -> None:
        super().__init__()
        self._read = read

    def __missing__(self, rowid: int) -> str:
        self[rowid] = text = self._read(rowid)
        return text


def sentence_text(chunk: Chunk, article_rowid: int, start: int, end: int,
                  texts: ArticleTexts) -> str:
    """A sentence's text: from the chunk it was found in when it lies inside it (no
    read), else from its article."""
    if chunk.start <= start and end <= chunk.end:
        return chunk.text[start - chunk.start:end - chunk.start]
    return texts[article_rowid][start:end]


def _segment_max(values: np.ndarray, first: np.ndarray, counts: np.ndarray) -> list[float]:
    """The largest of ``values[first[i]:first[i] + counts[i]]`` for each i (0.0 when
    empty)."""
    return [max(values[f:f + n].tolist(), default=0.0)
            for f, n in zip(first.tolist(), counts.tolist(), strict=True)]


def _already_given(sentence: str, answers: tuple[str, ...]) -> bool:
    return any(sentence in answer for answer in answers)
