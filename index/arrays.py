"""Reading a build's stored arrays: memory-mapped, and float16 rows as float32.

Chunk and sentence vectors are stored as float16 (half the disk and page cache); every
score is computed in float32. numpy widens float16 element by element (about 2 ns each
here, 0.2 ms for a question's 300 sentence vectors); looking each one up in a table of
all 65,536 float16 values gives the same bits in half the time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def mapped(path: Path) -> np.ndarray:
    """A ``.npy`` file memory-mapped read-only (only the rows a question touches are
    read), as a plain ndarray: ``np.memmap`` wraps every slice of it in a memmap of its
    own, a cost paid on each of a question's reads."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


# The lookup makes its indices 8-byte integers first: for a narrow scope's 8,192 chunk
# vectors that would be a 25 MB temporary, and such blocks freed on every worker thread
# kept the server's memory 77 MB higher after a load test. So a larger read is looked up
# in blocks of this many values (a 1 MB temporary each) into one float32 array: a time
# window's 2,500 chunk vectors took 2.7 ms by numpy's widening, 0.7 ms so.
TABLE_LIMIT = 1 << 17  # values (a few hundred vectors)
# Every float16 bit pattern (NaNs, infinities and subnormals included), widened once.
_WIDE = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(
    np.float32)


def rows_float32(vectors: np.ndarray, rows: object) -> np.ndarray:
    """``vectors[rows]`` as float32: bit for bit what ``astype(np.float32)`` gives."""
    picked = vectors[rows]
    if picked.dtype != np.float16:  # a build that stored float32
        return np.asarray(picked, dtype=np.float32)
    bits = picked.view(np.uint16)
    if picked.size <= TABLE_LIMIT:
        return np.take(_WIDE, bits)
    flat_bits, out = bits.reshape(-1), np.empty(picked.shape, dtype=np.float32)
    flat_out = out.reshape(-1)
    for start in range(0, flat_bits.size, TABLE_LIMIT):
        block = slice(start, start + TABLE_LIMIT)
        np.take(_WIDE, flat_bits[block], out=flat_out[block])
    return out


def runs(first: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``first[i]``, ``first[i] + 1``, ... ``counts[i]`` positions for each i, laid end to
    end in one array (the rows of several stretches of a table, without a loop)."""
    return np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
