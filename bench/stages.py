"""Where an answer's time goes, in process with the real model: embedding the question,
retrieval (lexical and dense searches, fused), the sentence rerank, and the rest (time
words, the scope, the pick and its citation). Each news question is asked as of the day
after its quiz, as the news protocol asks; medians over the questions.

    python -m bench.stages ../shared/eval/news-rtqa --index-dir D [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.news import load_questions
from index.reader import Expectation, open_published
from qa.engine import Engine
from qa.scope import Scope
from qa.types import Message
from service.server import configure_process
from service.settings import Settings

RESULTS = Path(__file__).parent / "results"
STAGES = ("embedding", "retrieval", "rerank")


def timed(call: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
    """``call``, appending each call's milliseconds to ``into``."""
    def run(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            into.append((time.perf_counter() - began) * 1000)
    return run


def measure(index_dir: Path, questions: list, rounds: int = 2) -> dict[str, float]:
    """p50 milliseconds of each stage and of the whole answer (the last round's)."""
    embedder = Settings().embedder_spec().load()
    engine = Engine(open_published(index_dir, Expectation.of(embedder)), embedder)
    spent: dict[str, list[float]] = {name: [] for name in (*STAGES, "answer")}
    # Instance attributes: only this engine's calls are timed.
    embedder.embed_one = timed(embedder.embed_one, spent["embedding"])
    engine.retriever.search = timed(engine.retriever.search, spent["retrieval"])
    engine.extractor.rerank = timed(engine.extractor.rerank, spent["rerank"])
    for _ in range(rounds):  # the first round warms the caches
        for values in spent.values():
            values.clear()
        for q in questions:
            began = time.perf_counter()
            engine.answer([Message("user", q.text)], scope=Scope(as_of=q.as_of))
            spent["answer"].append((time.perf_counter() - began) * 1000)
    engine.close()
    if len({len(values) for values in spent.values()}) != 1:
        raise RuntimeError("a question skipped a stage: the parts cannot be told apart")
    rest = [total - sum(spent[s][i] for s in STAGES) for i, total in
            enumerate(spent["answer"])]
    out = {name: round(statistics.median(values), 2) for name, values in spent.items()}
    out["rest"] = round(statistics.median(rest), 2)
    return out


def main() -> None:
    """Measure and write ``bench/results/stages_news[_quick].{json,md}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    configure_process()  # timed as the service runs: one BLAS, one FAISS thread
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = load_questions(args.folder, args.quick)
    res = {"questions": len(questions), "p50_ms": measure(args.index_dir, questions)}
    stem = "stages_news_quick" if args.quick else "stages_news"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(res, indent=2) + "\n")
    p50 = res["p50_ms"]
    lines = [f"# Where an answer's time goes ({res['questions']} news questions, in process)",
             "", "| stage | p50 ms |", "|---|---|",
             *[f"| {name} | {p50[name]} |" for name in (*STAGES, "rest", "answer")],
             "", "Each stage's median is over the questions; the medians of the parts need "
             "not add up to the answer's."]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
