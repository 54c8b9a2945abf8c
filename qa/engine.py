"""The read side's front door: a conversation in, a grounded answer (or abstention) out."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np

from index.embedder import Embedder, resolve_model
from index.integrity import WITHHELD
from index.reader import IndexReader
from index.records import Span
from index.store import StoredChunk
from qa.answer_types import answer_span, answer_type
from qa.attribution import attribution, earlier_answer, locate
from qa.attribution import confidence as attribution_confidence
from qa.conversation import Query, build_query
from qa.extract import ArticleTexts, Evidence, ExtractionConfig, Extractor, Pick
from qa.limits import MAX_QUESTION_CHARS, PASSAGE_MAX_CHARS, TOP_K_DEFAULT
from qa.links import sentence_link
from qa.people import given_names
from qa.retriever import RetrievalConfig, Retriever
from qa.scope import Filters, Scope, today, visible, within
from qa.scorer import (
    FEATURES,
    AnswerScorer,
    SentenceCandidate,
    candidates,
    features,
    packaged_scorer,
)
from qa.timewords import Window, time_window
from qa.types import Answer, AnswerSpan, Citation, CopyRef, Message, Passage
from qa.word_vectors import WordVectors, word_vectors

# The abstention threshold of the hand-set scoring (tuned with it on held-out questions).
RULES_MIN_CONFIDENCE = 0.35
ABSTENTION = "I don't know: the articles I have don't answer that."
MAX_COPIES_LISTED = 20
# Passages searched for the article an earlier answer was quoted from (it is nearly
# always the first: the answer's own words are the query).
LOCATE_DEPTH = 10
log = logging.getLogger("qa.engine")
NO_MATCH = "I don't know: no article matches the date and filters of this question."


@dataclass(frozen=True)
class AnswerConfig:
    """Answering knobs: retrieval, extraction, and the abstention threshold."""

    top_k: int = TOP_K_DEFAULT
    # Below it the service abstains. None: the learned scorer's own threshold where it
    # picks the answer (chosen on its training side), else RULES_MIN_CONFIDENCE.
    min_confidence: float | None = None
    max_question_chars: int = MAX_QUESTION_CHARS
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    extraction: ExtractionConfig = field(default_factory=ExtractionConfig)


def confidence_of(pick: Pick, top: Evidence) -> float:
    """A 0..1 confidence from the answer sentence's and the top passage's evidence.

    Sentence similarity and term coverage dominate; the passage's own similarity
    guards against a lucky sentence in an unrelated story.
    """
    raw = 0.45 * pick.dense + 0.35 * pick.lexical + 0.2 * top.candidate.dense
    return round(min(1.0, max(0.0, raw)), 4)


# ``Engine(scorer=...)`` not given: the packaged scorer; None: the hand-set rules only.
DEFAULT_SCORER = object()


class Engine:
    """Answers questions over one opened index with one embedder."""

    def __init__(self, index: IndexReader, embedder: Embedder,
                 config: AnswerConfig | None = None,
                 scorer: AnswerScorer | object | None = DEFAULT_SCORER) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config or AnswerConfig()
        self.retriever = Retriever(index, self.config.retrieval)
        self.extractor = Extractor(index, self.config.extraction)
        self.scorer = packaged_scorer() if scorer is DEFAULT_SCORER else scorer
        if self._scorer_fits:
            _ = self.word_vectors  # read now (a fraction of a second), not on a question
            given_names()  # the same (0.3 s, once per process)

    @property
    def version(self) -> str:
        """The index version this engine answers from."""
        return self.index.version

    def close(self) -> None:
        """Release the index this engine reads (its files may be deleted afterwards)."""
        self.index.close()

    def answer(self, messages: Sequence[Message], top_k: int | None = None,
               scope: Scope | None = None) -> Answer:
        """Answer the last user turn of a conversation, citing exact article spans.

        ``top_k`` None means the configured default; ``scope`` says what may be searched
        (default: everything published up to today, UTC). Raises ConversationError when
        the conversation cannot be answered (no question, too long, invalid text).
        """
        query = build_query(messages, self.config.max_question_chars)
        k = self.config.top_k if top_k is None else top_k
        scope = scope or Scope()
        as_of = scope.as_of or today()
        ident = answer_id(messages, k, scope.filters, as_of, self.version)
        allowed = visible(self.index.catalog, self.index.store, scope, as_of)
        if not allowed.any() and self.index.manifest.articles:
            return Answer(NO_MATCH, False, 0.0, [], [], self.version, query.retrieval,
                          "no_matching_articles", as_of.isoformat(), ident)
        quoted = earlier_answer(messages)
        if quoted is not None:  # "And who said that?": answered by rule, or as usual
            said = self._who_said(quoted, query.question, k, allowed, as_of, ident)
            if said is not None:
                return said
        ranked = self._ranked(query, k, allowed, as_of)
        passages = [_passage(e) for e in ranked[:k]]
        if self._learned(query):
            pick, confidence, floor = self._learned_pick(query.question, ranked)
        else:
            pick = self.extractor.pick(ranked, same_story=bool(query.context))
            confidence = confidence_of(pick, ranked[0]) if pick else 0.0
            floor = None
        if pick is None or confidence < self.threshold(floor):
            return Answer(ABSTENTION, False, confidence, [], passages, self.version,
                          query.retrieval, "low_confidence", as_of.isoformat(), ident)
        pick = self.extractor.narrow(pick, query.question, query.context)
        return self._cited_answer(pick, confidence, passages, allowed, query.question,
                                  query.retrieval, as_of, ident)

    def _cited_answer(self, pick: Pick, confidence: float, passages: list[Passage],
                      allowed: np.ndarray, question: str, retrieval: str, as_of: date,
                      ident: str) -> Answer:
        """The grounded answer citing ``pick``, or an abstention (``withheld``, without
        that article's passages) when the article's text is not what the build recorded."""
        cited = self._cite(pick, allowed, question)
        if cited is None:
            rejected = self.index.catalog.article_id[pick.article_rowid]
            return Answer(ABSTENTION, False, confidence, [],
                          [p for p in passages if p.article_id != rejected], self.version,
                          retrieval, "withheld", as_of.isoformat(), ident)
        citation, span = cited
        return Answer(f"{citation.quote} [1]", True, confidence, [citation], passages,
                      self.version, retrieval, None, as_of.isoformat(), ident, span)

    def threshold(self, learned: float | None) -> float:
        """The confidence below which the answer is withheld ("I don't know"): the
        configured one, else the learned scorer's for the question (``learned``), else
        the hand-set rules' one."""
        if self.config.min_confidence is not None:
            return self.config.min_confidence
        return RULES_MIN_CONFIDENCE if learned is None else learned

    @property
    def thresholds(self) -> dict[str, float]:
        """The thresholds questions on their own are held to, by kind of corpus."""
        if self.config.min_confidence is None and self._scorer_fits:
            return dict(self.scorer.min_confidence)
        return {"any": self.threshold(None)}

    def evidence(self, question: str, scope: Scope | None = None,
                 k: int | None = None) -> list[Evidence]:
        """A single question's reranked passages, as ``answer`` ranks them (for the
        scorer's training data and diagnostics)."""
        query = build_query([Message("user", question)], self.config.max_question_chars)
        scope = scope or Scope()
        as_of = scope.as_of or today()
        allowed = visible(self.index.catalog, self.index.store, scope, as_of)
        return self._ranked(query, self.config.top_k if k is None else k, allowed, as_of)

    def _ranked(self, query: Query, k: int, allowed: np.ndarray,
                as_of: date) -> list[Evidence]:
        """Retrieve, rerank by sentence evidence and fold wire copies: passages best first."""
        window = time_window(query.question, as_of)
        prefer, prefer_weight = self._preference(window, as_of, allowed)
        # A follow-up retrieves with its borrowed context, but the answer must fit the
        # question itself: both texts go to the model in one call.
        if query.context:
            vector, qvector = self.embedder.embed_batch([query.retrieval, query.question])
        else:
            vector = qvector = self.embedder.embed_one(query.retrieval)
        depth = max(k, self.config.extraction.rerank_depth, self.config.extraction.passages)
        candidates = self.retriever.search(query.retrieval, vector, depth,
                                           None if allowed.all() else allowed, prefer,
                                           prefer_weight)
        # Wire copies of one story answer once: their later passages make room for others.
        meant = (window.start, window.end) if window else (as_of, as_of)
        return fold_copies(self.extractor.rerank(query, qvector, candidates, meant),
                           self.index.catalog.article_group)

    def _learned(self, query: Query) -> bool:
        """Whether the learned scorer picks this answer: a question on its own, with the
        model the scorer was trained on (follow-ups keep the hand-set rules: the scorer
        has seen no conversation)."""
        return self._scorer_fits and not query.context and not query.answered

    @property
    def _scorer_fits(self) -> bool:
        """A scorer is loaded and was trained on this engine's model's similarities."""
        return self.scorer is not None and self.scorer.embedder == self.embedder.name

    def _learned_pick(self, question: str,
                      ranked: list[Evidence]) -> tuple[Pick | None, float, float | None]:
        """The candidate sentence the scorer's ranker puts first, the calibrated
        probability that it holds the answer as the confidence, and the scorer's threshold
        for this question."""
        cands, rows = self.scorer_rows(question, ranked)
        if not cands:
            return None, 0.0, None
        best, probability = self.scorer.choose(rows)
        c = cands[best]
        pick = Pick(c.article_rowid, Span(c.start, c.end), probability, c.dense, c.lexical,
                    c.passage_rank)
        return self.extractor.widen(pick), round(probability, 4), self.scorer.threshold(rows)

    def scorer_rows(self, question: str, ranked: list[Evidence]
                    ) -> tuple[list[SentenceCandidate], np.ndarray]:
        """The candidate sentences of a question's reranked passages and their rows of the
        scorer's features."""
        readings = self.index.readings
        cands = candidates(ranked, ArticleTexts(self.index.store.article_text), readings)
        if not cands:
            return cands, np.zeros((0, len(FEATURES)))
        return cands, features(question, cands, ranked, self.copy_counts(cands), readings,
                               self.extractor.term_weights(question), self.word_vectors)

    @cached_property
    def word_vectors(self) -> WordVectors | None:
        """The embedding model's word vectors (``qa.word_vectors``), for the scorer's
        features; None for a model without them."""
        return word_vectors(resolve_model(self.embedder.name)[0])

    def copy_counts(self, cands: list[SentenceCandidate]) -> dict[int, int]:
        """How many wire copies each candidate's article has."""
        return {r: len(self.index.catalog.copies_of(r))
                for r in {c.article_rowid for c in cands}}

    def _who_said(self, quoted: str, question: str, k: int, allowed: np.ndarray,
                  as_of: date, ident: str) -> Answer | None:
        """The sentence attributing an earlier answer (:mod:`qa.attribution`), cited; None
        when the answer is not found word for word in an article it may cite, or no
        sentence near it names a speaker (the question is then answered as usual)."""
        vector = self.embedder.embed_one(quoted)
        # The earlier answer is itself the best query for the passage that holds it.
        candidates = self.retriever.search(quoted, vector, max(k, LOCATE_DEPTH),
                                           None if allowed.all() else allowed)
        articles = list(dict.fromkeys(c.stored.article_rowid for c in candidates))
        found = locate(quoted, articles, self.index.store.article_text)
        if found is None:
            return None
        rowid, start, end = found
        text = self.index.store.article_text(rowid)
        sentences = [(s.span.start, s.span.end)
                     for s in self.index.sentences_in(rowid, 0, len(text))]
        chosen = attribution(text, sentences, start, end)
        if chosen is None:
            return None
        (first, last), distance = chosen
        confidence = attribution_confidence(distance)
        if confidence < self.threshold(None):
            return None
        passages = [_chunk_passage(c.stored, c.fused) for c in candidates[:k]]
        pick = Pick(rowid, Span(first, last), confidence, 0.0, 0.0, 0)
        return self._cited_answer(pick, confidence, passages, allowed, question, quoted,
                                  as_of, ident)

    def _cite(self, pick: Pick, allowed: np.ndarray,
              question: str) -> tuple[Citation, AnswerSpan | None] | None:
        """The citation of a picked span (with the story's other visible copies and a link
        to the sentence) and the short answer inside it, if there is one; None (the
        citation withheld, counted and logged) when the article's text fails its hash."""
        try:
            article = self.index.store.article_by_rowid(pick.article_rowid)
            intact = self.index.text_intact(pick.article_rowid, article.text)
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # a damaged page
            article, intact = None, False
            log.debug("article row %d unreadable: %s", pick.article_rowid, exc)
        if not intact:
            WITHHELD.add()
            ident = self.index.catalog.article_id[pick.article_rowid]
            log.error("citation withheld: the text of article %s in build %s does not match "
                      "its recorded hash", ident, self.version)
            return None
        quote = article.text[pick.span.start : pick.span.end]
        copies = [r for r in self.index.catalog.copies_of(pick.article_rowid) if allowed[r]]
        also_in = [CopyRef(**ref) for ref in
                   self.index.store.article_refs(copies[:MAX_COPIES_LISTED])]
        citation = Citation(1, article.id, article.title, article.url, article.published,
                            pick.span.start, pick.span.end, quote, article.source,
                            sentence_link(article.url, quote), also_in)
        inside = answer_span(answer_type(question), quote, question)
        span = (AnswerSpan(article.id, pick.span.start + inside[0],
                           pick.span.start + inside[1], quote[inside[0] : inside[1]])
                if inside else None)
        return citation, span

    def _preference(self, window: Window | None, as_of: date,
                    allowed: np.ndarray) -> tuple[np.ndarray | None, float]:
        """The articles a question's time words point at (or, without any, the most
        recent ones), within what it may see, and the weight of that preference."""
        cfg = self.config.retrieval
        if window is not None:
            start, end, weight = window.start, window.end, cfg.window_weight
        else:
            start, end, weight = as_of - timedelta(days=cfg.recent_days), as_of, \
                cfg.recency_weight
        if weight <= 0:
            return None, 0.0
        prefer = within(self.index.catalog, start, end) & allowed
        return (prefer if prefer.any() else None), weight


def fold_copies(ranked: list[Evidence], group_of: np.ndarray) -> list[Evidence]:
    """Keep the passages of the best-ranked copy of each story (other articles of its
    wire-copy group are dropped; passages of that same article stay)."""
    chosen: dict[int, int] = {}
    kept = []
    for evidence in ranked:
        article = evidence.candidate.stored.article_rowid
        group = int(group_of[article])
        if chosen.setdefault(group, article) == article:
            kept.append(evidence)
    return kept


def answer_id(messages: Sequence[Message], k: int, filters: Filters, as_of: date,
              version: str) -> str:
    """A stable id for the answer to this conversation, in this scope, from this index."""
    key = json.dumps([[(m.role, m.content) for m in messages], k, as_of.isoformat(),
                      asdict(filters), version], default=str, sort_keys=True)
    return "ans_" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _passage(evidence: Evidence) -> Passage:
    return _chunk_passage(evidence.candidate.stored, evidence.score)


def _chunk_passage(stored: StoredChunk, score: float) -> Passage:
    chunk = stored.chunk
    end = min(chunk.end, chunk.start + PASSAGE_MAX_CHARS)
    return Passage(chunk.article_id, chunk.id, stored.title, chunk.start, end,
                   chunk.text[: end - chunk.start], round(score, 6))
