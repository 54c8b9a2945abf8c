"""Benchmark: what the worst legal request costs, and what it does to everyone else.

Builds an index of generated news briefs, serves it with ``qa serve`` (a real uvicorn
process), and measures over HTTP, in one run:
1. a normal question's latency alone (p50/p95);
2. the worst legal requests alone: a 2,000-character question of ~190 distinct common
   words, and a follow-up after two 2,000-character questions and 8,000-character answers;
3. a normal question's latency while 4 clients send worst-case requests non-stop.

Prints a table and writes ``bench/results/worst_case.{json,md}``.
Usage: python -m bench.worst_case [--articles 1000] [--model all-MiniLM-L6-v2] [--n 60]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.served import QA, ask, served, summary, timings
from bench.synthetic import articles

RESULTS = Path(__file__).parent / "results"
NORMAL = "How many people live in the affected districts of Elmswick?"


def _worst_question(texts: list[str]) -> str:
    """~190 distinct common words of the corpus, cut to the 2,000-character limit."""
    counts = Counter(w.lower() for t in texts for w in re.findall(r"[A-Za-z]{3,}", t))
    return " ".join(w for w, _ in counts.most_common(400))[:2000].rsplit(" ", 1)[0]


def _follow_up(texts: list[str]) -> dict:
    """A follow-up after two longest-possible questions and answers."""
    answer = " ".join(texts)[:8000]
    question = " ".join(texts[1:])[:2000]
    return {"messages": [{"role": "user", "content": question},
                         {"role": "assistant", "content": answer},
                         {"role": "user", "content": question},
                         {"role": "assistant", "content": answer},
                         {"role": "user", "content": "And what did they say?"}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--n", type=int, default=60, help="timed requests per measurement")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_MODEL": args.model, "QA_RELOAD_INTERVAL": "0"}

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.jsonl"
        items = list(articles(args.articles))
        source.write_text("\n".join(json.dumps(a) for a in items) + "\n")
        texts = [a["text"] for a in items]
        index_dir = Path(tmp) / "ix"
        subprocess.run([QA, "index", "build", str(source), "--index-dir", str(index_dir)],
                       env=env, check=True, capture_output=True)
        with served(index_dir, env) as (url, _):
            normal = {"messages": [{"role": "user", "content": NORMAL}]}
            long_q = {"messages": [{"role": "user", "content": _worst_question(texts)}]}
            follow = _follow_up(texts)
            results = {
                "normal alone": summary(timings(url, normal, args.n)),
                "2,000-character question alone": summary(timings(url, long_q, args.n // 2)),
                "follow-up after two longest turns alone":
                    summary(timings(url, follow, args.n // 2)),
            }
            stop = threading.Event()

            def hammer(body: dict) -> None:
                with httpx.Client() as client:
                    while not stop.is_set():
                        ask(client, url, body)

            workers = [threading.Thread(target=hammer, args=(b,))
                       for b in (long_q, follow, long_q, follow)]
            for w in workers:
                w.start()
            time.sleep(1)
            results["normal with 4 worst-case clients"] = summary(
                timings(url, normal, args.n))
            stop.set()
            for w in workers:
                w.join()

    base = results["normal alone"]["p50"]
    ratios = {
        "worst request p50 / normal p50": round(max(
            results["2,000-character question alone"]["p50"],
            results["follow-up after two longest turns alone"]["p50"]) / base, 2),
        "normal p50 under load / alone": round(
            results["normal with 4 worst-case clients"]["p50"] / base, 2),
    }
    out = {"articles": args.articles, "model": args.model, "latency_ms": results,
           "ratios": ratios, "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "worst_case.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = ["# Worst-case request benchmark", "",
             f"`python -m bench.worst_case --articles {args.articles} --model {args.model}` "
             f"(over HTTP against `qa serve`; {out['machine']}; medians of one run)", "",
             "| measurement | p50 ms | p95 ms | requests |", "|---|---|---|---|"]
    lines += [f"| {name} | {r['p50']} | {r['p95']} | {r['n']} |" for name, r in results.items()]
    lines += ["", "| ratio | value |", "|---|---|"]
    lines += [f"| {name} | {value}x |" for name, value in ratios.items()]
    (RESULTS / "worst_case.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
