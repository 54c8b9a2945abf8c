"""The approximate (IVF) vector index: chosen by size, recorded in the manifest, finds what
exact search finds, and keeps incremental builds and deletions working."""

from __future__ import annotations

import numpy as np
import pytest

from index.builder import Builder
from index.reader import open_published
from index.vector_index import IVF_THRESHOLD, VectorIndexSpec, build, choose
from qa.retriever import Retriever
from tests.conftest import write_stories

TOPICS = ["harbour", "budget", "school", "festival", "railway", "hospital", "bridge",
          "election", "library", "market", "stadium", "museum", "airport", "river"]


def _stories(n: int, skip: set[int] = frozenset()) -> list[dict]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        words = rng.choice(TOPICS, 4, replace=False)
        if i in skip:
            continue
        out.append({"id": f"n{i}", "title": f"{words[0].title()} news {i}",
                    "text": f"The {words[0]} and the {words[1]} made news in town {i}. "
                            f"Officials spoke about the {words[2]} near the {words[3]}."})
    return out


def test_the_kind_is_chosen_by_size_and_can_be_forced():
    assert choose(IVF_THRESHOLD - 1).exact
    big = choose(1_000_000)
    assert big.factory.startswith("IVF") and big.factory.endswith(",SQ8") and big.nprobe > 0
    assert choose(1_000_000, "flat").exact and not choose(10, "ivf").exact
    with pytest.raises(ValueError, match="unknown vector index"):
        choose(10, "hnsw")


def test_ivf_finds_what_exact_search_finds_on_clustered_vectors():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(50, 64))
    vectors = centres[rng.integers(0, 50, 20_000)] + 0.3 * rng.normal(size=(20_000, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    queries = vectors[rng.choice(20_000, 100, replace=False)] + 0.05 * rng.normal(size=(100, 64))
    queries = queries.astype(np.float32)
    exact = build(vectors, VectorIndexSpec())
    approx = build(vectors, choose(len(vectors), "ivf"))
    _, truth = exact.search(queries, 10)
    _, found = approx.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.9


def test_an_ivf_build_is_recorded_searched_and_rebuilt_incrementally(tmp_path, hashing):
    index_dir = tmp_path / "ix"
    source = write_stories(tmp_path / "src", _stories(400))
    Builder.with_embedder(index_dir, hashing, vector_index="ivf").build([source])
    reader = open_published(index_dir)
    spec = VectorIndexSpec(**reader.manifest.vector_index)
    assert spec.factory.startswith("IVF") and spec.nprobe > 0
    assert reader.verify() == []
    hits = Retriever(reader).search("harbour budget", hashing.embed_one("harbour budget"), 5)
    assert hits and all(h.dense == pytest.approx(
        float(reader.chunk_vectors[h.stored.rowid].astype(np.float32)
              @ hashing.embed_one("harbour budget")), abs=1e-5) for h in hits)
    reader.close()
    # Remove ten stories and rebuild incrementally: nothing removed is ever found again.
    write_stories(tmp_path / "src", _stories(400, skip=set(range(10))))
    report = Builder.with_embedder(index_dir, hashing, vector_index="ivf").build([source])
    assert report.removed == 10 and report.embedded_texts == 0
    reader = open_published(index_dir)
    assert reader.verify() == [] and reader.manifest.articles == 390
    for topic in TOPICS:
        for hit in Retriever(reader).search(topic, hashing.embed_one(topic), 20):
            assert hit.stored.chunk.article_id not in {f"n{i}" for i in range(10)}
