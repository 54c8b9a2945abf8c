"""The same pages built locally and on a local Ray cluster of two nodes, in one run.

    python -m bench.ray_build --pages 1000

Prints a table and writes bench/results/ray_build.md and .json: build seconds and their
ratio, each node's texts and texts per second of model time, the peak RSS of the local
build and of the Ray build's driver, and how close the two builds are (rows, offsets,
vector cosines). On one 2-core machine the cluster is not faster (its two one-CPU nodes
share the cores the local build uses whole); the point is that the work spreads.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bench.ray_cluster import local_cluster
from index.reader import IndexReader

ROOT = Path(__file__).resolve().parent.parent
QA = str(Path(sys.executable).with_name("qa"))
QUICK = Path("../shared/eval/news-rtqa/quick-articles.jsonl.gz")


@dataclass
class Comparison:
    """How two published builds of the same pages differ."""

    same_recipe: bool
    same_rows: bool  # articles, chunks and sentences: ids, offsets, texts
    chunk_cosine_min: float
    sentence_cosine_min: float


def published(index_dir: Path) -> Path:
    """The published build of an index directory."""
    return index_dir / "builds" / (index_dir / "CURRENT").read_text().strip()


def compare_builds(a_dir: Path, b_dir: Path) -> Comparison:
    """Compare the published builds of two index directories row by row."""
    a, b = IndexReader(published(a_dir)), IndexReader(published(b_dir))
    try:
        same_rows = all(
            [tuple(r) for r in a.store.conn.execute(f"SELECT * FROM {t} ORDER BY rowid")]
            == [tuple(r) for r in b.store.conn.execute(f"SELECT * FROM {t} ORDER BY rowid")]
            for t in ("articles", "chunks", "sentences"))
        cosines = [_cosine_min(getattr(a, n), getattr(b, n))
                   for n in ("chunk_vectors", "sentence_vectors")]
        return Comparison(a.manifest.recipe == b.manifest.recipe, same_rows, *cosines)
    finally:
        a.close()
        b.close()


def _cosine_min(x: np.ndarray, y: np.ndarray) -> float:
    """The lowest row cosine of two matrices; a zero row must be zero in both (a text
    without words under the hashing embedder), else the answer is -1."""
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
    if x.shape != y.shape:
        return -1.0
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    if not np.array_equal(nx == 0, ny == 0):
        return -1.0
    some = nx > 0
    if not some.any():
        return 1.0
    return float(((x[some] * y[some]).sum(axis=1) / (nx[some] * ny[some])).min())


@dataclass
class Run:
    """One build command: its wall time, peak RSS and what it printed."""

    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_build(args: list[str], env: dict[str, str], scratch: Path) -> Run:
    """Run ``qa index build ARGS`` to the end; its own peak RSS, from wait4."""
    scratch.mkdir(parents=True, exist_ok=True)
    out_path, err_path = scratch / "stdout.txt", scratch / "stderr.txt"
    began = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen([QA, "index", "build", *args], env=env, cwd=ROOT,
                                   stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = out_path.read_text(), err_path.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"qa index build failed: {stderr.strip().splitlines()[-1:]}")
    return Run(seconds, usage.ru_maxrss / 1024, stdout, stderr)


def first_pages(archive: Path, n: int, folder: Path) -> Path:
    """The archive's first ``n`` pages as one JSONL file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(archive, "rt", encoding="utf-8") as f:
        lines = list(itertools.islice(f, n))
    (folder / "pages.jsonl").write_text("".join(lines))
    return folder


NODE_LINE = re.compile(r"ray node (\S+): (\d+) texts, ([\d.]+) texts/s")


def main() -> None:
    """Run both builds and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=QUICK)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ray_build")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    source = first_pages(args.archive, args.pages, args.out / "pages")
    local_dir, ray_dir = args.out / "local", args.out / "ray"
    base = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    local = run_build([str(source), "--index-dir", str(local_dir), "--full"], base,
                      args.out / "local-log")
    with local_cluster(workers=1, cpus_per_node=1, PYTHONPATH=str(ROOT)) as (address, env):
        ray = run_build([str(source), "--index-dir", str(ray_dir), "--full",
                         "--ray-address", address], env, args.out / "ray-log")
    nodes = [{"node": m[1], "texts": int(m[2]), "texts_per_second": float(m[3])}
             for m in NODE_LINE.finditer(ray.stderr)]
    comparison = compare_builds(local_dir, ray_dir)
    manifest = json.loads((published(local_dir) / "manifest.json").read_text())
    result = {
        "pages": args.pages, "archive": args.archive.name,
        "chunks": manifest["chunks"], "sentences": manifest["sentences"],
        "local_seconds": round(local.seconds, 1), "ray_seconds": round(ray.seconds, 1),
        "ray_over_local": round(ray.seconds / local.seconds, 2),
        "local_peak_rss_mb": round(local.peak_rss_mb, 1),
        "ray_driver_peak_rss_mb": round(ray.peak_rss_mb, 1),
        "nodes": nodes, "comparison": asdict(comparison),
        "local_summary": local.stdout.strip(), "ray_summary": ray.stdout.strip(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "load_average_at_end": os.getloadavg()[0],
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "ray_build.json").write_text(json.dumps(result, indent=2) + "\n")
    table = render(result)
    (args.results / "ray_build.md").write_text(table)
    print(table)


def render(r: dict) -> str:
    """The results as Markdown."""
    c = r["comparison"]
    lines = [
        f"# Ray build: {r['pages']} pages locally and on a 2-node local cluster",
        "",
        f"{r['pages']} pages of `{r['archive']}` ({r['chunks']:,} chunks, "
        f"{r['sentences']:,} sentences), default model (ONNX fp32, one pass), "
        f"{r['machine']}. The cluster is a head and a worker node, each a `ray start` "
        "process with 1 CPU, on this machine: it shares the 2 cores the local build "
        "uses whole, so it is not expected to be faster. `python -m bench.ray_build`.",
        "",
        "| build | seconds | ratio | peak RSS (MB) |",
        "|---|---|---|---|",
        f"| local (`qa index build`) | {r['local_seconds']} | 1.00 | "
        f"{r['local_peak_rss_mb']} |",
        f"| Ray, 2 nodes (`--ray-address`) | {r['ray_seconds']} | {r['ray_over_local']} | "
        f"{r['ray_driver_peak_rss_mb']} (the driver; actors run in their nodes) |",
        "",
        "| node | texts | texts/s of model time |",
        "|---|---|---|",
        *[f"| {n['node']} | {n['texts']:,} | {n['texts_per_second']} |" for n in r["nodes"]],
        "",
        f"Same recipe: {c['same_recipe']}; same articles, chunks and sentences (ids, "
        f"offsets, texts): {c['same_rows']}; lowest cosine between the two builds' "
        f"vectors: chunks {c['chunk_cosine_min']:.7f}, sentences "
        f"{c['sentence_cosine_min']:.7f}.",
        "",
        f"Load average when it ended: {r['load_average_at_end']:.2f}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
