"""The learned answer scorer: which sentence answers, and how likely it is to be right.

The candidates are the sentences of the top reranked passages. Each gets a row of
features the pipeline already has or computes cheaply (its similarity and term coverage,
its passage's rank and scores, the answer type asked for and whether the sentence holds
one, how much of it is new to the question, where it sits in its article, attribution).
Gradient-boosted trees over them (scikit-learn's, trained on labelled questions by
``bench/scorer_train.py``) give a raw score; a map fitted on a held-apart fold (Platt for
news, isotonic for reference text) turns it into the probability that the sentence holds
the answer. The best candidate is the answer and that probability is its ``confidence``.
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
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from index.terms import terms
from qa.answer_types import DATE, NAME, NUMBER, answer_type, names_and_numbers, read_sentence
from qa.extract import ArticleTexts, Evidence, sentence_text

log = logging.getLogger("qa.scorer")
MODEL_FILE = Path(__file__).resolve().parent / "models" / "answer-scorer.json"
FORMAT = "answer-scorer/4"
# How many reranked passages the answer may come from (their sentences are the candidates).
PASSAGES = 5
# How many reranked passages vote for a possible answer by mentioning it.
WIDE = 20

_ATTRIBUTION = re.compile(r"\b(said|says|told|according to|added|stated|wrote|announced|"
                          r"explained|noted)\b", re.IGNORECASE)
_QUOTE = re.compile(r"[\"“”]")
# A sentence about an earlier time than the story's news ("earlier that month"); one that
# opens on a month or year ("In August, ...") tells of an earlier event far more often
# than of the story's own news, which is told as "on Thursday".
_LOOKS_BACK = re.compile(r"\b(earlier|previously|formerly|ago|last (week|month|year)|"
                         r"in the past|at the time|back then)\b|^\W*(in|on|since) "
                         r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|"
                         r"aug(ust)?|sep(t(ember)?)?|oct(ober)?|nov(ember)?|dec(ember)?)\b|"
                         r"^\W*(in|since) (1[89]|20)\d\d\b", re.IGNORECASE)
# The question is about the latest news ("this week", "now"): an earlier event is not it.
_ASKS_NOW = re.compile(r"\b(this (week|month|year|time|season)|now|currently|latest|"
                       r"recently|newly|just|today)\b", re.IGNORECASE)
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
    "support_share", "answer_tokens", "support_wide", "support_articles",
)
_RECENCY = FEATURES.index("recency")
_KIND_AT = {NUMBER: 0, DATE: 1, NAME: 2}  # in ``read_sentence``'s answer
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


def candidates(ranked: list[Evidence], texts: ArticleTexts,
               passages: int = PASSAGES) -> list[SentenceCandidate]:
    """The distinct sentences of the top ``passages`` reranked passages, in rank order.

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
            out.append(SentenceCandidate(s.sentence.article_rowid, start, end, text,
                                         s.dense, s.lexical, s.score, rank))
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


def _longest_run(asked: tuple[str, ...], own: list[str]) -> int:
    """The longest run of consecutive question terms found consecutively in the sentence."""
    where: dict[str, list[int]] = {}
    for j, term in enumerate(asked):
        where.setdefault(term, []).append(j)
    best = 0
    for i, term in enumerate(own):
        for j in where.get(term, ()):
            n = 1
            while i + n < len(own) and j + n < len(asked) and own[i + n] == asked[j + n]:
                n += 1
            best = max(best, n)
    return best


