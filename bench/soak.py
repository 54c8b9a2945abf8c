"""Benchmark: sustained load on a real server: errors, latency drift, memory, descriptors.

Usage: python -m bench.soak NEWS_FOLDER --index-dir D [--quick] [--minutes 10] [--clients 8]
Serves a built news index with ``qa serve``; ``--clients`` threads ask the set's distinct
questions (as of each quiz's day) without pause for ``--minutes``. Prints a table and
writes ``bench/results/soak.{json,md}``: requests, errors, p50 in the first and the last
minute, server RSS after the first minute and at the end, open descriptors.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from pathlib import Path

import httpx

from bench.news import load_questions
from bench.served import rss_mb, served, summary

RESULTS = Path(__file__).parent / "results"


def _client(url: str, bodies: list[dict], offset: int, until: float,
            out: list[tuple[float, float]], errors: list[str]) -> None:
    """Ask questions in turn from ``offset`` until the deadline; record (time, ms)."""
    n = offset
    with httpx.Client() as http:
        while time.monotonic() < until:
            began = time.perf_counter()
            try:
                response = http.post(url + "/api/chat", json=bodies[n % len(bodies)],
                                     timeout=60)
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            out.append((time.monotonic(), (time.perf_counter() - began) * 1000))
            n += 1


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def main() -> None:
    """Run the soak and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = load_questions(args.folder, args.quick)
    bodies = list({q.text: {"messages": [{"role": "user", "content": q.text}],
                            "as_of": q.as_of.isoformat()} for q in questions}.values())
    env = {**os.environ, "QA_RELOAD_INTERVAL": "0",
           "QA_DATA_DIR": str(args.index_dir.parent / "soak-data")}
    samples: list[tuple[float, float]] = []
    errors: list[str] = []
    with served(args.index_dir, env) as (url, pid):
        fds_ready = _fds(pid)
        began = time.monotonic()
        until = began + args.minutes * 60
        step = max(1, len(bodies) // args.clients)
        threads = [threading.Thread(target=_client, args=(url, bodies, i * step, until,
                                                          samples, errors))
                   for i in range(args.clients)]
        for thread in threads:
            thread.start()
        time.sleep(min(60.0, args.minutes * 60 / 2))
        rss_first = rss_mb(pid)
        for thread in threads:
            thread.join()
        rss_end = rss_mb(pid)
        time.sleep(1)
        fds_end = _fds(pid)
    first = [ms for t, ms in samples if t < began + 60]
    last = [ms for t, ms in samples if t >= until - 60]
    res = {"minutes": args.minutes, "clients": args.clients, "questions": len(bodies),
           "requests": len(samples), "errors": len(errors),
           "error_kinds": sorted(set(errors)), "first_minute_ms": summary(first),
           "last_minute_ms": summary(last), "rss_mb_first_minute": round(rss_first, 1),
           "rss_mb_end": round(rss_end, 1),
           "rss_change": round(rss_end / rss_first - 1, 4) if rss_first else None,
           "fds_ready": fds_ready, "fds_end": fds_end,
           "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(res, indent=2) + "\n")
    lines = [f"# Soak: {args.clients} clients for {args.minutes:g} minutes", "",
             f"`python -m bench.soak ../shared/eval/news-rtqa --index-dir D"
             f"{' --quick' if args.quick else ''} --minutes {args.minutes:g}`", "",
             "| measure | value |", "|---|---|",
             f"| requests / distinct questions | {res['requests']} / {res['questions']} |",
             f"| errors | {res['errors']} {', '.join(res['error_kinds'])} |",
             f"| p50, first minute / last minute | {res['first_minute_ms']['p50']} / "
             f"{res['last_minute_ms']['p50']} ms |",
             f"| server RSS, after the first minute / at the end | {res['rss_mb_first_minute']}"
             f" / {res['rss_mb_end']} MB ({res['rss_change']:+.1%}) |",
             f"| open descriptors, ready / at the end | {fds_ready} / {fds_end} |",
             f"| machine | {res['machine']} |"]
    (RESULTS / "soak.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
