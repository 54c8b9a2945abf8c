"""A passage's rank weighs the size of its retrieval evidence, not only its fused rank:
of two passages with the same fused score and the same sentences, the one more similar to
the question, or with the higher BM25 score, ranks first (real index, hashing embedder)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.reader import open_published
from qa.conversation import build_query
from qa.extract import ExtractionConfig, Extractor
from qa.limits import MAX_LEXICAL_TERMS
from qa.retriever import Candidate, RetrievalConfig, Retriever
from qa.types import Message
from tests.conftest import build, write_stories

TEXT = ("The Orla quarry will close in May after forty years, the owners said. Its 120 "
        "workers will move to the new site at Brenn.")
# Two pages with the same text: every sentence scores the same in both.
TWINS = [{"id": "twin-a", "title": "Quarry to Close", "text": TEXT},
         {"id": "twin-b", "title": "Quarry to Close", "text": TEXT},
         {"id": "other", "title": "Harbour Festival",
          "text": "The harbour festival drew 9,000 visitors and a brass band from Orla."},
         # Nearest to the question for the embedder (its common words), not for BM25.
         {"id": "echo", "title": "When Will It Close?",
          "text": "When will the works close? When will the shop close? When will it be?"}]
QUESTION = "When will the Orla quarry close?"


@pytest.fixture(scope="module")
def index(tmp_path_factory, hashing):
    folder = tmp_path_factory.mktemp("evidence")
    build(folder / "index", hashing, write_stories(folder / "corpus", TWINS))
    reader = open_published(folder / "index")
    yield reader
    reader.close()


def twins(index, hashing, **sizes: tuple[float, float]) -> list[Candidate]:
    """The two twin passages, each with the same fused score and the given
    (dense, lexical) evidence."""
    found = Retriever(index).search(QUESTION, hashing.embed_one(QUESTION), 10)
    by_article = {c.stored.chunk.article_id: c for c in found}
    return [replace(by_article[name], fused=0.01, dense=dense, lexical=lexical)
            for name, (dense, lexical) in sizes.items()]


def ranked(index, hashing, candidates: list[Candidate], **config) -> list[tuple[str, float]]:
    extractor = Extractor(index, ExtractionConfig(**config))
    query = build_query([Message("user", QUESTION)])
    evidence = extractor.rerank(query, hashing.embed_one(QUESTION), candidates)
    return [(e.candidate.stored.chunk.article_id, e.score) for e in evidence]


def test_the_passage_more_similar_to_the_question_ranks_first(index, hashing):
    pool = twins(index, hashing, **{"twin-a": (0.30, 2.0), "twin-b": (0.70, 2.0)})
    (first, best), (_, second) = ranked(index, hashing, pool, passage_dense_weight=1.0)
    assert first == "twin-b"
    assert best - second == pytest.approx(0.40)
    # Without the weight only the fused rank and the sentences count: a tie, kept in order.
    assert [name for name, _ in ranked(index, hashing, pool, passage_dense_weight=0.0)] \
        == ["twin-a", "twin-b"]


def test_the_passage_with_more_of_the_rare_terms_ranks_first(index, hashing):
    pool = twins(index, hashing, **{"twin-a": (0.5, 2.0), "twin-b": (0.5, 8.0)})
    (first, best), (_, second) = ranked(index, hashing, pool, passage_lexical_weight=0.5)
    assert first == "twin-b"
    assert best - second == pytest.approx(0.5 * (8.0 - 2.0) / 8.0)  # scaled to the best
    assert [name for name, _ in ranked(index, hashing, pool, passage_lexical_weight=0.0)] \
        == ["twin-a", "twin-b"]


def test_every_candidate_carries_its_true_bm25_score(index, hashing):
    # One candidate from each search: "echo" is the embedder's nearest, not BM25's best.
    retriever = Retriever(index, RetrievalConfig(candidates=1))
    found = retriever.search(QUESTION, hashing.embed_one(QUESTION), 10)
    bm25 = index.lexical
    scores = bm25.scores(bm25.query_terms(QUESTION, MAX_LEXICAL_TERMS))
    lexical_best = set(bm25.top(scores, 1))
    dense_only = [c for c in found if c.stored.rowid not in lexical_best]
    assert dense_only, "the fixture must give a hit that only the dense search found"
    for candidate in found:
        assert candidate.lexical == pytest.approx(scores[candidate.stored.rowid])
    assert all(c.lexical > 0 for c in dense_only)  # it holds "close"
