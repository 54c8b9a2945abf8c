"""Benchmark: IVF-PQ on on-disk inverted lists, refined from a float16 memory-mapped file.

Capacity past RAM, measured on one machine at N synthetic-from-real vectors (10M+):

* **Synthetic from real.** The real vectors are a published build's ``chunks.npy`` and
  ``sentences.npy`` (float16, L2-normalised, 384 dims). Synthetic row ``r`` in block ``b``
  is ``normalise(real[i] + w * real[j] + sigma * g / sqrt(384))`` with ``i, j`` random real
  rows, ``w`` uniform in ``[0, mix]`` and ``g`` Gaussian, all drawn from
  ``default_rng([seed, b])``: any block is regenerated on demand, so the N x 384 float32
  matrix (15 GB at 10M) is never in memory. Realism is reported as the mean cosine of a
  synthetic row to its source ``real[i]`` and the top-1 neighbour cosines of synthetic rows
  against as many synthetic rows as there are real ones, next to the same for real rows.
* **Queries.** Real rows perturbed to a cosine of about 0.8 with their source (roughly a
  question to its answer sentence), from their own seed.
* **Ground truth.** Exact top-10 inner product over all N rows, streamed block by block
  (``IndexFlatIP`` per block, merged).
* **Index.** ``--factory`` (default ``IVF16384_HNSW32,PQ48``, L2 on unit vectors ranks as
  inner product does) trained on the first ``--train`` rows; rows are added block by block
  into shard indexes of ``--shard-rows`` that are merged into one ``OnDiskInvertedLists``
  file (``faiss.contrib.ondisk.merge_ondisk``, the faiss wiki's "indexes that do not fit in
  RAM") and read back with ``IO_FLAG_ONDISK_SAME_DIR`` (the lists are mmapped).
* **Refine.** The float16 rows are written to ``refine.f16`` (N x 384 x 2 bytes) and read
  through ``np.memmap``: the top ``k'`` of IVF-PQ are re-scored exactly and the best 10
  kept.

The search runs in a fresh child process so its RSS is its own: VmRSS with its anonymous
and file-backed parts, after opening and after the queries; one query at a time with 1
and 2 faiss threads (p50/p95 per query), plus one batch of all queries (throughput);
a cold pass after evicting the two files from the page cache; recall@10 against the exact
top-10 (``|found & true| / 10``). ``--no-precomputed-table`` opens the index without IVF-PQ's
precomputed table (``nlist x M x 256`` floats, 805 MB at ``IVF16384,PQ48``), the RAM a
partition replica would rather not hold. The load average is recorded with every timing.
Prints a table, writes ``bench/results/scale.json`` (one entry per N, kept across runs)
and ``bench/results/scale.md``. Scratch files go to ``--work`` (default ``bench/out/scale``).

Usage: python -m bench.scale BUILD_DIR --n 1000000 [--work bench/out/scale] [--queries 500]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import faiss
import numpy as np
from faiss.contrib.ondisk import merge_ondisk

RESULTS = Path(__file__).parent / "results"
DIM = 384
K = 10


def load_real(build_dir: Path) -> np.ndarray:
    """The build's chunk and sentence vectors as one float32 array of unit rows."""
    parts = [np.load(build_dir / name).astype(np.float32)
             for name in ("chunks.npy", "sentences.npy")]
    real = np.concatenate(parts)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    return real


def _normalise(x: np.ndarray) -> np.ndarray:
    """``x`` with unit rows, in place."""
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


