"""``qa index build --ray``: a build on a Ray cluster of two nodes (a head and a worker,
separate processes) publishes the index a local build publishes, and it answers."""

from __future__ import annotations

import contextlib
import gzip
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from index.reader import IndexReader
from tests.conftest import ROOT, free_port

pytest.importorskip("ray", reason="needs the ray extra: pip install '.[ray]'")

pytestmark = [pytest.mark.ray, pytest.mark.timeout(900)]

# The news quick loop (read by path, never copied); synthetic briefs stand in without it.
EVAL_DIR = Path(os.environ.get("QA_EVAL_DIR", ROOT.parent / "shared" / "eval"))
QUICK = EVAL_DIR / "news-rtqa" / "quick-articles.jsonl.gz"
RAY = str(Path(sys.executable).with_name("ray"))
QA = str(Path(sys.executable).with_name("qa"))


def pages(n: int) -> list[dict]:
    """The first ``n`` pages of the news quick loop, else ``n`` synthetic briefs."""
    if QUICK.is_file():
        with gzip.open(QUICK, "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in itertools.islice(f, n)]
    from bench.synthetic import articles

    return list(articles(n))


def write_pages(folder: Path, items: list[dict]) -> Path:
    """Pages as one JSONL file; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pages.jsonl").write_text("".join(json.dumps(p) + "\n" for p in items))
    return folder


# The cluster's own token (Ray authenticates every client by default): nodes, drivers
# and probes share it, and no other cluster on this machine (which would share the
# default token file) can break it.
TOKEN = secrets.token_hex(32)


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN": TOKEN, **extra}
    env.pop("QA_RAY_ADDRESS", None)
    return env


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A head node and a worker node, each a `ray start --block` process of its own,
    on free ports and a temporary directory of their own; yields the address."""
    temp = tempfile.mkdtemp(prefix="rb", dir="/tmp")  # short: unix socket paths
    port = free_port()
    common = ["--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats",
              "--block"]
    nodes = [subprocess.Popen(
        [RAY, "start", "--head", f"--port={port}", "--include-dashboard=false",
         f"--temp-dir={temp}", f"--ray-client-server-port={free_port()}", *common],
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)]
    address = f"127.0.0.1:{port}"
    try:
        _wait_for_nodes(address, 1)
        nodes.append(subprocess.Popen(
            [RAY, "start", f"--address={address}", *common], env=_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        _wait_for_nodes(address, 2)
        yield address
    finally:
        _stop(nodes)
        shutil.rmtree(temp, ignore_errors=True)


def _wait_for_nodes(address: str, n: int, timeout: float = 120.0) -> None:
    probe = (f"import ray; ray.init(address={address!r}, log_to_driver=False); "
             "print(sum(1 for x in ray.nodes() if x['Alive']))")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run([sys.executable, "-c", probe], env=_env(), capture_output=True,
                              text=True, timeout=60)
        if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(n)]:
            return
        time.sleep(1.0)
    raise AssertionError(f"the Ray cluster at {address} did not reach {n} nodes")


def _stop(processes: list[subprocess.Popen]) -> None:
    """Stop each process group: SIGTERM to all, then SIGKILL to what is left."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # a group killed whole leaves no worker behind
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def qa(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run the qa command; returns the finished process."""
    return subprocess.run([QA, *args], env=_env(**env),
                          capture_output=True, text=True, timeout=800, cwd=ROOT)


def same_index(local: Path, distributed: Path, tolerance: float) -> None:
    """The two published builds hold the same rows, offsets and vectors (cosine within
    ``tolerance``), recorded with the same recipe."""
    a, b = IndexReader(_published(local)), IndexReader(_published(distributed))
    try:
        assert a.manifest.recipe == b.manifest.recipe
        assert (a.manifest.articles, a.manifest.chunks, a.manifest.sentences) == \
            (b.manifest.articles, b.manifest.chunks, b.manifest.sentences)
        for table in ("chunks", "sentences"):
            rows = f"SELECT * FROM {table} ORDER BY rowid"
            assert [tuple(r) for r in a.store.conn.execute(rows)] == \
                [tuple(r) for r in b.store.conn.execute(rows)]
        for name in ("chunk_vectors", "sentence_vectors"):
            x = np.asarray(getattr(a, name), dtype=np.float32)
            y = np.asarray(getattr(b, name), dtype=np.float32)
            nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
            # A text with no word has the zero vector in both builds (hashing embedder).
            assert np.array_equal(nx == 0, ny == 0), name
            some = nx > 0
            cosine = (x[some] * y[some]).sum(axis=1) / (nx[some] * ny[some])
            assert some.any() and float(cosine.min()) >= 1.0 - tolerance, (name, cosine.min())
    finally:
        a.close()
        b.close()


def _published(index_dir: Path) -> Path:
    return index_dir / "builds" / (index_dir / "CURRENT").read_text().strip()


def test_a_two_node_build_equals_the_local_build(cluster: str, tmp_path: Path) -> None:
    """200 pages, the hashing embedder: every row, offset and vector as built locally."""
    source = write_pages(tmp_path / "src", pages(200))
    env = {"QA_MODEL": "hashing-256"}
    local = qa("index", "build", str(source), "--index-dir", str(tmp_path / "local"), **env)
    assert local.returncode == 0, local.stderr
    done = qa("index", "build", str(source), "--index-dir", str(tmp_path / "ray"),
              "--ray-address", cluster, **env)
    assert done.returncode == 0, done.stderr
    assert "ray cluster: 2 nodes" in done.stderr
    # Both nodes' actors embedded a share of the texts.
    assert len([line for line in done.stderr.splitlines() if line.startswith("ray node")]) == 2
    same_index(tmp_path / "local", tmp_path / "ray", tolerance=1e-6)

    # It answers, and what it quotes is the published build's text at those offsets.
    question = f"What happened: {pages(1)[0]['title']}?"
    asked = qa("ask", question, "--json", "--index-dir", str(tmp_path / "ray"), **env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["passages"], answer
    reader = IndexReader(_published(tmp_path / "ray"))
    try:
        texts = {a.id: a.text for _, a in reader.store.articles()}
    finally:
        reader.close()
    for passage in answer["passages"]:
        assert texts[passage["article_id"]][passage["start"]:passage["end"]] == passage["text"]


@pytest.mark.model
def test_the_real_model_on_the_cluster_gives_the_local_vectors(cluster: str,
                                                              tmp_path: Path) -> None:
    """The real model (ONNX, one pass): vectors within 1e-5 cosine of the local build's,
    and an incremental local build on top reuses them all (same recipe)."""
    source = write_pages(tmp_path / "src", pages(6))  # news pages are long: ~300 chunks
    local = qa("index", "build", str(source), "--index-dir", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    done = qa("index", "build", str(source), "--index-dir", str(tmp_path / "ray"),
              "--ray-address", cluster)
    assert done.returncode == 0, done.stderr
    same_index(tmp_path / "local", tmp_path / "ray", tolerance=1e-5)
    again = qa("index", "build", str(source), "--index-dir", str(tmp_path / "ray"))
    assert again.returncode == 0 and "unchanged 6" in again.stdout, again.stdout


def test_without_ray_the_flag_fails_in_one_line(tmp_path: Path) -> None:
    """With Ray's import blocked, --ray exits 1 with one line naming the extra."""
    source = write_pages(tmp_path / "src", pages(2))
    argv = ["qa", "index", "build", str(source), "--index-dir", str(tmp_path / "i"), "--ray"]
    block = ("import sys; sys.modules['ray'] = None; from service.cli import main; "
             f"sys.argv = {argv!r}; main()")
    done = subprocess.run([sys.executable, "-c", block], env=_env(QA_MODEL="hashing-256"),
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: qa index build --ray: the Ray build needs Ray, an optional extra: "
        "pip install '.[ray]'"]
    assert not (tmp_path / "i" / "CURRENT").exists()
