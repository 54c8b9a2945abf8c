"""Answering knobs on the news set, tuned on one half of the questions and checked on the
other: the questions whose answer pages are all in the index (all of them on a finished
build; on a partial one, those it can answer), split by a hash of their id.

    python -m bench.news_knobs ../shared/eval/news-rtqa --index-dir D \\
        '{}' '{"sentence_weight": 2.5}' '{"recent_days": 14}'

Each argument is a JSON object of ``RetrievalConfig``, ``ExtractionConfig`` or
``AnswerConfig`` fields (``{}``: the defaults). One line per knob set, with the number of
questions whose hit@1 it won and lost against the first set.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
from pathlib import Path

from bench.news import NewsQuestion, ask_all, first_hit, load_questions, score
from index.reader import open_published
from qa.engine import AnswerConfig, Engine
from qa.extract import ExtractionConfig
from qa.retriever import RetrievalConfig
from service.server import configure_process
from service.settings import Settings

RESULTS = Path(__file__).parent / "results"


def config_of(knobs: dict) -> AnswerConfig:
    """An answer configuration with these fields changed, wherever each one lives."""
    parts: dict[type, dict] = {RetrievalConfig: {}, ExtractionConfig: {}, AnswerConfig: {}}
    for name, value in knobs.items():
        owner = next((cls for cls in parts if name in {f.name for f in dataclasses.fields(cls)}),
                     None)
        if owner is None:
            raise SystemExit(f"error: no knob named {name!r}")
        parts[owner][name] = value
    return AnswerConfig(retrieval=RetrievalConfig(**parts[RetrievalConfig]),
                        extraction=ExtractionConfig(**parts[ExtractionConfig]),
                        **parts[AnswerConfig])


def knobs_of(spec: str) -> dict:
    """One command-line knob set: a JSON object."""
    try:
        knobs = json.loads(spec)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"error: {spec!r} is not JSON: {exc.msg}") from None
    if not isinstance(knobs, dict):
        raise SystemExit(f"error: {spec!r} is not a JSON object of knob values")
    return knobs


def half(question: NewsQuestion) -> str:
    """``tune`` or ``check``, fixed by the question's id."""
    return ("tune", "check")[int(hashlib.md5(question.id.encode()).hexdigest(), 16) % 2]


def main() -> None:
    """Print one line per knob set: tune and check hit@1 / hit@5 / answer accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("knobs", nargs="+", help="JSON objects of knob values")
    args = parser.parse_args()
    configure_process()  # timed as the service runs: one BLAS, one FAISS thread
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    configs = [config_of(knobs_of(spec)) for spec in args.knobs]  # bad knobs fail first
    reader = open_published(args.index_dir)
    indexed = set(reader.store.article_keys())
    questions = [q for q in load_questions(args.folder)
                 if q.answer_articles and q.answer_articles <= indexed]
    embedder = Settings().embedder_spec().load()
    halves = {name: [i for i, q in enumerate(questions) if half(q) == name]
              for name in ("tune", "check")}
    lines = [f"{len(questions)} questions answerable from {len(indexed)} pages "
             f"({len(halves['tune'])} tune, {len(halves['check'])} check), "
             f"index {reader.version}",
             "", "| knobs | tune hit@1 / hit@5 / acc | check hit@1 / hit@5 / acc "
             "| hit@1 won / lost |", "|---|---|---|---|"]
    print("\n".join(lines))
    first: list[bool] | None = None
    for spec, config in zip(args.knobs, configs, strict=True):
        engine = Engine(reader, embedder, config)
        answers, latencies = ask_all(engine, questions)
        hits = [first_hit(q, a) == 0 for q, a in zip(questions, answers, strict=True)]
        first = hits if first is None else first
        cells = []
        for chosen in halves.values():
            s = score([questions[i] for i in chosen], [answers[i] for i in chosen],
                      [latencies[i] for i in chosen])
            cells.append(f"{s.hit1:.3f} / {s.hit5:.3f} / {s.answer_accuracy:.3f}")
        won = sum(h and not f for h, f in zip(hits, first, strict=True))
        lost = sum(f and not h for h, f in zip(hits, first, strict=True))
        lines.append(f"| `{spec}` | {cells[0]} | {cells[1]} | {won} / {lost} |")
        print(lines[-1], flush=True)
    reader.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "news_knobs.md").write_text(
        "# News knobs: tuning half and checking half\n\n`python -m bench.news_knobs "
        + " ".join(f"'{k}'" for k in args.knobs) + "`\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
