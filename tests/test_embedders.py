"""The embedding backends: ONNX vectors agree with torch, exports are cached, and an index
is never queried with another backend's vectors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.chunking import split_sentences
from index.embedder import EmbedderSpec
from index.manifest import IndexMismatch
from index.reader import Expectation, open_published
from index.readers import discover, read_file
from tests.conftest import ROOT, SEEDS, build

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def seed_sentences() -> list[str]:
    article = read_file(next(iter(discover([SEEDS]))))[0]
    return [article.text[s.start : s.end] for s in split_sentences(article.text)][:200]


@pytest.fixture(scope="module")
def torch_vectors(seed_sentences) -> np.ndarray:
    return EmbedderSpec(backend="torch").load().embed(seed_sentences)


# int8 quantises activations per batch, so a text alone and in a batch differ slightly.
@pytest.mark.parametrize(("backend", "floor", "alone_floor"),
                         [("onnx-fp32", 0.9999, 0.9999), ("onnx-int8", 0.99, 0.98)])
def test_onnx_vectors_agree_with_torch(backend, floor, alone_floor, seed_sentences,
                                       torch_vectors):
    embedder = EmbedderSpec(backend=backend).load()
    assert (embedder.backend, embedder.dimension) == (backend, 384)
    vectors = embedder.embed(seed_sentences)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.mean() >= floor and cosine.min() >= floor - 0.03
    # One text alone and in a padded batch agree: padding is masked.
    alone = embedder.embed_one(seed_sentences[0])
    assert float(alone @ vectors[0]) > alone_floor


def test_an_export_is_made_once_into_the_cache(tmp_path):
    first = EmbedderSpec(backend="onnx-fp32", cache_dir=tmp_path).load()
    files = list((tmp_path / "onnx").glob("*.onnx"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    second = EmbedderSpec(backend="onnx-fp32", cache_dir=tmp_path).load()
    assert files[0].stat().st_mtime_ns == stamp and not list((tmp_path / "onnx").glob("tmp*"))
    text = "The council voted on the budget."
    assert np.array_equal(first.embed_one(text), second.embed_one(text))


def test_an_index_of_one_backend_is_refused_by_another(tmp_path, real_model):
    index_dir = tmp_path / "ix"
    build(index_dir, real_model, SEEDS)
    assert open_published(index_dir).manifest.recipe.embedder_backend == real_model.backend
    with pytest.raises(IndexMismatch, match="backend"):
        open_published(index_dir, Expectation(real_model.name, 384, "torch"))
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "QA_EMBEDDER": "torch"}
    done = subprocess.run([str(Path(sys.executable).parent / "qa"), "ask", "Who is it about?"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "'onnx-fp32' backend" in lines[0] and "torch" in lines[0]


def test_the_onnx_backend_needs_no_torch(tmp_path):
    """Serving images leave torch out: the export and the embedder run with it blocked."""
    script = (
        "import sys\n"
        "for name in ('torch', 'transformers', 'sentence_transformers'):\n"
        "    sys.modules[name] = None  # any import of them now fails\n"
        "from pathlib import Path\n"
        "from index.embedder import EmbedderSpec\n"
        "import service.server\n"
        f"e = EmbedderSpec(backend='onnx-fp32', cache_dir=Path({str(tmp_path)!r})).load()\n"
        "print(e.embed_one('The council voted on the budget.').shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(384,)"
