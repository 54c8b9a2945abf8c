"""The learned answer scorer: which sentence answers, and how likely it is to be right.

The candidates are the sentences of the top reranked passages. Each gets a row of
features the pipeline already has or computes cheaply (its similarity and term coverage,
its passage's rank and scores, the answer type asked for and whether the sentence holds
one, how much of it is new to the question, where it sits in its article, attribution).
Gradient-boosted trees over them (LightGBM's, trained on labelled questions by
``bench/scorer_train.py``, evaluated here with numpy) do two things. A ranker (trained
listwise, on which candidate of a question is right) picks the answer; trees trained on
each candidate alone (is it right?) score it, and a map fitted on a held-apart fold
(Platt for news, isotonic for reference text) turns that score into the
probability that the answer is right: its ``confidence`` (for news, the score first
moved by offsets fitted on the trees' held-out candidates: whether a sentence for a
question that asks who names a person, ``qa.people``). Two models because a
ranker's scores compare the candidates of one question only, and a confidence must
compare across questions.
News and reference text (``DOMAINS``: whether the candidates' articles are dated) each
have their own trees, map and threshold: the same feature means different things in
each, and news trees trained on reference text's nearness features did worse.
Trees, not a linear model: what a feature means depends on the others (a "how many"
question answered by a sentence without a number is wrong however similar the sentence
is).

The model is a small JSON file in the package (the trees as arrays, feature names, the
calibration points), loaded once and evaluated with numpy for all trees and candidates
at once: deterministic, and well under a millisecond per question.
It was trained on one embedding model's similarities, so it is used only with that model
(the engine falls back to the hand-set scoring with any other).
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from index.reading import (
    ATTRIBUTION,
    IS_QUESTION,
    LOOKS_BACK,
    QUOTE,
    Readings,
    SentenceReading,
    names_and_numbers,
    read_sentence,
)
from index.terms import terms
from qa.answer_types import DATE, KIND_AT, NAME, NUMBER, against, answer_type, wants_person
from qa.extract import ArticleTexts, Evidence, sentence_text
from qa.people import new_person
from qa.word_vectors import WordVectors

log = logging.getLogger("qa.scorer")
MODEL_FILE = Path(__file__).resolve().parent / "models" / "answer-scorer.json"
FORMAT = "answer-scorer/8"
# How many reranked passages the answer may come from (their sentences are the candidates).
PASSAGES = 5
# How many reranked passages vote for a possible answer by mentioning it.
WIDE = 20

# The question is about the latest news ("this week", "now"): an earlier event is not it.
_ASKS_NOW = re.compile(r"\b(this (week|month|year|time|season)|now|currently|latest|"
                       r"recently|newly|just|today)\b", re.IGNORECASE)
# "This time" sets the asked occasion against an earlier one: a sentence telling of the
# earlier one ("In August, ... evacuated more than 500") is not its answer. No question
# of the training sets says it, so the trees cannot learn it: ``demoted`` applies it.
_THIS_TIME = re.compile(r"\bthis time\b", re.IGNORECASE)
_WHO_SAID = re.compile(r"\bwho\b.*\b(said|say|says|told|wrote|announced)\b", re.IGNORECASE)

FEATURES = (
    "dense", "lexical", "base", "dense_gap", "lexical_gap", "base_gap", "sentence_rank",
    "passage_rank", "passage_score", "passage_dense", "passage_fused", "passage_lexical",
    "recency", "kind_number", "kind_date", "kind_name", "kind_none",
    "holds_number", "holds_date", "holds_name", "lacks_number", "lacks_date", "lacks_name",
    "new_terms", "echo", "question_terms", "length", "position", "attribution",
    "quote", "who_said", "is_question", "top_dense", "top_margin", "copies",
    "bigrams", "longest_run", "prev_dense", "next_dense", "prev_lexical", "next_lexical",
    "wh_what", "wh_which", "wh_who", "wh_when", "wh_where", "wh_why", "wh_how",
    "looks_back", "wh_echo", "new_number", "new_date", "new_name", "asks_now", "support",
    "support_share", "answer_tokens", "support_wide", "support_articles", "dated",
    "counted", "named", "this_time", "asked_share", "window_share", "covered",
    "near_share", "near_missing", "near_missing_max", "near_gap", "bag", "bag_gap",
    "near_window", "near_weighted", "near_weighted_gap", "near_window_weighted",
    "holds_person", "lacks_person",
)
_RECENCY = FEATURES.index("recency")
_WH = ("what", "which", "who", "when", "where", "why", "how")
_WH_WORD = re.compile(r"\b(what|which|who|whom|whose|when|where|why|how)\b", re.IGNORECASE)
# Two sentences are neighbours when at most this many characters lie between them.
_NEIGHBOUR_GAP = 5


@dataclass(frozen=True)
class SentenceCandidate:
    """A sentence of a top passage, where it is, and the passage it was found in."""

    article_rowid: int
    start: int
    end: int
    text: str
    dense: float
    lexical: float
    base: float
    passage_rank: int  # of the best-ranked passage holding it
    reading: SentenceReading


def candidates(ranked: list[Evidence], texts: ArticleTexts, readings: Readings | None = None,
               passages: int = PASSAGES) -> list[SentenceCandidate]:
    """The distinct sentences of the top ``passages`` reranked passages, in rank order,
    with their readings (the build's ``readings``, else read here).

    A sentence that crosses its chunk's edge is read from its article (``texts``)."""
    out: list[SentenceCandidate] = []
    seen: set[tuple[int, int]] = set()
    for rank, ev in enumerate(ranked[:passages]):
        chunk = ev.candidate.stored.chunk
        for s in ev.sentences:
            key = (s.sentence.article_rowid, s.sentence.span.start)
            if key in seen:
                continue
            seen.add(key)
            start, end = s.sentence.span.start, s.sentence.span.end
            text = sentence_text(chunk, s.sentence.article_rowid, start, end, texts)
            reading = readings.sentence(s.sentence.rowid) if readings else None
            if reading is None:  # a build without readings, or a damaged row
                reading = _reading(text)
            out.append(SentenceCandidate(s.sentence.article_rowid, start, end, text,
                                         s.dense, s.lexical, s.score, rank, reading))
    return out


@lru_cache(maxsize=64)
def _question_terms(question: str) -> frozenset[str]:
    return frozenset(terms(question))


@lru_cache(maxsize=64)
def _question_shape(question: str) -> tuple[frozenset[tuple[str, str]], tuple[str, ...],
                                            tuple[bool, ...], str]:
    """The question's term bigrams, its terms in order, its wh-word (one-hot), and its
    wh-phrase ("how many people"): a sentence holding that phrase echoes the question
    ("...how many people died then...") rather than answering it."""
    own = tuple(terms(question))
    found = _WH_WORD.search(question)
    word = found.group(1).lower() if found else ""
    word = "who" if word in ("whom", "whose") else word
    phrase = " ".join(question[found.start():].lower().split()[:3]) if found else ""
    return frozenset(itertools.pairwise(own)), own, tuple(word == w for w in _WH), phrase


# Without a build's readings: a question meets 20-40 candidate sentences and 20
# passages; those of popular passages recur.
_reading = lru_cache(maxsize=8192)(read_sentence)
_passage_names = lru_cache(maxsize=4096)(names_and_numbers)


def _where(own: tuple[str, ...], asked: frozenset[str]) -> dict[str, list[int]]:
    """The positions in a sentence's terms (``own``) of each question term it holds."""
    where: dict[str, list[int]] = {}
    for i, term in enumerate(own):
        if term in asked:
            where.setdefault(term, []).append(i)
    return where


def _bigrams(bigrams: frozenset[tuple[str, str]], own: tuple[str, ...],
             where: dict[str, list[int]]) -> int:
    """How many of the question's term bigrams the sentence holds."""
    last = len(own) - 1
    return len(bigrams.intersection((own[i], own[i + 1]) for at in where.values()
                                    for i in at if i < last))


def _longest_run(asked: tuple[str, ...], own: tuple[str, ...],
                 where: dict[str, list[int]]) -> int:
    """The longest run of consecutive question terms found consecutively in the sentence."""
    best = 0
    for j, term in enumerate(asked):
        for i in where.get(term, ()):
            n = 1
            while i + n < len(own) and j + n < len(asked) and own[i + n] == asked[j + n]:
                n += 1
            best = max(best, n)
    return best


def _neighbours(cands: list[SentenceCandidate]) -> tuple[list[int], list[int]]:
    """For each candidate, the position of the candidate just before and just after it in
    its article (-1 when that sentence is not a candidate)."""
    order = sorted(range(len(cands)), key=lambda i: (cands[i].article_rowid, cands[i].start))
    before, after = [-1] * len(cands), [-1] * len(cands)
    for a, b in itertools.pairwise(order):
        x, y = cands[a], cands[b]
        if x.article_rowid == y.article_rowid and 0 <= y.start - x.end <= _NEIGHBOUR_GAP:
            before[b], after[a] = a, b
    return before, after


def _support(held: list[frozenset[str]], cands: list[SentenceCandidate],
             ranked: list[Evidence], readings: Readings | None) -> tuple[np.ndarray, ...]:
    """For each candidate, how well the top passages back its best-backed possible answer
    (a name or number the question lacks): the share of the candidates' passages with a
    candidate sentence holding it, the share of the candidate sentences holding it, how
    many possible answers it holds, the share of the top ``WIDE`` passages that name it
    (as a capitalised word or a number; of ``WIDE``, however many were found: three
    passages of one short article naming it are not the agreement of twenty) and the
    number of their articles that do (log; a count, not a share: in an archive of one
    article every name would have the backing of all its articles). News tells the same
    fact in many stories: the name the top passages agree on is likelier the answer than
    one a single sentence mentions.
    ``held``: each candidate's possible answers (``answer_tokens``); ``readings``: the
    build's, with each passage's names and numbers."""
    every = frozenset().union(*held)
    passages: dict[str, set[int]] = {t: set() for t in every}
    sentences = dict.fromkeys(every, 0)
    for c, tokens in zip(cands, held, strict=True):
        for t in tokens:
            passages[t].add(c.passage_rank)
            sentences[t] += 1
    # Each top passage votes once for each possible answer it mentions (set
    # intersections: a question meets a few dozen possible answers and 20 passages).
    wide = dict.fromkeys(every, 0)
    articles: dict[str, set[int]] = {t: set() for t in every}
    top = ranked[:WIDE]
    for ev in top:
        stored = ev.candidate.stored
        named = readings.chunk_names(stored.rowid) if readings else None
        if named is None:
            named = _passage_names(stored.chunk.text)
        for t in every & named:
            wide[t] += 1
            articles[t].add(ev.candidate.stored.article_rowid)
    ranks = len({c.passage_rank for c in cands}) or 1
    out = np.zeros((5, len(cands)))
    for i, tokens in enumerate(held):
        if tokens:
            out[:, i] = (max(len(passages[t]) for t in tokens) / ranks,
                         max(sentences[t] for t in tokens) / len(cands), len(tokens),
                         max(wide[t] for t in tokens) / WIDE,
                         math.log1p(max(len(articles[t]) for t in tokens)))
    return tuple(out)


def _nearness(asked: tuple[str, ...], weights: Mapping[str, float] | None,
              read: list[SentenceReading], own: list[frozenset[str]],
              before: np.ndarray, after: np.ndarray,
              vectors: WordVectors | None) -> dict[str, np.ndarray]:
    """How near each sentence's words come to the question's, the same words or not
    (``qa.word_vectors``): per question term the nearest of the sentence's terms, as the
    mean over the question's terms, over those the sentence lacks (and their best), the
    mean weighted by the terms' IDF (``weights``), the same over the sentence and its
    neighbours, each relative to the best candidate's; and the cosine of the sentence's
    mean word vector with the question's. Without ``vectors`` only the same words count."""
    n = len(read)
    if not asked:
        return {name: np.zeros(n) for name in NEARNESS}
    if vectors is not None:
        near, bag = vectors.compare(asked, [r.terms for r in read])
    else:
        near, bag = np.zeros((n, len(asked))), np.zeros(n)
    exact = np.array([[a in o for a in asked] for o in own], dtype=bool)
    near = np.where(exact, 1.0, near)
    w = np.array([(weights or {}).get(a, 1.0) for a in asked])
    w = w / (w.sum() or 1.0)
    window = near.copy()
    for at in (before, after):
        has = at >= 0
        window[has] = np.maximum(window[has], near[at[has]])
    missing = ~exact
    lacked = missing.any(axis=1)
    share, weighted = near.mean(axis=1), near @ w
    return {"near_share": share,
            "near_missing": np.where(lacked, (near * missing).sum(axis=1)
                                     / np.maximum(missing.sum(axis=1), 1), 1.0),
            "near_missing_max": np.where(lacked, np.where(missing, near, 0.0).max(axis=1),
                                         1.0),
            "near_gap": share - share.max(), "bag": bag, "bag_gap": bag - bag.max(),
            "near_window": window.mean(axis=1), "near_weighted": weighted,
            "near_weighted_gap": weighted - weighted.max(),
            "near_window_weighted": window @ w}


# The nearness features, for reference text only: with them (and its trees learning
# from SQuAD's questions alone) its picks right never abstaining rose from 0.783 to
# 0.805 on the SQuAD test half, its answers right from 0.770 to 0.794. Learned for news
# as well, news answers and the seed article's picks came out worse (0.438 -> 0.422
# right on the 2025 quick loop, calibration error 0.05 -> 0.08, the seed article's
# first three questions wrong).
NEARNESS = ("near_share", "near_missing", "near_missing_max", "near_gap", "bag", "bag_gap",
             "near_window", "near_weighted", "near_weighted_gap", "near_window_weighted")


def features(question: str, cands: list[SentenceCandidate], ranked: list[Evidence],
             copies: dict[int, int] | None = None, readings: Readings | None = None,
             weights: Mapping[str, float] | None = None,
             vectors: WordVectors | None = None) -> np.ndarray:
    """One row of ``FEATURES`` per candidate (float64), built a column at a time
    (``readings``: the build's, else passages are read here; ``weights``: the IDF of
    the question's terms, else all alike; ``vectors``: the model's word vectors, else
    only the same words are near)."""
    if not cands:
        return np.zeros((0, len(FEATURES)))
    n = len(cands)
    kind = answer_type(question)
    asked = _question_terms(question)
    bigrams, ordered, wh, phrase = _question_shape(question)
    col: dict[str, np.ndarray | float] = {}
    dense = np.array([c.dense for c in cands])
    lexical = np.array([c.lexical for c in cands])
    base = np.array([c.base for c in cands])
    col.update(dense=dense, lexical=lexical, base=base, dense_gap=dense - dense.max(),
               lexical_gap=lexical - lexical.max(), base_gap=base - base.max())
    sentence_rank = np.empty(n)
    sentence_rank[np.argsort(-base, kind="stable")] = np.arange(n)
    col["sentence_rank"] = 1.0 / (1.0 + sentence_rank)
    # The passage each sentence was found in, and the top passages' scores.
    rank = np.array([c.passage_rank for c in cands])
    top_passages = ranked[:PASSAGES]
    score = np.array([e.score for e in top_passages])
    fused = np.array([e.candidate.fused for e in top_passages])
    passage_lexical = np.array([e.candidate.lexical for e in top_passages])
    top_score = ranked[0].score or 1.0
    second = ranked[1].score if len(ranked) > 1 else 0.0
    recency = np.array([e.recency for e in top_passages])[rank]
    col.update(passage_rank=1.0 / (1.0 + rank), passage_score=score[rank] / top_score,
               passage_dense=np.array([e.candidate.dense for e in top_passages])[rank],
               passage_fused=fused[rank] / (fused.max() or 1.0),
               passage_lexical=passage_lexical[rank] / (passage_lexical.max() or 1.0),
               recency=recency, top_dense=ranked[0].candidate.dense,
               top_margin=(ranked[0].score - second) / top_score,
               # The kind of corpus (``domain_of``: news, whose articles are dated near the
               # question, or reference text): the same support means different things in
               # each. Unlike ``recency`` (not learned), it says nothing of how near.
               dated=float(recency.max() > 0))
    # The answer type asked for, and whether each sentence holds (or lacks) one.
    read = [c.reading for c in cands]
    reads = [against(r.kinds, question) for r in read]
    held = np.array([r[:3] for r in reads], dtype=bool)  # a number, a date, a name
    for k in (NUMBER, DATE, NAME):
        asks = kind == k
        col[f"kind_{k}"] = float(asks)
        col[f"holds_{k}"] = held[:, KIND_AT[k]] & asks
        col[f"lacks_{k}"] = ~held[:, KIND_AT[k]] & asks
        col[f"new_{k}"] = held[:, KIND_AT[k]]
    col["kind_none"] = float(kind is None)
    # "The name of the Taliban leader" wants a person: a sentence naming no one is not it.
    # News only (reference text's scorer has no offset for it).
    person = bool(col["dated"]) and wants_person(question)
    named_one = np.array([person and new_person(c.text, question) for c in cands], dtype=bool)
    col.update(holds_person=named_one, lacks_person=~named_one & person)
    # How the sentence's words meet the question's.
    size = np.array([len(r.terms) for r in read], dtype=np.float64)
    where = [_where(r.terms, asked) for r in read]
    echoed = np.array([sum(map(len, w.values())) for w in where], dtype=np.float64)
    col.update(new_terms=np.log1p(size - echoed), echo=echoed / np.maximum(size, 1),
               question_terms=math.log1p(len(asked)),
               length=np.log1p([len(c.text) for c in cands]),
               position=np.log1p([c.start for c in cands]),
               bigrams=[_bigrams(bigrams, r.terms, w) for r, w in zip(read, where, strict=True)],
               longest_run=[_longest_run(ordered, r.terms, w)
                            for r, w in zip(read, where, strict=True)],
               wh_echo=[bool(phrase) and phrase in c.text.lower() for c in cands],
               attribution=[r.has(ATTRIBUTION) for r in read],
               quote=[r.has(QUOTE) for r in read],
               is_question=[r.has(IS_QUESTION) for r in read],
               looks_back=[r.has(LOOKS_BACK) for r in read],
               # For "how many Russians", a number the question's terms follow.
               counted=[kind == NUMBER and not asked.isdisjoint(r.counted) for r in read],
               # For "the name of the Taliban leader", a name the question lacks beside
               # a term of the question.
               named=[kind == NAME and any(name not in asked and term in asked
                                           for name, term in r.named)
                      for r in read],
               this_time=float(bool(_THIS_TIME.search(question))),
               who_said=float(bool(_WHO_SAID.search(question))),
               asks_now=float(bool(_ASKS_NOW.search(question))),
               copies=np.log1p([(copies or {}).get(c.article_rowid, 0) for c in cands]))
    col.update(zip((f"wh_{w}" for w in _WH), map(float, wh), strict=True))
    # The sentences just before and after, when they are candidates too.
    before, after = (np.array(x) for x in _neighbours(cands))
    for name, at in (("prev", before), ("next", after)):
        col[f"{name}_dense"] = np.where(at >= 0, dense[at], 0.0)
        col[f"{name}_lexical"] = np.where(at >= 0, lexical[at], 0.0)
    # How much of the question the sentence, the sentence with its neighbours, and all
    # the candidates hold: a question whose words the top passages mostly lack ("the
    # name of the Taliban leader" of a story naming none) is about something else.
    own = [frozenset(w) for w in where]  # the question's terms each sentence holds
    window = [own[i].union(*(own[j] for j in (before[i], after[i]) if j >= 0))
              for i in range(n)]
    size_asked = len(asked) or 1
    col.update(asked_share=[len(o) / size_asked for o in own],
               window_share=[len(w) / size_asked for w in window],
               covered=len(frozenset().union(*own)) / size_asked)
    # Reference text only (``dated`` is 0): its questions paraphrase the sentence that
    # answers them, and its trees learn from these; news trees do not (``NEARNESS``).
    if col["dated"]:
        col.update(dict.fromkeys(NEARNESS, 0.0))
    else:
        col.update(_nearness(tuple(dict.fromkeys(ordered)), weights, read, own, before,
                             after, vectors))
    support, share, found, wide, articles = _support([r[3] for r in reads], cands, ranked,
                                                     readings)
    col.update(support=support, support_share=share, answer_tokens=np.log1p(found),
               support_wide=wide, support_articles=articles)
    out = np.empty((n, len(FEATURES)))
    for j, name in enumerate(FEATURES):
        out[:, j] = col[name]
    return out


@dataclass(frozen=True)
class Forest:
    """Gradient-boosted regression trees as padded arrays, ``(trees, nodes)`` each: a
    node splits on ``feature <= threshold`` into ``left`` / ``right``, or is a leaf with
    ``value``. Evaluated for all trees and candidates at once, one step per tree level."""

    feature: np.ndarray  # int
    threshold: np.ndarray
    left: np.ndarray  # int
    right: np.ndarray  # int
    leaf: np.ndarray  # bool
    value: np.ndarray
    depth: int
    baseline: float

    @cached_property
    def _flat(self) -> tuple[np.ndarray, ...]:
        """The nodes of all trees in one run, each node at twice its position (so a step
        is ``children[at + went_right]``, no doubling): each tree's root, each node's
        feature, threshold, children (left then right, as doubled positions; a leaf
        leads to itself) and value. A step is then four gathers."""
        trees, width = self.feature.shape
        own = np.arange(trees * width).reshape(trees, width)
        offset = np.arange(trees) * width
        left = np.where(self.leaf, own, self.left + offset[:, None]).ravel()
        right = np.where(self.leaf, own, self.right + offset[:, None]).ravel()
        threshold = np.where(self.leaf, np.inf, self.threshold).ravel()
        feature = np.where(self.leaf, 0, self.feature).ravel()
        return (2 * offset, np.repeat(feature, 2), np.repeat(threshold, 2),
                2 * np.stack([left, right], axis=1).ravel(), np.repeat(self.value.ravel(), 2))

    def raw(self, rows: np.ndarray) -> np.ndarray:
        """The trees' summed leaf values for each row (log-odds, for trees fitted as a
        classifier)."""
        roots, feature, threshold, children, value = self._flat
        n = len(rows)
        cells = np.ascontiguousarray(rows.T).ravel()  # feature by feature
        at = np.repeat(roots, n)  # every tree's root, for every row
        if n == 1:  # the confidence of one pick: each tree's cell is its feature's
            for _ in range(self.depth):
                at = children[at + (cells[feature[at]] > threshold[at])]
        else:
            place = feature * n  # where each node's feature starts in ``cells``
            column = np.tile(np.arange(n), len(roots))
            for _ in range(self.depth):
                at = children[at + (cells[place[at] + column] > threshold[at])]
        return self.baseline + value[at].reshape(len(roots), n).sum(axis=0)

    def to_dict(self) -> dict:
        return {"feature": self.feature.tolist(), "threshold": self.threshold.tolist(),
                "left": self.left.tolist(), "right": self.right.tolist(),
                "leaf": self.leaf.astype(int).tolist(), "value": self.value.tolist(),
                "depth": self.depth, "baseline": self.baseline}

    @classmethod
    def from_dict(cls, data: dict) -> Forest:
        return cls(np.asarray(data["feature"], dtype=np.int64),
                   np.asarray(data["threshold"], dtype=np.float64),
                   np.asarray(data["left"], dtype=np.int64),
                   np.asarray(data["right"], dtype=np.int64),
                   np.asarray(data["leaf"], dtype=bool),
                   np.asarray(data["value"], dtype=np.float64), int(data["depth"]),
                   float(data["baseline"]))


_LACKS_NUMBER = FEATURES.index("lacks_number")
_DENSE, _LEXICAL = FEATURES.index("dense"), FEATURES.index("lexical")
# A sentence sharing no term with the question and about as similar to it as any
# unrelated text (cosine under this) is not about it. No pick of the training or test
# questions is such a sentence; a question the archive knows nothing of ("Who won the
# 2018 World Cup?" of a story about Kabul) meets only such sentences.
UNRELATED = 0.15
_EARLIER = [FEATURES.index("this_time"), FEATURES.index("looks_back")]
INELIGIBLE = -1e9
# Below every other candidate, above the ineligible ones.
DEMOTED = 1e6


def eligible(raw: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The raw scores with those of sentences that cannot be the answer set to
    ``INELIGIBLE``: for a "how many" question, a sentence without a number the question
    lacks. The string-match labels sometimes credit one ("six" in "Six-time"), so the
    trees alone let an echo of the question through ("...how many people died then...",
    for a question the article has no number for). Not for "when": reference text
    answers it with "after the war" or "during the Renaissance" as often as with a date
    (the same rule for dates cost 2 points of SQuAD answer accuracy). Nor a sentence
    unrelated to the question (``UNRELATED``)."""
    unrelated = (rows[:, _LEXICAL] == 0) & (rows[:, _DENSE] < UNRELATED)
    return np.where((rows[:, _LACKS_NUMBER] > 0) | unrelated, INELIGIBLE, raw)


def demoted(raw: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The ranker's scores with those of sentences about an earlier time ``DEMOTED``
    below the others, for a question about "this time"."""
    return np.where(rows[:, _EARLIER].all(axis=1), raw - DEMOTED, raw)


def calibrated(raw: float | np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Raw scores as probabilities by the map through (xs, ys); 0 for an ineligible one."""
    return np.where(np.asarray(raw) > INELIGIBLE, np.interp(raw, xs, ys), 0.0)


DOMAINS = ("dated", "undated")


def domain_of(rows: np.ndarray) -> str:
    """A question's kind of corpus, from its candidates: ``dated`` (news: some candidate's
    article is dated near the question) or ``undated`` (reference text)."""
    return "dated" if len(rows) and rows[:, _RECENCY].max() > 0 else "undated"


@dataclass(frozen=True)
class AnswerScorer:
    """Per kind of corpus (``DOMAINS``), two sets of boosted trees over ``FEATURES``:
    ``ranker`` orders one question's candidates (which sentence answers), ``forest``
    scores a candidate on its own (how likely it is right, comparable across
    questions); the map of ``forest``'s score to a probability (as points, interpolated)
    and the abstention threshold. Made by ``bench/scorer_train.py``."""

    embedder: str  # the model whose similarities it was trained on
    ranker: dict[str, Forest]  # by domain
    forest: dict[str, Forest]  # by domain
    # By domain: raw scores ascending, and their calibrated probabilities (non-decreasing).
    calibration: dict[str, tuple[np.ndarray, np.ndarray]]
    min_confidence: dict[str, float]  # by domain: chosen on the training side
    trained_on: str = ""
    # By domain: what a feature's value adds to ``forest``'s score before the map, fitted
    # after the trees on their held-out candidates (``lacks_person``: they never learned
    # it).
    offset: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerScorer:
        """Read a saved scorer; raises ValueError for a file of another format."""
        data = json.loads(Path(path).read_text())
        offset = data.get("offset")
        if data.get("format") != FORMAT or tuple(data["features"]) != FEATURES \
                or not isinstance(offset, dict) \
                or not all(isinstance(o, dict) and set(o) <= set(FEATURES)
                           for o in offset.values()):
            raise ValueError(f"{path}: not an {FORMAT} file for these features")
        calibration = {d: (np.asarray(c["x"], dtype=np.float64),
                           np.asarray(c["y"], dtype=np.float64))
                       for d, c in data["calibration"].items()}
        return cls(data["embedder"],
                   {d: Forest.from_dict(f) for d, f in data["ranker"].items()},
                   {d: Forest.from_dict(f) for d, f in data["forest"].items()}, calibration,
                   {d: float(v) for d, v in data["min_confidence"].items()},
                   data.get("trained_on", ""),
                   {d: {f: float(w) for f, w in o.items()} for d, o in data["offset"].items()})

    def to_dict(self) -> dict:
        """The JSON-ready form ``load`` reads."""
        return {"format": FORMAT, "embedder": self.embedder, "features": list(FEATURES),
                "ranker": {d: f.to_dict() for d, f in self.ranker.items()},
                "forest": {d: f.to_dict() for d, f in self.forest.items()},
                "calibration": {d: {"x": x.tolist(), "y": y.tolist()}
                                for d, (x, y) in self.calibration.items()},
                "min_confidence": self.min_confidence, "trained_on": self.trained_on,
                "offset": self.offset}

    def rank(self, rows: np.ndarray, domain: str | None = None) -> np.ndarray:
        """The ranker's score for each row (``eligible``: the lowest for a sentence that
        cannot answer; ``demoted``); only its order within one question means anything.
        ``domain``: the rows' kind of corpus, else ``domain_of`` them."""
        ranker = self.ranker[domain or domain_of(rows)]
        return demoted(eligible(ranker.raw(rows), rows), rows)

    def raw(self, rows: np.ndarray, domain: str | None = None) -> np.ndarray:
        """The confidence trees' log-odds for each row, plus the domain's ``offset``
        (``eligible`` as in ``rank``)."""
        domain = domain or domain_of(rows)
        raw = self.forest[domain].raw(rows)
        if domain in self._offsets:
            columns, weights = self._offsets[domain]
            raw = raw + rows[:, columns] @ weights
        return eligible(raw, rows)

    @cached_property
    def _offsets(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """By domain, the ``offset``'s columns and weights (the features found once)."""
        return {d: (np.array([FEATURES.index(f) for f in o], dtype=np.int64),
                    np.array(list(o.values()), dtype=np.float64))
                for d, o in self.offset.items() if o}

    def calibrate(self, raw: float | np.ndarray, domain: str) -> np.ndarray:
        """Raw scores as probabilities, by the domain's map."""
        return calibrated(raw, *self.calibration[domain])

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """The calibrated probability that each candidate of one question holds the
        answer (the rows are one question's candidates: they share its domain). The map
        was fitted on the ranker's picks: it is the confidence of the one ``choose``
        picks, and for the others an estimate."""
        domain = domain_of(rows)
        return self.calibrate(self.raw(rows, domain), domain)

    def choose(self, rows: np.ndarray) -> tuple[int, float]:
        """One question's answer among its candidates (the ranker's first; the better
        ranked of equals) and the probability that it is right."""
        domain = domain_of(rows)
        best = int(np.argmax(self.rank(rows, domain)))
        return best, float(self.calibrate(self.raw(rows[best:best + 1], domain), domain)[0])

    def threshold(self, rows: np.ndarray) -> float:
        """The abstention threshold for one question's candidates."""
        return self.min_confidence[domain_of(rows)]


@lru_cache(maxsize=4)
def packaged_scorer(path: Path = MODEL_FILE) -> AnswerScorer | None:
    """The scorer shipped with the package, or None when there is none or it cannot be
    read (logged once: the service then answers with the hand-set rules, not at all
    is worse)."""
    if not path.exists():
        return None
    try:
        return AnswerScorer.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("answer scorer %s not used: %s", path.name, exc)
        return None
