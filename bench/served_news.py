"""Serving a news index over HTTP: server RSS, ``/api/chat`` latency with one client
(each question as of the day after its quiz, as the news protocol asks), throughput with
8 clients, and the floor a question cannot beat (one query embedding and one FAISS
search) measured in the same run, question by question between the requests.

    python -m bench.served_news ../shared/eval/news-rtqa --index-dir D [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx

from bench.archive import throughput
from bench.evaluation import floor_costs_ms
from bench.news import load_questions
from bench.served import ask, probing, rss_mb, served, summary
from index.reader import open_published
from service.settings import Settings

RESULTS = Path(__file__).parent / "results"
WARM_UP = 10  # requests (and floors) before the timed ones


def last_recorded(journal: Path) -> int:
    """The id of the server's last recorded question (0 before any)."""
    with closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        return db.execute("SELECT COALESCE(MAX(id), 0) FROM questions").fetchone()[0]


def answer_times(journal: Path, after: int) -> list[float]:
    """The engine's milliseconds for each question the server recorded after ``after``,
    in order: the time inside the server, without HTTP."""
    with closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        return [r[0] for r in db.execute(
            "SELECT latency_ms FROM questions WHERE id > ? ORDER BY id", (after,))]


def paired_timings(url: str, index_dir: Path, texts: list[str], bodies: list[dict]
                   ) -> tuple[list[float], list[float]]:
    """Per question, the floor (one query embedding plus one FAISS search, in this
    process) and then its ``/api/chat`` request: interleaved, so a slower or faster spell
    of a shared machine weighs on both sides of the ratio alike. The embedder is loaded
    from the same settings as the server's (``QA_EMBED_THREADS``): a floor on other
    threads than the server's would misstate the ratio."""
    reader = open_published(index_dir)
    embedder = Settings().embedder_spec().load()
    floor: list[float] = []
    chat: list[float] = []
    with httpx.Client() as http:
        for body in bodies[:WARM_UP]:  # warm-up, both sides
            ask(http, url, body)
        floor_costs_ms(embedder, reader.vectors, texts[:WARM_UP], 50)
        for text, body in zip(texts, bodies, strict=True):
            floor.extend(floor_costs_ms(embedder, reader.vectors, [text], 50).tolist())
            chat.append(ask(http, url, body))
    reader.close()
    return floor, chat


def main() -> None:
    """Measure and write ``bench/results/served_news[_quick].{json,md}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    questions = load_questions(args.folder, args.quick)
    bodies = [{"messages": [{"role": "user", "content": q.text}],
               "as_of": q.as_of.isoformat()} for q in questions]
    reader = open_published(args.index_dir)
    res: dict = {"index_version": reader.version, "articles": reader.manifest.articles,
                 "chunks": reader.manifest.chunks, "sentences": reader.manifest.sentences,
                 "vector_index": reader.manifest.vector_index,
                 "machine": f"{platform.machine()}, {os.cpu_count()} cores"}
    reader.close()
    env = {**os.environ, "QA_RELOAD_INTERVAL": "0", "QA_DATA_DIR": str(args.index_dir.parent
                                                                       / "served-data")}
    journal = Path(env["QA_DATA_DIR"]) / "journal.sqlite"
    with served(args.index_dir, env) as (url, pid):
        res["rss_mb_ready"] = round(rss_mb(pid), 1)
        before = last_recorded(journal)
        floor, chat = paired_timings(url, args.index_dir, [q.text for q in questions[:200]],
                                     bodies[:200])
        res["one_client_ms"] = summary(chat)
        res["search_floor_ms"] = summary(floor)
        # The server's own time for each answer (its journal), warm-up requests skipped.
        res["answer_in_server_ms"] = summary(answer_times(journal, before)[WARM_UP:])
        with probing(url) as health:
            rps, errors = throughput(url, bodies, 8, args.requests)
        res["eight_clients"] = {"requests_per_s": round(rps, 1), "errors": errors,
                                "requests": args.requests,
                                "healthz_ms": {**summary(health), "max": round(max(health), 1)}}
        res["rss_mb_after"] = round(rss_mb(pid), 1)
    res["p50_over_floor"] = round(res["one_client_ms"]["p50"] / res["search_floor_ms"]["p50"],
                                  2)
    health_ms = res["eight_clients"]["healthz_ms"]
    stem = "served_news_quick" if args.quick else "served_news"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(res, indent=2) + "\n")
    lines = [f"# Serving the news index ({res['articles']} pages, {res['chunks']} chunks, "
             f"{res['vector_index']['factory']})", "",
             "| measure | value |", "|---|---|",
             f"| server RSS, ready / after the run | {res['rss_mb_ready']} / "
             f"{res['rss_mb_after']} MB |",
             f"| `/api/chat` 1 client, p50 / p95 | {res['one_client_ms']['p50']} / "
             f"{res['one_client_ms']['p95']} ms |",
             f"| the answer inside the server (its journal), p50 | "
             f"{res['answer_in_server_ms']['p50']} ms |",
             f"| one query embedding + one FAISS search (floor), p50 | "
             f"{res['search_floor_ms']['p50']} ms |",
             f"| p50 / floor | {res['p50_over_floor']}x |",
             f"| 8 clients | {res['eight_clients']['requests_per_s']} req/s, "
             f"{res['eight_clients']['errors']} errors |",
             f"| `/healthz` meanwhile (another process, every 20 ms), p50 / p95 / max | "
             f"{health_ms['p50']} / {health_ms['p95']} / {health_ms['max']} ms |",
             f"| machine | {res['machine']} |"]
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