class Synthetic:
    """N synthetic vectors from real ones, generated block by block from (seed, block)."""

    def __init__(self, real: np.ndarray, n: int, *, seed: int = 0, sigma: float = 0.3,
                 mix: float = 0.3, block_rows: int = 250_000) -> None:
        self.real, self.n, self.seed = real, n, seed
        self.sigma, self.mix, self.block_rows = sigma, mix, block_rows

    @property
    def blocks(self) -> int:
        """How many blocks make N rows."""
        return -(-self.n // self.block_rows)

    def block(self, b: int, *, with_sources: bool = False):
        """Rows ``[b * block_rows, ...)`` as float32 (and their source rows if asked)."""
        rows = min(self.block_rows, self.n - b * self.block_rows)
        rng = np.random.default_rng([self.seed, b])
        first = rng.integers(0, len(self.real), rows)
        second = rng.integers(0, len(self.real), rows)
        weight = rng.uniform(0.0, self.mix, rows).astype(np.float32)
        x = self.real[first]
        x += weight[:, None] * self.real[second]
        x += (self.sigma / np.sqrt(DIM)) * rng.standard_normal((rows, DIM), dtype=np.float32)
        _normalise(x)
        return (x, first) if with_sources else x

    def head(self, rows: int) -> np.ndarray:
        """The first ``rows`` rows of the stream."""
        out, b = [], 0
        while sum(len(x) for x in out) < rows:
            out.append(self.block(b))
            b += 1
        return np.concatenate(out)[:rows]


def make_queries(real: np.ndarray, count: int, *, seed: int, sigma: float = 0.75) -> np.ndarray:
    """``count`` real rows perturbed to a cosine of about 0.8 with their source."""
    rng = np.random.default_rng([seed, 1_000_003])
    src = rng.choice(len(real), count, replace=False)
    q = real[src] + (sigma / np.sqrt(DIM)) * rng.standard_normal((count, DIM),
                                                                 dtype=np.float32)
    return _normalise(q)


def _top1_cosines(base: np.ndarray, probes: np.ndarray, *, skip_self: bool) -> np.ndarray:
    """Each probe's best inner product in ``base`` (the second best if it is in ``base``)."""
    flat = faiss.IndexFlatIP(DIM)
    flat.add(base)
    scores, _ = flat.search(probes, 2)
    return scores[:, 1] if skip_self else scores[:, 0]


def _quantiles(x: np.ndarray) -> dict:
    """p10 / p50 / p90 and the mean, rounded."""
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    return {"p10": round(float(p10), 3), "p50": round(float(p50), 3),
            "p90": round(float(p90), 3), "mean": round(float(np.mean(x)), 3)}


def realism(real: np.ndarray, synth: Synthetic, *, probes: int = 2000) -> dict:
    """Cosine of synthetic rows to their source; top-1 neighbour cosines, synthetic vs real."""
    x, first = synth.block(0, with_sources=True)
    to_source = np.einsum("ij,ij->i", x[:probes], synth.real[first[:probes]])
    rng = np.random.default_rng(12345)
    pick = rng.choice(len(real), probes, replace=False)
    same_size = Synthetic(real, len(real), seed=synth.seed + 1, sigma=synth.sigma,
                          mix=synth.mix, block_rows=synth.block_rows).head(len(real))
    return {"real_rows": len(real),
            "synthetic_to_source": _quantiles(to_source),
            "real_top1": _quantiles(_top1_cosines(real, real[pick], skip_self=True)),
            "synthetic_top1_same_size": _quantiles(
                _top1_cosines(same_size, same_size[pick], skip_self=True))}


def _merge_top(d: np.ndarray, i: np.ndarray, d2: np.ndarray, i2: np.ndarray):
    """The best ``K`` of two (scores, ids) result sets, per row, by descending score."""
    d_all, i_all = np.hstack([d, d2]), np.hstack([i, i2])
    order = np.argsort(-d_all, axis=1)[:, :K]
    return np.take_along_axis(d_all, order, 1), np.take_along_axis(i_all, order, 1)


def _load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def _rss() -> dict:
    """VmRSS and its anonymous / file-backed parts, MB, from /proc/self/status."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def _train(synth: Synthetic, factory: str, rows: int, work: Path) -> tuple[faiss.Index, float]:
    """The trained, empty index (cached in ``work`` by factory and training rows)."""
    name = f"trained_{factory.replace(',', '_')}_{rows}_s{synth.seed}.index"
    path = work / name
    if path.exists():
        return faiss.read_index(str(path)), 0.0
    sample = synth.head(rows)
    index = faiss.index_factory(DIM, factory)
    began = time.perf_counter()
    index.train(sample)
    seconds = time.perf_counter() - began
    faiss.write_index(index, str(path))
    return index, seconds


def build(args: argparse.Namespace) -> None:
    """Generate, train, add in shards, merge on disk, write refine file and ground truth."""
    work = Path(args.work) / f"n{args.n}"
    work.mkdir(parents=True, exist_ok=True)
    real = load_real(Path(args.build_dir))
    synth = Synthetic(real, args.n, seed=args.seed, sigma=args.sigma, mix=args.mix,
                      block_rows=args.block_rows)
    info: dict = {"n": args.n, "factory": args.factory, "train_rows": args.train,
                  "seed": args.seed, "sigma": args.sigma, "mix": args.mix,
                  "queries": args.queries, "load_start": _load()}
    began = time.perf_counter()
    info["realism"] = realism(real, synth)
    info["realism_seconds"] = round(time.perf_counter() - began, 1)
    print("realism", json.dumps(info["realism"]), flush=True)

    trained, info["train_seconds"] = _train(synth, args.factory, args.train, Path(args.work))
    info["train_seconds"] = round(info["train_seconds"], 1)
    info["load_after_train"] = _load()
    print(f"trained in {info['train_seconds']} s", flush=True)
    queries = make_queries(real, args.queries, seed=args.seed)
    np.save(work / "queries.npy", queries)

    refine = _npy_writer(work / "refine.npy", (args.n, DIM), np.float16)
    gt_d = np.full((args.queries, K), -np.inf, dtype=np.float32)
    gt_i = np.full((args.queries, K), -1, dtype=np.int64)
    shards: list[str] = []
    shard: faiss.Index | None = None
    seconds = {"generate": 0.0, "add": 0.0, "exact": 0.0, "write_refine": 0.0,
               "write_shards": 0.0}
    ivf = faiss.extract_index_ivf(trained)
    if hasattr(faiss, "downcast_index"):
        quantizer = faiss.downcast_index(ivf.quantizer)
        if hasattr(quantizer, "hnsw"):
            quantizer.hnsw.efSearch = 64
    blocks_per_shard = max(1, args.shard_rows // args.block_rows)
    started = time.perf_counter()
    for b in range(synth.blocks):
        t0 = time.perf_counter()
        x = synth.block(b)
        t1 = time.perf_counter()
        start = b * args.block_rows
        ids = np.arange(start, start + len(x), dtype=np.int64)
        if shard is None:
            shard = faiss.clone_index(trained)
        shard.add_with_ids(x, ids)
        t2 = time.perf_counter()
        flat = faiss.IndexFlatIP(DIM)
        flat.add(x)
        d, i = flat.search(queries, K)
        gt_d, gt_i = _merge_top(gt_d, gt_i, d, i + start)
        t3 = time.perf_counter()
        refine.write(x.astype(np.float16).tobytes())
        t4 = time.perf_counter()
        if (b + 1) % blocks_per_shard == 0 or b == synth.blocks - 1:
            path = work / f"shard{len(shards):03d}.index"
            faiss.write_index(shard, str(path))
            shards.append(str(path))
            shard = None
        t5 = time.perf_counter()
        for key, dt in zip(seconds, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            seconds[key] += dt
        if b % 8 == 0 or b == synth.blocks - 1:
            print(f"block {b + 1}/{synth.blocks} {time.perf_counter() - started:.0f} s "
                  f"load {_load()} rss {_rss()}", flush=True)
    refine.close()
    t0 = time.perf_counter()
    shard_bytes = sum(os.path.getsize(p) for p in shards)
    empty = faiss.clone_index(trained)
    for old in ("index.faiss", "lists.ivfdata"):
        (work / old).unlink(missing_ok=True)
    merge_ondisk(empty, shards, str(work / "lists.ivfdata"))
    faiss.write_index(empty, str(work / "index.faiss"))
    seconds["merge_ondisk"] = time.perf_counter() - t0
    for p in shards:
        os.remove(p)
    info["build_seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    info["build_wall_seconds"] = round(time.perf_counter() - began, 1)
    info["load_end"] = _load()
    info["peak_rss_mb_build"] = _rss().get("VmHWM")
    info["disk_mb"] = {"index.faiss": _mb(work / "index.faiss"),
                       "lists.ivfdata": _mb(work / "lists.ivfdata"),
                       "refine.npy": _mb(work / "refine.npy"),
                       "shards_before_merge": round(shard_bytes / 2**20, 1)}
    info["gt_top1"] = _quantiles(gt_d[:, 0])
    np.savez(work / "truth.npz", d=gt_d, i=gt_i)
    (work / "build.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info, indent=1), flush=True)


def _npy_writer(path: Path, shape: tuple[int, int], dtype: type) -> BinaryIO:
    """An open ``.npy`` file with its header written; rows are appended in order.

    Plain writes rather than a memmap, so the pages written are page cache and not part
    of the building process's RSS.
    """
    out = path.open("wb")
    np.lib.format.write_array_header_1_0(out, {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
        "shape": shape})
    return out


def _mb(path: Path) -> float:
    """A file's size in MB."""
    return round(path.stat().st_size / 2**20, 1)


def _evict(path: Path) -> None:
    """Ask the kernel to drop ``path`` from the page cache (cold-start measurement)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _refine(q: np.ndarray, ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The best ``K`` of ``ids`` by exact inner product with the float16 rows on disk."""
    ids = np.sort(ids[ids >= 0])
    scores = vectors[ids].astype(np.float32) @ q
    top = np.argsort(-scores)[:K]
    return ids[top], scores[top]


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean ``|found & truth| / K`` over queries."""
    return float(np.mean([len(set(f[:K]) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def _run(index: faiss.Index, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray,
         nprobe: int, depth: int | None) -> dict:
    """One query at a time at ``nprobe``; ``depth`` = k' re-scored exactly, None = no refine."""
    faiss.ParameterSpace().set_index_parameters(index, f"nprobe={nprobe}")
    _set_ef(index, nprobe)
    k = depth or K
    found, times = [], []
    load = _load()
    for q in queries:
        t0 = time.perf_counter()
        _, i = index.search(q[None, :], k)
        if depth:
            ids, _ = _refine(q, i[0], vectors)
        else:
            ids = i[0]
        times.append(time.perf_counter() - t0)
        found.append(ids)
    ms = np.array(times) * 1000
    return {"nprobe": nprobe, "refine": depth or 0, "recall10": round(_recall(found, truth), 3),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "load": load, "rss_mb": _rss()}


def _set_ef(index: faiss.Index, nprobe: int) -> None:
    """An HNSW coarse quantizer searches at least ``nprobe`` candidates."""
    quantizer = faiss.downcast_index(faiss.extract_index_ivf(index).quantizer)
    if hasattr(quantizer, "hnsw"):
        quantizer.hnsw.efSearch = max(64, 2 * nprobe)


def search(args: argparse.Namespace) -> None:
    """Open the on-disk index and refine file in this process and measure the searches."""
    work = Path(args.work) / f"n{args.n}"
    info = json.loads((work / "build.json").read_text())
    queries = np.load(work / "queries.npy")
    truth = np.load(work / "truth.npz")["i"]
    rss_start = _rss()
    for path in (work / "lists.ivfdata", work / "refine.npy"):
        _evict(path)
    t0 = time.perf_counter()
    flags = faiss.IO_FLAG_ONDISK_SAME_DIR
    if args.no_precomputed_table:
        flags |= faiss.IO_FLAG_SKIP_PRECOMPUTE_TABLE
    index = faiss.read_index(str(work / "index.faiss"), flags)
    if args.no_precomputed_table:
        faiss.downcast_index(faiss.extract_index_ivf(index)).use_precomputed_table = -1
    info["precomputed_table"] = not args.no_precomputed_table
    vectors = np.load(work / "refine.npy", mmap_mode="r")
    info["open_seconds"] = round(time.perf_counter() - t0, 2)
    info["rss_mb_before_open"] = rss_start
    info["rss_mb_after_open"] = _rss()
    faiss.omp_set_num_threads(1)
    cold = _run(index, vectors, queries[: args.cold], truth[: args.cold], 64, 100)
    info["cold"] = {**cold, "queries": args.cold}
    print("cold", cold, flush=True)
    rows = []
    for threads in (1, 2):
        faiss.omp_set_num_threads(threads)
        for nprobe in args.nprobes:
            for depth in (None, *args.refine):
                row = {"threads": threads, **_run(index, vectors, queries, truth, nprobe, depth)}
                rows.append(row)
                print(row, flush=True)
    info["runs"] = rows
    faiss.omp_set_num_threads(2)
    batch = []
    for nprobe in args.nprobes:
        faiss.ParameterSpace().set_index_parameters(index, f"nprobe={nprobe}")
        _set_ef(index, nprobe)
        load = _load()
        t0 = time.perf_counter()
        index.search(queries, max(args.refine))
        seconds = time.perf_counter() - t0
        batch.append({"nprobe": nprobe, "k": max(args.refine), "threads": 2,
                      "qps_ivfpq_only": round(len(queries) / seconds, 1), "load": load})
    info["batch"] = batch
    info["rss_mb_end"] = _rss()
    info["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "faiss": faiss.__version__, "numpy": np.__version__}
    _save(info)


def _save(info: dict) -> None:
    """Merge this N's entry into ``scale.json`` and rewrite ``scale.md``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "scale.json"
    all_runs = json.loads(path.read_text()) if path.exists() else {}
    key = str(info["n"]) + ("" if info.get("precomputed_table", True)
                            else "/no-precomputed-table")
    all_runs[key] = info
    path.write_text(json.dumps(all_runs, indent=1) + "\n")
    (RESULTS / "scale.md").write_text(_markdown(all_runs))
    print(_markdown({key: info}))


def _markdown(all_runs: dict) -> str:
    """The results as markdown, one section per N."""
    out = ["# IVF-PQ on disk + float16 refine at scale (`python -m bench.scale`)", "",
           "Synthetic-from-real vectors (see the module docstring); recall@10 is against "
           "the exact top-10 inner product over all N rows. Latency is per single query, "
           "the refine included. `load` is the 1-minute load average when the row started "
           "(2 cores; other jobs ran at times). RSS: `VmRSS` = `RssAnon` (heap) + "
           "`RssFile` (pages of the mmapped lists and refine file, i.e. page cache the "
           "kernel can drop).", ""]
    for key in sorted(all_runs, key=lambda k: (int(k.split("/")[0]), k)):
        r = all_runs[key]
        n = int(r["n"])
        real = r["realism"]
        table = ("IVF-PQ precomputed table in RAM" if r.get("precomputed_table", True)
                 else "no precomputed table (`IO_FLAG_SKIP_PRECOMPUTE_TABLE`)")
        out += [f"## N = {n:,} (`{r['factory']}`, trained on {r['train_rows']:,} rows; "
                f"{table})", "",
                f"- build: train {r['train_seconds']} s (0 = reused), "
                f"{json.dumps(r['build_seconds'])}, wall {r['build_wall_seconds']} s, "
                f"peak RSS {r['peak_rss_mb_build']} MB, load {r['load_start']} -> "
                f"{r['load_end']}",
                f"- disk (MB): {json.dumps(r['disk_mb'])}",
                f"- open: {r['open_seconds']} s; RSS before open {r['rss_mb_before_open']}, "
                f"after open {r['rss_mb_after_open']}, at the end {r['rss_mb_end']}",
                f"- realism: synthetic-to-source cosine {real['synthetic_to_source']}; "
                f"top-1 neighbour cosine, real set ({real['real_rows']:,} rows) "
                f"{real['real_top1']}, synthetic set of the same size "
                f"{real['synthetic_top1_same_size']}; queries' exact top-1 at N "
                f"{r['gt_top1']}",
                f"- cold (files evicted from page cache first, first {r['cold']['queries']} "
                f"queries, nprobe {r['cold']['nprobe']}, refine {r['cold']['refine']}, "
                f"1 thread): p50 {r['cold']['p50_ms']} ms, p95 {r['cold']['p95_ms']} ms, "
                f"recall@10 {r['cold']['recall10']}", "",
                "| threads | nprobe | refine k' | recall@10 | p50 ms | p95 ms | load 1/5/15 "
                "| VmRSS MB (anon + file) |",
                "|---|---|---|---|---|---|---|---|"]
        for row in r["runs"]:
            rss = row["rss_mb"]
            out.append(f"| {row['threads']} | {row['nprobe']} | {row['refine'] or '-'} "
                       f"| {row['recall10']} | {row['p50_ms']} | {row['p95_ms']} "
                       f"| {row['load']} | {rss.get('VmRSS')} ({rss.get('RssAnon')} + "
                       f"{rss.get('RssFile')}) |")
        out += ["", "Batch of all queries in one call (IVF-PQ only, 2 threads): " + ", ".join(
            f"nprobe {b['nprobe']}: {b['qps_ivfpq_only']} q/s (load {b['load']})"
            for b in r["batch"]), ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", help="a published build folder (chunks.npy, "
                        "sentences.npy)")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--work", default=str(Path("bench") / "out" / "scale"))
    parser.add_argument("--factory", default="IVF16384_HNSW32,PQ48")
    parser.add_argument("--train", type=int, default=300_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--cold", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sigma", type=float, default=0.3)
    parser.add_argument("--mix", type=float, default=0.3)
    parser.add_argument("--block-rows", type=int, default=250_000)
    parser.add_argument("--shard-rows", type=int, default=1_000_000)
    parser.add_argument("--nprobes", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--refine", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--no-precomputed-table", action="store_true",
                        help="search without IVF-PQ's nlist x M x 256 float table "
                        "(805 MB at IVF16384,PQ48): less RAM, slower lists")
    parser.add_argument("--phase", choices=("all", "build", "search"), default="all")
    args = parser.parse_args()
    if args.phase in ("all", "build"):
        build(args)
    if args.phase == "all":
        cmd = [sys.executable, "-m", "bench.scale", *sys.argv[1:], "--phase", "search"]
        subprocess.run(cmd, check=True)
    elif args.phase == "search":
        search(args)


if __name__ == "__main__":
    main()
