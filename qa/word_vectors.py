"""The embedding model's own word vectors, by term: how near a sentence's words come to
the question's when they are not the same words.

A question asks in its own words ("running out of money") what the answering sentence
may tell in others ("faced financial difficulties"). Exact term features miss that, and
the sentence vector blurs it with everything else the sentence says. The model's input
embedding table already knows which words are near: a transformer's first layer maps
each word piece to a vector before any context, and related words' vectors point the
same way (cosine "buy"/"purchase" 0.76, "money"/"financial" 0.48, "money"/"tree"
0.0 for all-MiniLM-L6-v2). Each whole word of the tokenizer's vocabulary is stemmed as
the index stems terms (``index.terms``); a stem's vector is the mean of its words',
centred (the table's mean removed: every vector shares a common direction) and
normalised. A term outside the table (a rare name, split into pieces) matches only
itself.

Read once from the model's files (its ``model.safetensors`` and ``vocab.txt``): about
14,000 stems, 21 MB, in a fraction of a second.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from index.terms import STOPWORDS, stem

log = logging.getLogger("qa.word_vectors")
# The input embedding table of a BERT-style model, as sentence-transformers saves it.
_TABLE = "embeddings.word_embeddings.weight"


@dataclass(frozen=True)
class WordVectors:
    """A normalised vector per stem (``row`` gives its row of ``matrix``)."""

    row: dict[str, int]
    matrix: np.ndarray  # (stems, dimension) float32, unit rows

    @classmethod
    def of_model(cls, folder: Path) -> WordVectors:
        """The stem vectors of the model saved in ``folder`` (raises OSError or KeyError
        when it has no such table)."""
        from safetensors import safe_open

        with safe_open(str(folder / "model.safetensors"), framework="numpy") as f:
            table = np.asarray(f.get_tensor(_TABLE), dtype=np.float32)
        words: dict[str, list[int]] = {}
        vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
        for i, piece in enumerate(vocab):
            # Whole lower-case words only: "##ing" is a piece, "[CLS]" a marker.
            if piece.isalpha() and piece.islower() and len(piece) > 1 \
                    and piece not in STOPWORDS:
                words.setdefault(stem(piece), []).append(i)
        stems = sorted(words)
        matrix = np.stack([table[words[s]].mean(axis=0) for s in stems])
        matrix -= table.mean(axis=0)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        return cls({s: i for i, s in enumerate(stems)}, matrix.astype(np.float32))

    def compare(self, asked: Sequence[str], sentences: Sequence[Sequence[str]]
                ) -> tuple[np.ndarray, np.ndarray]:
        """How near each sentence's words come to the question's terms (``asked``,
        distinct): for each sentence and question term, how near its nearest term comes
        (1 for the term itself, else the cosine of their vectors clipped to [0, 1], 0
        without a vector), shape ``(len(sentences), len(asked))``; and the cosine of
        each sentence's mean term vector with the question's (0 for a side without a
        term in the table). One product over the distinct terms of all the sentences."""
        n, q = len(sentences), len(asked)
        near_out, bag = np.zeros((n, q)), np.zeros(n)
        at: dict[str, int] = {}
        cols = [at.setdefault(t, len(at)) for own in sentences for t in own]
        if not q or not cols:
            return near_out, bag
        width = len(at)
        sizes = np.array([len(own) for own in sentences])
        which = np.repeat(np.arange(n), sizes)
        counts = np.bincount(which * width + cols, minlength=n * width).reshape(n, width)
        vocab, question = self._rows(at), self._rows(asked)
        near = np.clip(question @ vocab.T, 0.0, 1.0)  # (q, width)
        for i, a in enumerate(asked):
            if a in at:
                near[i, at[a]] = 1.0
        # Each sentence's best per question term: a max over its own run of terms (the
        # sentences' terms lie one after another in ``cols``), not over the whole width.
        held = sizes > 0
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))[held]
        near_out = np.zeros((n, q), dtype=near.dtype)
        near_out[held] = np.maximum.reduceat(near[:, cols], starts, axis=1).T
        mean = question.sum(axis=0)
        if mean.any():
            sums = counts.astype(vocab.dtype) @ vocab  # each sentence's summed vectors
            norms = np.linalg.norm(sums, axis=1)
            bag = np.where(norms > 0, sums @ (mean / np.linalg.norm(mean))
                           / np.where(norms > 0, norms, 1.0), 0.0)
        return near_out, bag

    def _rows(self, words: Sequence[str] | dict[str, int]) -> np.ndarray:
        """The vectors of ``words`` (in order), zero for a word without one."""
        rows = [self.row.get(w, -1) for w in words]  # -1: the zero row ending ``_table``
        return self._table[rows]

    @cached_property
    def _table(self) -> np.ndarray:
        """``matrix`` with a row of zeros after it."""
        return np.vstack([self.matrix, np.zeros((1, self.matrix.shape[1]),
                                                dtype=self.matrix.dtype)])


@lru_cache(maxsize=4)
def word_vectors(folder: str) -> WordVectors | None:
    """The stem vectors of the model in ``folder``, read once; None (logged) when its
    files lack them: the nearness features then count exact terms only."""
    try:
        return WordVectors.of_model(Path(folder))
    except (OSError, KeyError, ValueError) as exc:
        log.warning("no word vectors from %s: %s", folder, exc)
        return None
