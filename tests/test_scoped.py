"""The per-scope cache of retrieval: what it keeps is what a fresh computation gives, it
keeps only the last few scopes, and searches through it stay inside the scope."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from index.reader import open_published
from qa.retriever import RetrievalConfig, Retriever
from qa.scoped import ScopeCache
from tests.conftest import build, write_stories


@pytest.fixture
def reader(tmp_path, hashing):
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src"))
    opened = open_published(tmp_path / "ix")
    yield opened
    opened.close()


def _articles(reader, *rowids: int) -> np.ndarray:
    mask = np.zeros(reader.manifest.articles, dtype=bool)
    mask[list(rowids)] = True
    return mask


def test_a_scope_holds_its_chunks_and_their_vectors(reader):
    cache = ScopeCache(reader, exact_subset=8192)
    articles = _articles(reader, 0, 2)
    scoped = cache.get(articles)
    expected = reader.catalog.chunk_mask(articles)
    assert np.array_equal(scoped.rows, np.flatnonzero(expected))
    assert np.array_equal(scoped.vectors,
                          np.asarray(reader.chunk_vectors[scoped.rows], dtype=np.float32))
    assert cache.get(articles.copy()) is scoped  # equal masks, one entry


def test_a_wide_scope_keeps_only_its_packed_mask(reader):
    scoped = ScopeCache(reader, exact_subset=0).get(_articles(reader, 1))
    assert scoped.rows is None and scoped.vectors is None
    assert np.array_equal(np.unpackbits(scoped.bits, bitorder="little")[: len(scoped.mask)],
                          scoped.mask)


@pytest.mark.parametrize("gaps", [False, True])
def test_a_scopes_chunk_rows_are_its_mask_read_another_way(reader, gaps):
    catalog = reader.catalog
    if gaps:  # row ids a rebuild left unused, as a catalog may have them
        chunk_article = catalog.chunk_article.copy()
        chunk_article[::3] = -1
        catalog = dataclasses.replace(catalog, chunk_article=chunk_article)
    assert catalog.dense_rows is not gaps
    rng = np.random.default_rng(3)
    for _ in range(20):
        articles = rng.random(reader.manifest.articles) < 0.5
        expected = np.flatnonzero(catalog.chunk_mask(articles))
        assert np.array_equal(catalog.chunk_rows(articles, len(expected)), expected)
        if len(expected):
            assert catalog.chunk_rows(articles, len(expected) - 1) is None  # over the limit
    assert len(catalog.chunk_rows(np.zeros(reader.manifest.articles, dtype=bool), 0)) == 0


def test_only_the_last_scopes_are_kept(reader):
    cache = ScopeCache(reader, exact_subset=8192, size=2)
    first = cache.get(_articles(reader, 0))
    cache.get(_articles(reader, 1))
    assert cache.get(_articles(reader, 0)) is first  # used again: now the newest
    cache.get(_articles(reader, 2))  # evicts scope 1, the least recently used
    assert len(cache._entries) == 2
    assert cache.get(_articles(reader, 0)) is first


@pytest.mark.parametrize("exact_subset", [8192, 0])  # exact scoring, and FAISS's selector
def test_searches_through_the_cache_stay_inside_the_scope(reader, hashing, exact_subset):
    retriever = Retriever(reader, RetrievalConfig(exact_subset=exact_subset))
    allowed = _articles(reader, 1)
    vector = hashing.embed_one("students council seats")
    first = retriever.search("students council seats", vector, 10, allowed)
    again = retriever.search("students council seats", vector, 10, allowed)
    assert first and {c.stored.article_rowid for c in first} == {1}
    assert [(c.stored.rowid, c.fused) for c in first] == [(c.stored.rowid, c.fused)
                                                          for c in again]
