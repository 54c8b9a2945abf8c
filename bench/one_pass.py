"""Benchmark: sentence vectors from the chunk pass (one pass) against a pass of their own.

Usage: python -m bench.one_pass --squad PATH [--sample 2000] [--seed 13]
Both methods in one run, on the same sample, the whole pipeline (hybrid retrieval,
sentence rerank, extraction): answer quality and build seconds, as ratios. Prints a table
and writes ``bench/results/one_pass.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from bench.evaluation import evaluate_squad
from index.pooling import POOLED, STANDALONE
from service.settings import Settings

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
METRICS = ("hit@1", "hit@5", "answer_accuracy", "abstention_rate",
           "false_answer_rate_wrong_corpus")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    settings = Settings()
    embedder = settings.embedder_spec().load()
    rows = {}
    for method in (STANDALONE, POOLED):
        rows[method] = evaluate_squad(args.squad, embedder, settings.answer_config(),
                                      negatives=[ROOT / "seeds"], n=args.sample,
                                      seed=args.seed, chunker=settings.chunker(),
                                      sentence_vectors=method)
        print(method, json.dumps(rows[method]), flush=True)
    result = {"sample": args.sample, "seed": args.seed, "backend": embedder.backend,
              "machine": f"{platform.machine()}, {os.cpu_count()} cores", "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "one_pass.json").write_text(json.dumps(result, indent=2) + "\n")
    table = _table(rows)
    (RESULTS / "one_pass.md").write_text(
        "# One pass: sentence vectors pooled from the chunk pass\n\n"
        f"`python -m bench.one_pass --squad ../shared/eval/squad-v1.1-dev.json "
        f"--sample {args.sample} --seed {args.seed}` ({embedder.backend}, "
        f"{result['machine']}; both in one run)\n\n" + table + "\n")
    print(table)


def _table(rows: dict[str, dict]) -> str:
    old, new = rows[STANDALONE], rows[POOLED]
    lines = ["| sentence vectors | " + " | ".join(METRICS) + " | index build s |",
             "|---|" + "---|" * (len(METRICS) + 1)]
    for name, row in ((STANDALONE, old), (POOLED, new)):
        cells = [f"{row.get(m, 0) or 0:.4f}" for m in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {row['index_build_s']:.1f} |")
    deltas = [f"{(new.get(m) or 0) - (old.get(m) or 0):+.4f}" for m in METRICS]
    ratio = new["index_build_s"] / old["index_build_s"]
    lines.append("| pooled - standalone | " + " | ".join(deltas) + f" | {ratio:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
