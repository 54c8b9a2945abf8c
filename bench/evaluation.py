"""Answer-quality evaluation on SQuAD-format data, through the same engine as the API.

An article is the article's paragraphs joined by a blank line. A question is answered
when a gold answer (SQuAD-normalised) occurs in the answer (answer accuracy) or in one
of the top-k passages (retrieval hit@k, MRR@10).
"""

from __future__ import annotations

import json
import random
import re
import string
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from bench.calibration import confident_half_precision, ece
from index.builder import Builder
from index.chunking import ChunkerConfig
from index.embedder import Embedder
from index.pooling import POOLED
from index.reader import open_published
from qa.engine import AnswerConfig, Engine
from qa.types import Answer, Message

PASSAGE_CHARS = 1000
ANSWER_CHARS = 400
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class Question:
    """One SQuAD question with its gold answers and article."""

    id: str
    text: str
    answers: tuple[str, ...]
    article: str


@dataclass
class Scores:
    """Aggregated metrics of one system on one sample."""

    n: int = 0
    hit1: float = 0.0
    hit5: float = 0.0
    mrr10: float = 0.0
    answer_accuracy: float = 0.0
    abstention_rate: float = 0.0
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    ece: float = 0.0  # of the answers given, confidence against being right
    confident_half_precision: float = 0.0
    mean_confidence: float = 0.0


