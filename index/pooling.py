"""One pass over the text: sentence vectors pooled from the token states of their chunk.

Every chunk already goes through the model; a sentence's vector is the mean of the last
hidden states of its tokens inside the chunk that holds most of its characters,
normalised. Sentences are then never run through the model on their own, which halves
the model time of a build. A sentence with no token in its chunk (past the model's
token limit) is embedded on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.embedder import Embedder, TokenStates, normalise
from index.records import Chunk, Span

# Recorded in the recipe: how the stored sentence vectors were made. Pooled and
# standalone vectors are not interchangeable (mean cosine about 0.7-0.8), so a change
# makes the next build a full one.
POOLED = "pooled-1"
STANDALONE = "standalone"
SENTENCE_VECTOR_METHODS = (POOLED, STANDALONE)


@dataclass(frozen=True)
class Slot:
    """Where a sentence sits in one chunk's embedded text: which chunk of its article,
    and the sentence's character span in that chunk's text."""

    chunk: int
    start: int
    end: int


def place_sentences(chunks: Sequence[Chunk], prefix: int,
                    sentences: Sequence[Span]) -> list[Slot | None]:
    """For each sentence, the chunk holding most of its characters (the first on a tie)
    and its span in that chunk's embedded text, whose article text starts at ``prefix``
    (the length of what the chunk template puts before it); None when no chunk holds
    any of it."""
    slots: list[Slot | None] = []
    first = 0  # chunks and sentences both run in text order
    for span in sentences:
        while first < len(chunks) and chunks[first].end <= span.start:
            first += 1
        best, best_overlap = None, 0
        for n in range(first, len(chunks)):
            chunk = chunks[n]
            if chunk.start >= span.end:
                break
            overlap = min(span.end, chunk.end) - max(span.start, chunk.start)
            if overlap > best_overlap:
                best, best_overlap = n, overlap
        if best is None:
            slots.append(None)
            continue
        chunk = chunks[best]
        shift = prefix - chunk.start
        slots.append(Slot(best, max(span.start, chunk.start) + shift,
                          min(span.end, chunk.end) + shift))
    return slots


def pool(states: TokenStates, start: int, end: int) -> np.ndarray | None:
    """The mean of the states of the tokens that start inside ``[start, end)``, or None
    when there are none (the span lies past the model's token limit)."""
    inside = (states.starts >= start) & (states.starts < end)
    if not inside.any():
        return None
    return states.states[inside].mean(axis=0)


TokenStatesFn = Callable[[Sequence[str]], list[TokenStates]]


def embed_pooled(token_states: TokenStatesFn, batch_size: int, texts: Sequence[str],
                 spans: Sequence[Sequence[tuple[int, int]]],
                 progress: Callable[[int], None] | None = None,
                 ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
    """Run each text through the model once: its vector, and for each of its spans the
    pooled (normalised) vector of the tokens in it, or None for a span without tokens.

    Texts are batched in order of length, as in ``Embedder.embed``.
    """
    vectors: np.ndarray | None = None
    pooled: list[list[np.ndarray | None]] = [[] for _ in texts]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for begin in range(0, len(order), batch_size):
        rows = order[begin : begin + batch_size]
        for row, states in zip(rows, token_states([texts[i] for i in rows]), strict=True):
            if vectors is None:
                vectors = np.zeros((len(texts), len(states.vector)), dtype=np.float32)
            vectors[row] = states.vector
            found = [pool(states, start, end) for start, end in spans[row]]
            if any(v is not None for v in found):
                stacked = normalise(np.stack([v for v in found if v is not None]))
                it = iter(stacked)
                found = [next(it) if v is not None else None for v in found]
            pooled[row] = found
        if progress:
            progress(len(rows))
    if vectors is None:
        vectors = np.zeros((0, 0), dtype=np.float32)
    return vectors, pooled


@dataclass
class OnePass:
    """The vectors of one build's fresh texts, made in one pass over the chunks."""

    chunk_vectors: np.ndarray  # one row per chunk text given, in order
    sentence_vectors: np.ndarray  # one row per sentence given, in order
    embedded: int  # distinct texts run through the model (chunks + fallback sentences)
    repeated: int  # chunk texts that were copies of another one given
    pooled: int  # sentences whose vector came from their chunk's pass


def embed_one_pass(embedder: Embedder, chunk_parts: Sequence[Sequence[str]],
                   sentence_parts: Sequence[Sequence[str]],
                   slot_parts: Sequence[Sequence[Slot | None]],
                   progress: Callable[[int], None] | None = None,
                   start: Callable[[int], None] | None = None) -> OnePass:
    """Embed the chunks of each article (``chunk_parts[i]``) once, each distinct text
    once, and pool its sentences (``sentence_parts[i]``, placed by ``slot_parts[i]``)
    from them; a sentence without tokens in its chunk is embedded on its own.
    ``start`` is told the number of distinct chunk texts, ``progress`` each batch."""
    chunks = [text for part in chunk_parts for text in part]
    distinct = {text: n for n, text in enumerate(dict.fromkeys(chunks))}
    if start:
        start(len(distinct))
    # For each distinct chunk text, the distinct spans its sentences ask for.
    spans: list[dict[tuple[int, int], int]] = [{} for _ in distinct]
    wanted: list[tuple[int, tuple[int, int]] | None] = []  # per sentence: where, if placed
    for part, slots in zip(chunk_parts, slot_parts, strict=True):
        for slot in slots:
            if slot is None:
                wanted.append(None)
                continue
            owner = distinct[part[slot.chunk]]
            span = (slot.start, slot.end)
            spans[owner].setdefault(span, len(spans[owner]))
            wanted.append((owner, span))
    texts = list(distinct)
    vectors, pooled = embedder.pooled_pass(texts, [list(s) for s in spans], progress)
    found = [pooled[item[0]][spans[item[0]][item[1]]] if isinstance(item, tuple) else None
             for item in wanted]
    # Sentences with no token in their chunk: their own pass, each distinct text once.
    own = [text for part in sentence_parts for text in part]
    alone = list(dict.fromkeys(own[row] for row, v in enumerate(found) if v is None))
    alone_vectors = dict(zip(alone, embedder.embed(alone), strict=True)) if alone else {}
    dimension = embedder.dimension
    sentence_vectors = np.zeros((len(wanted), dimension), dtype=np.float32)
    for row, vector in enumerate(found):
        sentence_vectors[row] = alone_vectors[own[row]] if vector is None else vector
    chunk_vectors = (vectors[[distinct[t] for t in chunks]] if chunks
                     else np.zeros((0, dimension), dtype=np.float32))
    return OnePass(chunk_vectors, sentence_vectors, len(texts) + len(alone),
                   len(chunks) - len(texts), sum(v is not None for v in found))
