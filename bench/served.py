"""Benchmark helpers: a real ``qa serve`` process, timed requests, percentiles."""

from __future__ import annotations

import multiprocessing
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

QA = str(Path(sys.executable).parent / "qa")


@contextmanager
def served(index_dir: Path, env: dict[str, str], port: int = 8765,
           output: IO | None = None) -> Iterator[tuple[str, int]]:
    """``qa serve`` over an index, ready; yields (base URL, server pid). The server's
    output goes to ``output`` (a file), else nowhere."""
    sink = output if output is not None else subprocess.DEVNULL
    server = subprocess.Popen([QA, "serve", "--index-dir", str(index_dir), "--port", str(port)],
                              env=env, stdout=sink, stderr=subprocess.STDOUT if output
                              else subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not become ready")
        yield url, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def ask(client: httpx.Client, url: str, body: dict) -> float:
    """One ``POST /api/chat``; its latency in milliseconds."""
    began = time.perf_counter()
    response = client.post(url + "/api/chat", json=body, timeout=60)
    response.raise_for_status()
    return (time.perf_counter() - began) * 1000


def timings(url: str, body: dict, n: int) -> list[float]:
    """``n`` sequential requests of one body after a warm-up one."""
    with httpx.Client() as client:
        ask(client, url, body)
        return [ask(client, url, body) for _ in range(n)]


def _probe(url: str, every: float, stop: multiprocessing.synchronize.Event,
           out: multiprocessing.Queue) -> None:
    ms = []
    with httpx.Client() as http:
        while not stop.is_set():
            began = time.perf_counter()
            http.get(url + "/healthz", timeout=60).raise_for_status()
            ms.append((time.perf_counter() - began) * 1000)
            time.sleep(every)
    out.put(ms)


@contextmanager
def probing(url: str, every: float = 0.02) -> Iterator[list[float]]:
    """``GET /healthz`` every ``every`` seconds from another process (the load's client
    threads would otherwise slow the probe in its own process) while the block runs; the
    list yielded holds the probes' milliseconds once the block ends."""
    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    prober = context.Process(target=_probe, args=(url, every, stop, out), daemon=True)
    prober.start()
    found: list[float] = []
    try:
        yield found
    finally:
        stop.set()
        found.extend(out.get(timeout=60))
        prober.join(timeout=10)


def summary(ms: list[float]) -> dict:
    """p50, p95 and count of latencies."""
    ordered = sorted(ms)
    return {"p50": round(statistics.median(ordered), 1),
            "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1), "n": len(ordered)}


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
