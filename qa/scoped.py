"""What retrieval derives from a set of allowed articles, kept for the next question in
the same scope.

A scope (``as_of`` and filters, or a time window) turns into a chunk mask, or, when
narrow, into its chunks' row ids and float32 vectors. A mask costs a pass over every chunk
of the archive, the vectors a widening of each; and questions come in runs of one scope: a
live service answers as of today, an evaluation asks a quiz's questions as of its day. So
the last few scopes are kept, keyed by the article mask itself (its bytes: equal masks,
equal entries). Time words still make a new window for many a question; on the full news
archive half the questions made one, so a narrow scope never touches the whole archive.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from index.arrays import rows_float32
from index.reader import IndexReader


@dataclass(frozen=True)
class Scoped:
    """The chunks of a set of articles, as retrieval uses them."""

    # The chunk rowids (ascending) and their float32 vectors when few enough to score
    # exactly (up to ``exact_subset``); None otherwise.
    rows: np.ndarray | None
    vectors: np.ndarray | None
    mask: np.ndarray | None = None  # bool by chunk rowid, when there are no ``rows``

    @cached_property
    def bits(self) -> np.ndarray:
        """The mask packed as FAISS's ``IDSelectorBitmap`` reads it (made on first use)."""
        return np.packbits(self.mask, bitorder="little")


class ScopeCache:
    """The last ``size`` scopes of one index, thread-safe. A narrow scope holds up to
    ``exact_subset`` float32 vectors (12 MB at the defaults), a wide one a chunk mask."""

    def __init__(self, index: IndexReader, exact_subset: int, size: int = 8) -> None:
        self.index = index
        self.exact_subset = exact_subset
        self.size = size
        self._entries: OrderedDict[bytes, Scoped] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, articles: np.ndarray) -> Scoped:
        """The chunks of the articles marked in ``articles`` (bool by article rowid)."""
        key = articles.tobytes()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
        # Made outside the lock: two threads may both make one; either copy is right.
        made = self._make(articles)
        with self._lock:
            self._entries[key] = made
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return made

    def _make(self, articles: np.ndarray) -> Scoped:
        catalog = self.index.catalog
        rows = catalog.chunk_rows(articles, self.exact_subset)
        if rows is None:
            return Scoped(None, None, mask=catalog.chunk_mask(articles))
        return Scoped(rows, rows_float32(self.index.chunk_vectors, rows))
