"""Benchmark: the embedding backends against torch, on real news sentences.

For each backend: agreement with the torch model's vectors (mean and minimum cosine over
the same sentences), build-style throughput (texts per second, batches of 64 on every
core) and query latency (one short question, one thread), in one run.

    python -m bench.embedders --news NEWS_RTQA_DIR [--sentences 1000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from index.chunking import split_sentences
from index.embedder import BACKENDS, EmbedderSpec

RESULTS = Path(__file__).parent / "results"
QUERY = "Which agency banned the food dye Red No. 3 this week?"


def news_sentences(folder: Path, n: int, seed: int = 1) -> list[str]:
    """``n`` sentences drawn at random from the first quick-loop pages."""
    pool: list[str] = []
    with gzip.open(folder / "quick-articles.jsonl.gz", "rt") as lines:
        for line in lines:
            text = json.loads(line)["text"]
            pool += [text[s.start : s.end] for s in split_sentences(text)
                     if 20 < s.end - s.start < 600]
            if len(pool) >= 10 * n:
                break
    rng = np.random.default_rng(seed)
    return [pool[i] for i in rng.choice(len(pool), n, replace=False)]


def main() -> None:
    """Measure every backend and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=Path, required=True)
    parser.add_argument("--sentences", type=int, default=1000)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sentences = news_sentences(args.news, args.sentences)
    rows = []
    reference = None
    for backend in ("torch", *[b for b in BACKENDS if b != "torch"]):
        began = time.perf_counter()
        embedder = EmbedderSpec(backend=backend).load()
        load = time.perf_counter() - began
        began = time.perf_counter()
        vectors = embedder.embed(sentences)
        rate = len(sentences) / (time.perf_counter() - began)
        reference = vectors if reference is None else reference
        cosine = (vectors * reference).sum(axis=1)
        single = EmbedderSpec(backend=backend, threads=1).load() if backend != "torch" \
            else embedder
        # The same text alone: does a vector depend on its batch-mates?
        alone = np.vstack([single.embed_one(t) for t in sentences[:100]])
        consistency = float((alone * vectors[:100]).sum(axis=1).min())
        single.embed_one(QUERY)
        times = []
        for _ in range(200):
            began = time.perf_counter()
            single.embed_one(QUERY)
            times.append(1000 * (time.perf_counter() - began))
        rows.append({"backend": backend, "mean_cosine": float(cosine.mean()),
                     "min_cosine": float(cosine.min()), "texts_per_s": rate,
                     "alone_vs_batched_min_cosine": consistency,
                     "query_ms_p50": statistics.median(times), "load_s": load})
    torch_rate = rows[0]["texts_per_s"]
    lines = ["# Embedding backends", "",
             f"`python -m bench.embedders --sentences {len(sentences)}` "
             f"({platform.machine()}, {os.cpu_count()} cores; one run; {len(sentences)} "
             "news sentences from the quick loop; load includes a first-use ONNX export "
             "only when the cache is empty)", "",
             "| backend | mean cosine to torch | min cosine | alone vs batched (min cosine) "
             "| texts/s (batch 64) | vs torch | query p50 ms (1 thread) | load s |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['backend']} | {r['mean_cosine']:.4f} | {r['min_cosine']:.4f} | "
              f"{r['alone_vs_batched_min_cosine']:.4f} | "
              f"{r['texts_per_s']:.0f} | {r['texts_per_s'] / torch_rate:.2f}x | "
              f"{r['query_ms_p50']:.2f} | {r['load_s']:.1f} |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "embedders.md").write_text(text)
    (RESULTS / "embedders.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
