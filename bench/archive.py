"""Benchmark: a real news archive — build, serve, rebuild — and the search stage at 1M chunks.

In one run, over the first ``--pages`` pages of the news-rtqa archive (written as a
``.jsonl.gz``, which the build reads as a stream):

1. a full build with the default embedder: time, texts embedded and shared, texts/s;
   the torch backend's rate on a sample of the same texts, and the build time it implies;
2. the index's size on disk, the server's RSS once ready, ``/api/chat`` p50/p95 with one
   client and the throughput of 8 clients (quiz questions of the archive), errors counted;
3. an incremental rebuild after changing one article;
4. the search stage at ``--vectors`` chunk vectors (the build's real chunk vectors,
   repeated with small perturbations), exact against IVF: build time, memory, p50 per
   query (one thread) and recall@10 against exact search, for several ``nprobe``.

    python -m bench.archive --news NEWS_RTQA_DIR [--pages 800] [--full] [--vectors 1000000]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from pathlib import Path

import faiss
import httpx
import numpy as np

from bench.served import ask, rss_mb, served, summary
from index.builder import Builder
from index.chunking import CHUNK_TEMPLATE, Chunker, split_sentences
from index.embedder import EmbedderSpec
from index.reader import open_published
from index.records import Article
from index.vector_index import VectorIndexSpec, choose
from index.vector_index import build as build_index

RESULTS = Path(__file__).parent / "results"


def load_pages(folder: Path, full: bool, pages: int) -> list[dict]:
    """The first ``pages`` pages of the archive (or of its quick loop)."""
    name = "articles.jsonl.gz" if full else "quick-articles.jsonl.gz"
    out = []
    with gzip.open(folder / name, "rt") as lines:
        for line in lines:
            out.append(json.loads(line))
            if len(out) >= pages:
                break
    return out


def questions(folder: Path, full: bool) -> list[str]:
    """The quiz questions of the set."""
    rows = [json.loads(line) for line in (folder / "questions.jsonl").open()]
    return [r["question"] for r in rows if full or r["id"].startswith("2025")]


def write_gz(path: Path, pages: list[dict]) -> None:
    """Pages as a gzipped JSONL file."""
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for page in pages:
            out.write(json.dumps(page) + "\n")


def sample_texts(pages: list[dict], n: int, seed: int = 5) -> list[str]:
    """What a build embeds (chunk texts with titles, and sentences), sampled."""
    chunker = Chunker()
    texts: list[str] = []
    for page in pages[:200]:
        article = Article(id=page["id"], title=page.get("title") or "", text=page["text"])
        texts += [CHUNK_TEMPLATE.format(title=article.title, text=c.text)
                  for c in chunker.chunk(article)]
        texts += [article.text[s.start : s.end] for s in split_sentences(article.text)]
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.choice(len(texts), min(n, len(texts)), replace=False)]


def rate(spec: EmbedderSpec, texts: list[str]) -> float:
    """Texts per second of a backend embedding these texts in build-sized batches."""
    embedder = spec.load()
    embedder.embed(texts[:64])
    began = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - began)


def throughput(url: str, bodies: list[dict], clients: int, total: int) -> tuple[float, int]:
    """Requests per second of ``clients`` concurrent clients, and the errors seen."""
    lock = threading.Lock()
    state = {"next": 0, "errors": 0}

    def client() -> None:
        with httpx.Client() as http:
            while True:
                with lock:
                    i = state["next"]
                    state["next"] += 1
                if i >= total:
                    return
                try:
                    ask(http, url, bodies[i % len(bodies)])
                except httpx.HTTPError:
                    with lock:
                        state["errors"] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return total / (time.perf_counter() - began), state["errors"]


def search_stage(chunks: np.ndarray, queries: np.ndarray, n: int, seed: int = 11) -> dict:
    """Exact against IVF search over ``n`` vectors grown from real chunk vectors."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(chunks), n)
    # Each copy is its original moved by noise of ~0.25 its length: close, not identical
    # (identical copies would make recall meaningless).
    noise = rng.normal(scale=0.25 / np.sqrt(chunks.shape[1]), size=(n, chunks.shape[1]))
    vectors = (chunks[rows] + noise).astype(np.float32)
    vectors[: len(chunks)] = chunks
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    faiss.omp_set_num_threads(1)  # a query runs on one thread in the server

    def per_query_ms(index: faiss.Index) -> tuple[float, np.ndarray]:
        found, times = [], []
        for q in queries:
            began = time.perf_counter()
            _, ids = index.search(q.reshape(1, -1), 10)
            times.append(1000 * (time.perf_counter() - began))
            found.append(ids[0])
        return statistics.median(times), np.array(found)

    out: dict = {"vectors": n}
    began = time.perf_counter()
    exact = build_index(vectors, VectorIndexSpec())
    out["exact"] = {"build_s": time.perf_counter() - began,
                    "memory_mb": faiss.serialize_index(exact).nbytes / 2**20}
    out["exact"]["p50_ms"], truth = per_query_ms(exact)
    del exact
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # training uses every core
    spec = choose(n, "ivf")
    began = time.perf_counter()
    approx = build_index(vectors, spec)
    faiss.omp_set_num_threads(1)
    out["ivf"] = {"factory": spec.factory, "default_nprobe": spec.nprobe,
                  "build_s": time.perf_counter() - began,
                  "memory_mb": faiss.serialize_index(approx).nbytes / 2**20, "sweep": []}
    ivf = faiss.extract_index_ivf(approx)
    for nprobe in sorted({spec.nprobe // 2, spec.nprobe, spec.nprobe * 2, spec.nprobe * 4}):
        ivf.nprobe = max(1, nprobe)
        p50, found = per_query_ms(approx)
        recall = float(np.mean([len(set(t) & set(f)) / 10
                                for t, f in zip(truth, found, strict=True)]))
        out["ivf"]["sweep"].append({"nprobe": ivf.nprobe, "p50_ms": p50, "recall@10": recall})
    return out


def main() -> None:
    """Run every measurement and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=Path, required=True)
    parser.add_argument("--pages", type=int, default=800)
    parser.add_argument("--full", action="store_true", help="the full archive, not the quick loop")
    parser.add_argument("--vectors", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    pages = load_pages(args.news, args.full, args.pages)
    asked = questions(args.news, args.full)
    spec = EmbedderSpec()
    res: dict = {"pages": len(pages), "text_mb": sum(len(p["text"]) for p in pages) / 1e6,
                 "embedder": spec.backend,
                 "machine": f"{platform.machine()}, {os.cpu_count()} cores"}

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        write_gz(source / "archive.jsonl.gz", pages)
        index_dir = Path(tmp) / "ix"
        embedder = spec.load()
        report = Builder.with_embedder(index_dir, embedder).build([source])
        res["build"] = {"seconds": report.seconds, "embed_seconds": report.embed_seconds,
                        "embedded": report.embedded_texts, "shared": report.repeated_texts,
                        "texts_per_s": report.texts_per_second}
        sample = sample_texts(pages, 1500)
        torch_rate = rate(EmbedderSpec(backend="torch"), sample)
        ours_rate = rate(spec, sample)
        other = report.seconds - report.embed_seconds
        res["torch"] = {
            "sample_texts_per_s": torch_rate, "default_sample_texts_per_s": ours_rate,
            # The previous build: torch, and every text embedded, repeats included.
            "implied_build_s": other + (report.embedded_texts + report.repeated_texts)
            / torch_rate}
        build_path = index_dir / "builds" / report.build_id
        res["disk_mb"] = sum(f.stat().st_size for f in build_path.iterdir()) / 2**20

        env = {**os.environ, "QA_RELOAD_INTERVAL": "0"}
        bodies = [{"messages": [{"role": "user", "content": q}]} for q in asked]
        with served(index_dir, env) as (url, pid):
            res["rss_mb"] = rss_mb(pid)
            with httpx.Client() as http:
                for body in bodies[:10]:
                    ask(http, url, body)
                one = [ask(http, url, body) for body in bodies[: min(200, len(bodies))]]
            res["one_client_ms"] = summary(one)
            rps, errors = throughput(url, bodies, 8, args.requests)
            res["eight_clients"] = {"requests_per_s": rps, "errors": errors,
                                    "requests": args.requests}
            res["rss_mb_after_load"] = rss_mb(pid)

        changed = [dict(p) for p in pages]
        changed[0]["text"] += "\n\nThis article was updated with one more paragraph."
        write_gz(source / "archive.jsonl.gz", changed)
        again = Builder.with_embedder(index_dir, embedder).build([source])
        res["incremental"] = {"seconds": again.seconds, "embedded": again.embedded_texts,
                              "reused": again.reused_texts}

        reader = open_published(index_dir)
        chunks = np.asarray(reader.chunk_vectors, dtype=np.float32)
        reader.close()
    query_vectors = embedder.embed(asked)
    res["search"] = search_stage(chunks, query_vectors, args.vectors)
    write(res, args)


def write(res: dict, args: argparse.Namespace) -> None:
    """Print the tables and write ``bench/results/archive.{json,md}``."""
    b, t, s = res["build"], res["torch"], res["search"]
    lines = [
        "# News archive benchmark", "",
        f"`python -m bench.archive --pages {args.pages}{' --full' if args.full else ''} "
        f"--vectors {args.vectors}` ({res['machine']}; one run on an otherwise idle machine; "
        f"{res['pages']} pages, {res['text_mb']:.1f} MB of text; embedder {res['embedder']})",
        "", "| measure | value |", "|---|---|",
        f"| full build | {b['seconds']:.0f} s ({b['embed_seconds']:.0f} s embedding) |",
        f"| texts embedded / identical texts sharing a vector | {b['embedded']} / {b['shared']} |",
        f"| build embedding rate | {b['texts_per_s']:.0f} texts/s |",
        f"| torch rate on a sample of the same texts / default backend | "
        f"{t['sample_texts_per_s']:.0f} / {t['default_sample_texts_per_s']:.0f} texts/s "
        f"({t['default_sample_texts_per_s'] / t['sample_texts_per_s']:.2f}x) |",
        f"| previous build (torch, every text) implied by that rate | "
        f"{t['implied_build_s']:.0f} s (**{t['implied_build_s'] / b['seconds']:.2f}x** "
        "the new build) |",
        f"| index on disk | {res['disk_mb']:.0f} MB |",
        f"| server RSS, ready / after the load test | {res['rss_mb']:.0f} / "
        f"{res['rss_mb_after_load']:.0f} MB |",
        f"| `/api/chat`, 1 client | p50 {res['one_client_ms']['p50']} ms, "
        f"p95 {res['one_client_ms']['p95']} ms ({res['one_client_ms']['n']} questions) |",
        f"| `/api/chat`, 8 clients | {res['eight_clients']['requests_per_s']:.0f} req/s, "
        f"{res['eight_clients']['errors']} errors in {res['eight_clients']['requests']} |",
        f"| incremental rebuild, one article changed | {res['incremental']['seconds']:.1f} s "
        f"({res['incremental']['embedded']} texts embedded, "
        f"{res['incremental']['reused']} reused) |",
        "", f"Search stage at {s['vectors']:,} chunk vectors (the build's, grown with "
        "perturbed copies; the quiz questions' real embeddings; one thread per query):", "",
        "| index | build s | memory MB | nprobe | p50 ms | recall@10 |",
        "|---|---|---|---|---|---|",
        f"| exact (Flat) | {s['exact']['build_s']:.1f} | {s['exact']['memory_mb']:.0f} | - | "
        f"{s['exact']['p50_ms']:.2f} | 1.000 |"]
    lines += [f"| {s['ivf']['factory']} | {s['ivf']['build_s']:.1f} | {s['ivf']['memory_mb']:.0f} "
              f"| {r['nprobe']}{' (default)' if r['nprobe'] == s['ivf']['default_nprobe'] else ''} "
              f"| {r['p50_ms']:.2f} | {r['recall@10']:.3f} |" for r in s["ivf"]["sweep"]]
    text = "\n".join(lines) + "\n"
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "archive.md").write_text(text)
    (RESULTS / "archive.json").write_text(json.dumps(res, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