def _kind_evidence(kind: str | None, held: bool) -> tuple[bool, ...]:
    """Whether the sentence holds, or lacks, the kind of answer asked for, by kind: a
    "how many" question answered by a sentence without a number is nearly always wrong,
    a lack the model can only weigh when it is a feature of its own."""
    return tuple(kind == k and held for k in (NUMBER, DATE, NAME)) + \
        tuple(kind == k and not held for k in (NUMBER, DATE, NAME))


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
             ranked: list[Evidence]) -> tuple[np.ndarray, ...]:
    """For each candidate, how well the top passages back its best-backed possible answer
    (a name or number the question lacks): the share of the candidates' passages with a
    candidate sentence holding it, the share of the candidate sentences holding it, how
    many possible answers it holds, and the shares of the top ``WIDE`` passages and of
    their articles that name it (as a capitalised word or a number). News tells the same
    fact in many stories: the name the top passages agree on is likelier the answer than
    one a single sentence mentions. ``held``: each candidate's possible answers
    (``answer_tokens``)."""
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
        for t in every & names_and_numbers(ev.candidate.stored.chunk.text):
            wide[t] += 1
            articles[t].add(ev.candidate.stored.article_rowid)
    ranks = len({c.passage_rank for c in cands}) or 1
    n_articles = len({ev.candidate.stored.article_rowid for ev in top}) or 1
    out = np.zeros((5, len(cands)))
    for i, tokens in enumerate(held):
        if tokens:
            out[:, i] = (max(len(passages[t]) for t in tokens) / ranks,
                         max(sentences[t] for t in tokens) / len(cands), len(tokens),
                         max(wide[t] for t in tokens) / (len(top) or 1),
                         max(len(articles[t]) for t in tokens) / n_articles)
    return tuple(out)


def features(question: str, cands: list[SentenceCandidate], ranked: list[Evidence],
             copies: dict[int, int] | None = None) -> np.ndarray:
    """One row of ``FEATURES`` per candidate (float64)."""
    if not cands:
        return np.zeros((0, len(FEATURES)))
    kind = answer_type(question)
    asked = _question_terms(question)
    who_said = 1.0 if _WHO_SAID.search(question) else 0.0
    dense = np.array([c.dense for c in cands])
    lexical = np.array([c.lexical for c in cands])
    base = np.array([c.base for c in cands])
    order = np.argsort(-base, kind="stable")
    sentence_rank = np.empty(len(cands))
    sentence_rank[order] = np.arange(len(cands))
    top = ranked[0]
    top_score = top.score or 1.0
    second = ranked[1].score if len(ranked) > 1 else 0.0
    top_fused = max(e.candidate.fused for e in ranked[:PASSAGES]) or 1.0
    top_lexical = max(e.candidate.lexical for e in ranked[:PASSAGES]) or 1.0
    most_dense, most_lexical, most_base = float(dense.max()), float(lexical.max()), \
        float(base.max())
    bigrams, ordered, wh, phrase = _question_shape(question)
    before, after = _neighbours(cands)
    reads = [read_sentence(c.text, question) for c in cands]
    support, share, found, support_wide, support_articles = _support(
        [r[3] for r in reads], cands, ranked)
    asks_now = bool(_ASKS_NOW.search(question))
    rows = []
    for i, c in enumerate(cands):
        ev = ranked[c.passage_rank]
        own = terms(c.text)
        has = reads[i][:3]  # a number, a date, a name the question lacks
        pairs = set(itertools.pairwise(own))
        new = sum(1 for t in own if t not in asked)
        echo = (len(own) - new) / max(len(own), 1)
        rows.append((
            c.dense, c.lexical, c.base,
            c.dense - most_dense, c.lexical - most_lexical, c.base - most_base,
            1.0 / (1.0 + sentence_rank[i]),
            1.0 / (1.0 + c.passage_rank), ev.score / top_score, ev.candidate.dense,
            ev.candidate.fused / top_fused, ev.candidate.lexical / top_lexical, ev.recency,
            kind == NUMBER, kind == DATE, kind == NAME, kind is None,
            *_kind_evidence(kind, has[_KIND_AT[kind]] if kind else False),
            math.log1p(new), echo, math.log1p(len(asked)),
            math.log1p(len(c.text)), math.log1p(c.start),
            bool(_ATTRIBUTION.search(c.text)), bool(_QUOTE.search(c.text)), who_said,
            c.text.rstrip().endswith("?"),
            top.candidate.dense, (top.score - second) / top_score,
            math.log1p((copies or {}).get(c.article_rowid, 0)),
            len(bigrams & pairs), _longest_run(ordered, own),
            dense[before[i]] if before[i] >= 0 else 0.0,
            dense[after[i]] if after[i] >= 0 else 0.0,
            lexical[before[i]] if before[i] >= 0 else 0.0,
            lexical[after[i]] if after[i] >= 0 else 0.0,
            *wh, bool(_LOOKS_BACK.search(c.text)),
            bool(phrase) and phrase in c.text.lower(),
            *has, asks_now,
            support[i], share[i], math.log1p(found[i]), support_wide[i],
            support_articles[i],
        ))
    return np.asarray(rows, dtype=np.float64)


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
        """The nodes of all trees in one run (a node's children by their global position),
        leaves made into nodes that lead to themselves: a step is then four gathers."""
        trees, width = self.feature.shape
        own = np.arange(trees * width).reshape(trees, width)
        offset = (np.arange(trees) * width)[:, None]
        left = np.where(self.leaf, own, self.left + offset).ravel()
        right = np.where(self.leaf, own, self.right + offset).ravel()
        threshold = np.where(self.leaf, np.inf, self.threshold).ravel()
        return (offset, np.where(self.leaf, 0, self.feature).ravel(), threshold, left,
                right, self.value.ravel())

    def raw(self, rows: np.ndarray) -> np.ndarray:
        """The summed log-odds of the trees for each row."""
        offset, feature, threshold, left, right, value = self._flat
        at = np.repeat(offset, len(rows), axis=1)  # every tree's root, for every row
        column = np.arange(len(rows))[None, :]
        for _ in range(self.depth):
            go_left = rows[column, feature[at]] <= threshold[at]
            at = np.where(go_left, left[at], right[at])
        return self.baseline + value[at].sum(axis=0)

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


