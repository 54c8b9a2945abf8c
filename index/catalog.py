"""What retrieval needs to know of every article and chunk to honour dates and filters,
held as arrays so a scope becomes a chunk mask in a millisecond, not a query per chunk."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from index.arrays import runs
from index.store import StoreReader

UNDATED = np.iinfo(np.int32).min  # the day number of an article without a date
_EPOCH = date(1970, 1, 1).toordinal()


def day_number(day: date) -> int:
    """Days since 1970-01-01: the unit the catalog compares dates in."""
    return day.toordinal() - _EPOCH


def day_of(number: int) -> date:
    """The date of a day number."""
    return date.fromordinal(int(number) + _EPOCH)


@dataclass
class Catalog:
    """Per-article publication day and source, per-chunk article, by row id."""

    article_day: np.ndarray  # int32 by article rowid; UNDATED when unknown
    article_source: np.ndarray  # int32 code by article rowid; index into ``sources``
    sources: list[str]  # distinct sources, lower case ('' for none)
    chunk_article: np.ndarray  # int32 article rowid by chunk rowid (-1: no such chunk)
    article_group: np.ndarray  # int32 by article rowid: its wire-copy group (itself if none)
    # What a retrieved chunk is shown with, so retrieval reads only its article's text.
    chunk_place: np.ndarray  # int32 (n, start, end) by chunk rowid
    article_id: list[str]  # by article rowid ('' where none)
    article_title: list[str]  # by article rowid

    @classmethod
    def load(cls, store: StoreReader) -> Catalog:
        """Read the catalog of a store (two table scans, no article text)."""
        rows = store.article_catalog()
        size = max((r[0] for r in rows), default=-1) + 1
        article_day = np.full(size, UNDATED, dtype=np.int32)
        article_source = np.zeros(size, dtype=np.int32)
        article_id, article_title = [""] * size, [""] * size
        codes: dict[str, int] = {"": 0}
        for rowid, ident, title, published, source in rows:
            article_id[rowid], article_title[rowid] = ident, title
            if published:
                with suppress(ValueError):  # a malformed stored date counts as undated
                    article_day[rowid] = day_number(date.fromisoformat(published[:10]))
            key = (source or "").strip().lower()
            article_source[rowid] = codes.setdefault(key, len(codes))
        chunks = np.asarray(store.chunk_places(), dtype=np.int64).reshape(-1, 5)
        chunk_article = np.full(int(chunks[:, 0].max(initial=-1)) + 1, -1, dtype=np.int32)
        chunk_article[chunks[:, 0]] = chunks[:, 1]  # one assignment, not a loop per chunk
        chunk_place = np.zeros((len(chunk_article), 3), dtype=np.int32)
        chunk_place[chunks[:, 0]] = chunks[:, 2:]
        article_group = np.arange(size, dtype=np.int32)
        for article_rowid, group_rowid in store.copy_groups():
            article_group[article_rowid] = group_rowid
        return cls(article_day, article_source, list(codes), chunk_article, article_group,
                   chunk_place, article_id, article_title)

    @cached_property
    def dense_rows(self) -> bool:
        """Whether every chunk row id below the highest one exists (as builds write them)."""
        return bool(self.chunk_article.min(initial=0) >= 0)

    def copies_of(self, article_rowid: int) -> np.ndarray:
        """The row ids of the other articles of this article's wire-copy group."""
        group = self.article_group[article_rowid]
        members = np.flatnonzero(self.article_group == group)
        return members[members != article_rowid]

    def chunk_mask(self, articles: np.ndarray) -> np.ndarray:
        """The chunks (bool by chunk rowid) of the articles marked in ``articles``."""
        if self.dense_rows:  # no gaps in the chunk row ids: one gather
            return articles[self.chunk_article]
        present = self.chunk_article >= 0
        mask = np.zeros(len(self.chunk_article), dtype=bool)
        mask[present] = articles[self.chunk_article[present]]
        return mask

    @cached_property
    def _chunks_by_article(self) -> tuple[np.ndarray, np.ndarray]:
        """Every chunk row id grouped by article (ascending within each), and where each
        article's group starts (one more entry than articles)."""
        present = np.flatnonzero(self.chunk_article >= 0)
        owners = self.chunk_article[present]
        order = present[np.argsort(owners, kind="stable")]
        counts = np.bincount(owners, minlength=len(self.article_day))
        return order, np.concatenate([[0], np.cumsum(counts)])

    def chunk_rows(self, articles: np.ndarray, limit: int) -> np.ndarray | None:
        """The chunk row ids (ascending) of the articles marked in ``articles``, or None
        when there are more than ``limit``. Read from a per-article lookup, so it costs
        the marked chunks, not a pass over every chunk of the archive."""
        order, starts = self._chunks_by_article
        marked = np.flatnonzero(articles)
        first, counts = starts[marked], starts[marked + 1] - starts[marked]
        total = int(counts.sum())
        if total > limit:
            return None
        return np.sort(order[runs(first, counts)])

    def source_codes(self, names: list[str]) -> list[int]:
        """The codes of the named sources that occur (case-insensitive)."""
        index = {name: code for code, name in enumerate(self.sources)}
        return [index[n.strip().lower()] for n in names if n.strip().lower() in index]
