"""The news benchmark (RealTime QA questions over real news pages), by the protocol of its
data README: each question asked alone, as of the day after its quiz date; a passage hits
when it holds a normalised gold answer, the answer is right when its text holds one.

The index is built incrementally in a directory that persists between runs, so a second
run over the same corpus embeds nothing.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from bench.calibration import confident_half_precision, ece
from bench.evaluation import ANSWER_CHARS, PASSAGE_CHARS, answer_text, contains
from index.builder import Builder, BuildReport
from index.chunking import ChunkerConfig
from index.embedder import Embedder
from index.reader import open_published
from qa.engine import AnswerConfig, Engine
from qa.scope import Scope
from qa.types import Answer, Message

QUESTIONS = "questions.jsonl"
ARCHIVE = "articles.jsonl.gz"
QUICK_ARCHIVE = "quick-articles.jsonl.gz"
QUICK_PREFIX = "2025"  # the quick loop: the questions of 2025


@dataclass(frozen=True)
class NewsQuestion:
    """One quiz question, its day and its gold answers and answer pages."""

    id: str
    text: str
    day: date
    answers: tuple[str, ...]
    answer_articles: frozenset[str]

    @property
    def as_of(self) -> date:
        """The day it is asked as of: the day after the quiz."""
        return self.day + timedelta(days=1)


def load_questions(folder: Path, quick: bool = False) -> list[NewsQuestion]:
    """The questions of the set (the quick loop's when ``quick``), in file order."""
    out = []
    with (Path(folder) / QUESTIONS).open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            q = json.loads(line)
            if quick and not str(q["id"]).startswith(QUICK_PREFIX):
                continue
            out.append(NewsQuestion(str(q["id"]), q["question"],
                                    date.fromisoformat(q["question_date"]),
                                    tuple(q["answers"]), frozenset(q["answer_articles"])))
    return out


def archive_of(folder: Path, quick: bool = False) -> Path:
    """The article file of the set."""
    return Path(folder) / (QUICK_ARCHIVE if quick else ARCHIVE)


def choose(questions: list[NewsQuestion], n: int | None, seed: int) -> list[NewsQuestion]:
    """A seeded sample (all when ``n`` is None), in file order."""
    if n is None or n >= len(questions):
        return list(questions)
    keep = set(random.Random(seed).sample(range(len(questions)), n))
    return [q for i, q in enumerate(questions) if i in keep]


@dataclass
class NewsScores:
    """The protocol's metrics."""

    n: int
    hit1: float
    hit5: float
    mrr10: float
    article_hit5: float
    answer_accuracy: float
    abstention_rate: float
    latency_p50_ms: float
    latency_p95_ms: float
    # Of the answers given: the calibration error of their confidence against being
    # right, and the share right among the more confident half.
    ece: float = 0.0
    confident_half_precision: float = 0.0
    mean_confidence: float = 0.0

    def to_dict(self) -> dict:
        """Rounded, for JSON and tables."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in vars(self).items()}


def first_hit(question: NewsQuestion, answer: Answer) -> int | None:
    """The rank of the first of the top 10 passages that holds a gold answer (its first
    1,000 characters, as the protocol caps them), or None."""
    return next((i for i, p in enumerate(answer.passages[:10])
                 if contains(p.text[:PASSAGE_CHARS], question.answers)), None)


def score(questions: Sequence[NewsQuestion], answers: Sequence[Answer],
          latencies: Sequence[float]) -> NewsScores:
    """The protocol's metrics from each question's answer (its passages best first)."""
    n = len(questions)
    hit1 = hit5 = mrr = article5 = correct = 0.0
    given: list[tuple[float, bool]] = []  # (confidence, right) of each answer given
    for q, answer in zip(questions, answers, strict=True):
        rank = first_hit(q, answer)
        hit1 += rank == 0
        hit5 += rank is not None and rank < 5
        mrr += 1.0 / (rank + 1) if rank is not None else 0.0
        article5 += any(p.article_id in q.answer_articles for p in answer.passages[:5])
        text = answer_text(answer)
        right = bool(text) and contains(text[:ANSWER_CHARS], q.answers)
        correct += right
        if answer.grounded:
            given.append((answer.confidence, right))
    ms = np.asarray(latencies or [0.0]) * 1000
    conf, right = [c for c, _ in given], [r for _, r in given]
    return NewsScores(n, hit1 / n, hit5 / n, mrr / n, article5 / n, correct / n,
                      sum(not a.grounded for a in answers) / n,
                      float(np.percentile(ms, 50)), float(np.percentile(ms, 95)),
                      ece(conf, right), confident_half_precision(conf, right),
                      float(np.mean(conf)) if conf else 0.0)


def ask_all(engine: Engine, questions: Sequence[NewsQuestion],
            progress: Callable[[int], None] | None = None) -> tuple[list[Answer], list[float]]:
    """Ask each question alone, as of the day after its quiz, as ``POST /api/chat`` does."""
    answers, latencies = [], []
    for i, q in enumerate(questions):
        began = time.perf_counter()
        answers.append(engine.answer([Message("user", q.text)], top_k=10,
                                     scope=Scope(as_of=q.as_of)))
        latencies.append(time.perf_counter() - began)
        if progress:
            progress(i + 1)
    return answers, latencies


def build(index_dir: Path, archive: Path, embedder: Embedder,
          chunker: ChunkerConfig | None = None) -> BuildReport:
    """Build (incrementally) the index of an archive in a persistent directory."""
    return Builder.with_embedder(index_dir, embedder, chunker).build([archive])


def evaluate_news(folder: Path, embedder: Embedder, config: AnswerConfig, index_dir: Path,
                  quick: bool = False, n: int | None = None, seed: int = 13,
                  chunker: ChunkerConfig | None = None,
                  progress: Callable[[int], None] | None = None) -> dict:
    """Build or reuse the index, ask the (sampled) questions, and report the metrics."""
    questions = choose(load_questions(folder, quick), n, seed)
    if not questions:
        raise ValueError(f"no questions in {Path(folder) / QUESTIONS}")
    report = build(index_dir, archive_of(folder, quick), embedder, chunker)
    engine = Engine(open_published(index_dir), embedder, config)
    threshold = engine.thresholds
    try:
        answers, latencies = ask_all(engine, questions, progress)
        version, articles = engine.version, engine.index.manifest.articles
    finally:
        engine.close()
    return {
        "set": "quick" if quick else "full", "seed": seed,
        **score(questions, answers, latencies).to_dict(),
        "index_version": version, "index_articles": articles,
        "build": report.summary(), "embedded_texts": report.embedded_texts,
        "build_s": round(report.seconds, 1), "model": embedder.name,
        "min_confidence": threshold,
    }