_LACKS = [FEATURES.index("lacks_number"), FEATURES.index("lacks_date")]
INELIGIBLE = -1e9


def eligible(raw: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The raw scores with those of sentences that cannot be the answer set to
    ``INELIGIBLE``: for a "how many" or "when" question, a sentence without a number or
    date the question lacks. The string-match labels sometimes credit one ("six" in
    "Six-time"), so the trees alone let an echo of the question through ("...how many
    people died then...", for a question the article has no number for)."""
    lacks = rows[:, _LACKS].any(axis=1)
    return np.where(lacks, INELIGIBLE, raw)


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
    """Boosted trees over ``FEATURES`` and, per kind of corpus, the map of their score to
    a probability (as points, interpolated) and the abstention threshold; made by
    ``bench/scorer_train.py``."""

    embedder: str  # the model whose similarities it was trained on
    forest: Forest
    # By domain: raw scores ascending, and their calibrated probabilities (non-decreasing).
    calibration: dict[str, tuple[np.ndarray, np.ndarray]]
    min_confidence: dict[str, float]  # by domain: chosen on the training side
    trained_on: str = ""

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerScorer:
        """Read a saved scorer; raises ValueError for a file of another format."""
        data = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT or tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: not an {FORMAT} file for these features")
        calibration = {d: (np.asarray(c["x"], dtype=np.float64),
                           np.asarray(c["y"], dtype=np.float64))
                       for d, c in data["calibration"].items()}
        return cls(data["embedder"], Forest.from_dict(data["forest"]), calibration,
                   {d: float(v) for d, v in data["min_confidence"].items()},
                   data.get("trained_on", ""))

    def to_dict(self) -> dict:
        """The JSON-ready form ``load`` reads."""
        return {"format": FORMAT, "embedder": self.embedder, "features": list(FEATURES),
                "forest": self.forest.to_dict(),
                "calibration": {d: {"x": x.tolist(), "y": y.tolist()}
                                for d, (x, y) in self.calibration.items()},
                "min_confidence": self.min_confidence, "trained_on": self.trained_on}

    def raw(self, rows: np.ndarray) -> np.ndarray:
        """The model's log-odds for each row (``eligible``: the lowest for a sentence
        that cannot answer)."""
        return eligible(self.forest.raw(rows), rows)

    def calibrate(self, raw: float | np.ndarray, domain: str) -> np.ndarray:
        """Raw scores as probabilities, by the domain's map."""
        return calibrated(raw, *self.calibration[domain])

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """The calibrated probability that each candidate of one question holds the
        answer (the rows are one question's candidates: they share its domain)."""
        return self.calibrate(self.raw(rows), domain_of(rows))

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