def normalise(text: str) -> str:
    """SQuAD answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def contains(haystack: str, answers: Sequence[str]) -> bool:
    """True when any normalised gold answer occurs in the normalised text."""
    hay = normalise(haystack)
    return any(normalise(a) and normalise(a) in hay for a in answers)


def load_squad(path: Path) -> tuple[list[dict], list[Question]]:
    """Articles (in the JSON ingest format) and questions (in file order) of a SQuAD file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    articles, questions = [], []
    for item in data:
        title = item["title"]
        text = "\n\n".join(p["context"].strip() for p in item["paragraphs"])
        articles.append({"id": title, "title": title.replace("_", " "), "text": text})
        for paragraph in item["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa.get("answers", []))
                questions.append(Question(qa["id"], qa["question"], answers, title))
    return articles, questions


def sample(questions: list[Question], n: int | None, seed: int) -> list[Question]:
    """``random.Random(seed).sample`` over the questions in file order (all if n is None)."""
    if n is None or n >= len(questions):
        return list(questions)
    return random.Random(seed).sample(questions, n)


def score_ranked(ranked_texts: Sequence[Sequence[str]], answers: Sequence[str | None],
                 golds: Sequence[Sequence[str]], latencies: Sequence[float],
                 abstained: Sequence[bool],
                 confidences: Sequence[float] | None = None) -> Scores:
    """Metrics from each question's ranked passage texts and answer (and, when given, the
    answer's confidence)."""
    n = len(golds)
    hit1 = hit5 = mrr = acc = 0.0
    given: list[tuple[float, bool]] = []
    for i, (texts, answer, gold) in enumerate(zip(ranked_texts, answers, golds, strict=True)):
        ranks = [i for i, t in enumerate(texts[:10]) if contains(t[:PASSAGE_CHARS], gold)]
        hit1 += bool(ranks and ranks[0] < 1)
        hit5 += bool(ranks and ranks[0] < 5)
        mrr += 1.0 / (ranks[0] + 1) if ranks else 0.0
        right = bool(answer) and contains(answer[:ANSWER_CHARS], gold)
        acc += right
        if confidences is not None and answer:
            given.append((confidences[i], right))
    lat = np.asarray(latencies) * 1000
    conf, right = [c for c, _ in given], [r for _, r in given]
    return Scores(n=n, hit1=hit1 / n, hit5=hit5 / n, mrr10=mrr / n, answer_accuracy=acc / n,
                  abstention_rate=sum(abstained) / n,
                  latency_p50_ms=float(np.percentile(lat, 50)),
                  latency_p95_ms=float(np.percentile(lat, 95)),
                  ece=ece(conf, right), confident_half_precision=confident_half_precision(
                      conf, right), mean_confidence=float(np.mean(conf)) if conf else 0.0)


def answer_text(answer: Answer) -> str | None:
    """The answer without citation markers, or None for an abstention."""
    return _MARKER.sub("", answer.text) if answer.grounded else None


def run_engine(engine: Engine, questions: Sequence[Question],
               progress: Callable[[int], None] | None = None) -> Scores:
    """Ask every question through the engine (as ``POST /api/chat`` does) and score it."""
    texts, answers, latencies, abstained, confidences = [], [], [], [], []
    for i, q in enumerate(questions):
        began = time.perf_counter()
        answer = engine.answer([Message("user", q.text)], top_k=10)
        latencies.append(time.perf_counter() - began)
        texts.append([p.text for p in answer.passages])
        answers.append(answer_text(answer))
        abstained.append(not answer.grounded)
        confidences.append(answer.confidence)
        if progress:
            progress(i + 1)
    return score_ranked(texts, answers, [q.answers for q in questions], latencies, abstained,
                        confidences)


def floor_costs_ms(embedder: Embedder, vectors: faiss.Index, texts: Sequence[str],
                   k: int) -> np.ndarray:
    """Per text, one query embedding plus one FAISS search of ``k``, in milliseconds:
    the floor a question cannot beat."""
    costs = []
    for text in texts:
        began = time.perf_counter()
        vector = embedder.embed_one(text)
        vectors.search(vector.reshape(1, -1), k)
        costs.append(time.perf_counter() - began)
    return np.asarray(costs) * 1000


def search_cost_ms(engine: Engine, questions: Sequence[Question]) -> float:
    """p50 of the floor over these questions."""
    costs = floor_costs_ms(engine.embedder, engine.index.vectors, [q.text for q in questions],
                           engine.config.retrieval.candidates)
    return float(np.percentile(costs, 50))


def build_index(workdir: Path, articles: list[dict], embedder: Embedder,
                chunker: ChunkerConfig | None = None,
                sentence_vectors: str = POOLED) -> tuple[Path, float]:
    """Write articles as JSONL, build an index; returns its directory and build seconds."""
    source = workdir / "source"
    source.mkdir(parents=True, exist_ok=True)
    (source / "articles.jsonl").write_text(
        "\n".join(json.dumps(a, ensure_ascii=False) for a in articles) + "\n", encoding="utf-8")
    index_dir = workdir / "index"
    report = Builder.with_embedder(index_dir, embedder, chunker,
                                   sentence_vectors=sentence_vectors).build([source], full=True)
    return index_dir, report.seconds


def evaluate_squad(path: Path, embedder: Embedder, config: AnswerConfig,
                   negatives: Sequence[Path] = (), n: int | None = None, seed: int = 13,
                   chunker: ChunkerConfig | None = None,
                   progress: Callable[[int], None] | None = None,
                   sentence_vectors: str = POOLED) -> dict:
    """The full evaluation: metrics on the sample, build time, latency against the search
    floor, and false answers when the same questions meet a corpus without their answers
    (``negatives``: article files or folders, e.g. the seed articles)."""
    articles, questions = load_squad(path)
    chosen = sample(questions, n, seed)
    with tempfile.TemporaryDirectory() as tmp:
        index_dir, build_seconds = build_index(Path(tmp) / "squad", articles, embedder, chunker,
                                               sentence_vectors)
        engine = Engine(open_published(index_dir), embedder, config)
        threshold = engine.thresholds
        scores = run_engine(engine, chosen, progress)
        floor = search_cost_ms(engine, chosen)
        false_answer_rate = None
        if negatives:
            neg_dir = Path(tmp) / "negatives"
            Builder.with_embedder(neg_dir, embedder, chunker,
                                  sentence_vectors=sentence_vectors).build(list(negatives),
                                                                           full=True)
            neg_engine = Engine(open_published(neg_dir), embedder, config)
            grounded = sum(neg_engine.answer([Message("user", q.text)]).grounded for q in chosen)
            false_answer_rate = grounded / len(chosen)
    return {
        "questions": scores.n, "seed": seed, "hit@1": round(scores.hit1, 4),
        "hit@5": round(scores.hit5, 4), "mrr@10": round(scores.mrr10, 4),
        "answer_accuracy": round(scores.answer_accuracy, 4),
        "abstention_rate": round(scores.abstention_rate, 4),
        "ece": round(scores.ece, 4),
        "confident_half_precision": round(scores.confident_half_precision, 4),
        "mean_confidence": round(scores.mean_confidence, 4),
        "latency_p50_ms": round(scores.latency_p50_ms, 2),
        "latency_p95_ms": round(scores.latency_p95_ms, 2),
        "search_floor_p50_ms": round(floor, 2),
        "latency_over_floor": round(scores.latency_p50_ms / floor, 2) if floor else None,
        "index_build_s": round(build_seconds, 2),
        "false_answer_rate_wrong_corpus": (round(false_answer_rate, 4)
                                           if false_answer_rate is not None else None),
        "model": embedder.name, "min_confidence": threshold,
    }
