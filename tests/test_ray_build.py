"""``qa index build --ray``: a build on a Ray cluster of two nodes (a head and a worker,
separate processes) publishes the index a local build publishes, and it answers."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.ray_build import compare_builds, published
from bench.ray_cluster import free_port, local_cluster
from index.reader import IndexReader
from tests.conftest import ROOT

pytest.importorskip("ray", reason="needs the ray extra: pip install '.[ray]'")

pytestmark = [pytest.mark.ray, pytest.mark.timeout(900)]

# The news quick loop (read by path, never copied); synthetic briefs stand in without it.
EVAL_DIR = Path(os.environ.get("QA_EVAL_DIR", ROOT.parent / "shared" / "eval"))
QUICK = EVAL_DIR / "news-rtqa" / "quick-articles.jsonl.gz"
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


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, dict[str, str]]]:
    """A head node and a worker node, separate processes; yields (address, env)."""
    with local_cluster(workers=1, PYTHONPATH=str(ROOT)) as running:
        yield running


def qa(*args: str, cluster_env: dict[str, str] | None = None,
       **env: str) -> subprocess.CompletedProcess:
    """Run the qa command (as a driver of the cluster when given its environment)."""
    base = cluster_env or {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([QA, *args], env={**base, **env},
                          capture_output=True, text=True, timeout=800, cwd=ROOT)


def same_index(local: Path, distributed: Path, tolerance: float) -> None:
    """The two published builds hold the same rows, offsets and vectors (cosine within
    ``tolerance``), recorded with the same recipe."""
    found = compare_builds(local, distributed)
    assert found.same_recipe and found.same_rows, found
    assert min(found.chunk_cosine_min, found.sentence_cosine_min) >= 1.0 - tolerance, found


def test_a_two_node_build_equals_the_local_build(cluster: tuple[str, dict[str, str]],
                                                  tmp_path: Path) -> None:
    """200 pages, the hashing embedder, in two published steps: every row, offset and
    vector as built locally in one go."""
    source = write_pages(tmp_path / "src", pages(200))
    env = {"QA_MODEL": "hashing-256"}
    local = qa("index", "build", str(source), "--index-dir", str(tmp_path / "local"), **env)
    assert local.returncode == 0, local.stderr
    # In published steps (--publish-every), as a large archive is built: the last step
    # holds the same rows as the local build made in one go.
    done = qa("index", "build", str(source), "--index-dir", str(tmp_path / "ray"),
              "--ray-address", cluster[0], "--publish-every", "120",
              cluster_env=cluster[1], **env)
    assert done.returncode == 0, done.stderr
    assert "ray cluster: 2 nodes" in done.stderr
    assert len(list((tmp_path / "ray" / "builds").iterdir())) == 2  # two steps published
    # Both nodes' actors embedded a share of the texts.
    assert len([line for line in done.stderr.splitlines() if line.startswith("ray node")]) == 2
    same_index(tmp_path / "local", tmp_path / "ray", tolerance=1e-6)

    # It answers, and what it quotes is the published build's text at those offsets.
    question = f"What happened: {pages(1)[0]['title']}?"
    asked = qa("ask", question, "--json", "--index-dir", str(tmp_path / "ray"), **env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["passages"], answer
    reader = IndexReader(published(tmp_path / "ray"))
    try:
        texts = {a.id: a.text for _, a in reader.store.articles()}
    finally:
        reader.close()
    for passage in answer["passages"]:
        assert texts[passage["article_id"]][passage["start"]:passage["end"]] == passage["text"]


@pytest.mark.model
def test_the_real_model_on_the_cluster_gives_the_local_vectors(
        cluster: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    """The real model (ONNX, one pass): vectors within 1e-5 cosine of the local build's,
    and an incremental local build on top reuses them all (same recipe)."""
    source = write_pages(tmp_path / "src", pages(6))  # news pages are long: ~300 chunks
    local = qa("index", "build", str(source), "--index-dir", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    done = qa("index", "build", str(source), "--index-dir", str(tmp_path / "ray"),
              "--ray-address", cluster[0], cluster_env=cluster[1])
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
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_MODEL": "hashing-256"}
    done = subprocess.run([sys.executable, "-c", block], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: qa index build --ray: the Ray build needs Ray, an optional extra: "
        "pip install '.[ray]'"]
    assert not (tmp_path / "i" / "CURRENT").exists()


def test_a_bad_or_unreachable_address_fails_in_one_line(tmp_path: Path) -> None:
    """A malformed address is a usage error (2); nobody listening is a failure (1),
    found in seconds, not after Ray's minutes of retries; nothing is published."""
    source = write_pages(tmp_path / "src", pages(2))
    index = str(tmp_path / "i")
    bad = qa("index", "build", str(source), "--index-dir", index, "--ray-address", "seeds",
             QA_MODEL="hashing-256")
    assert bad.returncode == 2 and "--ray-address" in bad.stderr, bad.stderr
    gone = qa("index", "build", str(source), "--index-dir", index,
              "--ray-address", f"127.0.0.1:{free_port()}", QA_MODEL="hashing-256")
    assert gone.returncode == 1
    lines = gone.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot join the Ray cluster")
    assert not (tmp_path / "i" / "CURRENT").exists()
