"""The FAISS index over chunk vectors: exact below a size, approximate (IVF) above it.

Row ids are the chunks' SQLite row ids (0..n-1). The exact chunk vectors are also kept in
``chunks.npy`` (float16), so reuse across builds and exact rescoring never depend on
what kind of index a build chose.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import faiss
import numpy as np

# Below this many chunks an exact search costs under ~5 ms on one core: keep it exact.
IVF_THRESHOLD = 25_000
KINDS = ("auto", "flat", "ivf")


@dataclass(frozen=True)
class VectorIndexSpec:
    """What a build's FAISS index is: recorded in its manifest, applied when it is opened."""

    factory: str = "Flat"  # the faiss.index_factory string
    nprobe: int = 0  # IVF lists searched per query (0: not an IVF index)

    def to_dict(self) -> dict:
        """For the manifest."""
        return asdict(self)

    @property
    def exact(self) -> bool:
        """True for an exact (flat) index."""
        return self.factory == "Flat"


def choose(n_vectors: int, kind: str = "auto", threshold: int = IVF_THRESHOLD,
           nprobe: int | None = None) -> VectorIndexSpec:
    """The index for ``n_vectors`` chunks: ``flat``, ``ivf``, or ``auto`` (by size).

    IVF uses about 2·√n lists with 8-bit scalar-quantised vectors; results
    are rescored with the exact vectors, so quantisation only affects which candidates are
    found, not their scores.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown vector index {kind!r}; one of {', '.join(KINDS)}")
    if kind == "flat" or (kind == "auto" and n_vectors < threshold):
        return VectorIndexSpec()
    lists = 1 << round(math.log2(2 * math.sqrt(max(n_vectors, 1))))
    # k-means wants at least 39 points a list; tiny corpora get fewer lists.
    lists = max(1, min(lists, n_vectors // 39))
    return VectorIndexSpec(f"IVF{lists},SQ8", nprobe or max(1, min(lists, max(8, lists // 16))))


def build(vectors: np.ndarray, spec: VectorIndexSpec, seed: int = 13) -> faiss.Index:
    """A FAISS inner-product index of ``vectors`` (row i gets id i)."""
    dimension = vectors.shape[1]
    index = faiss.index_factory(dimension, spec.factory, faiss.METRIC_INNER_PRODUCT)
    if not spec.exact and len(vectors):
        ivf = faiss.extract_index_ivf(index)
        # k-means on a sample: FAISS wants 39-256 points a list; more only costs time.
        sample = min(len(vectors), 64 * ivf.nlist)
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(len(vectors), sample, replace=False))
        ivf.cp.seed = seed
        index.train(vectors[rows])
    if len(vectors):
        index.add(vectors)
    apply(index, spec)
    return index


def apply(index: faiss.Index, spec: VectorIndexSpec) -> None:
    """Set the search-time parameters a manifest records on a loaded index."""
    if not spec.exact:
        faiss.extract_index_ivf(index).nprobe = spec.nprobe
