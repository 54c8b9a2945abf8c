"""The rerank's recency prior: coverage near the days a question means ranks higher, the
question's own time words move those days, and undated articles are neither favoured nor
dropped (real index, hashing embedder)."""

from __future__ import annotations

from datetime import date

import pytest

from qa.engine import Engine
from qa.extract import ExtractionConfig
from qa.retriever import RetrievalConfig
from qa.scope import Scope
from qa.types import Message
from tests.conftest import build, engine_for, write_stories

# One topic covered twice, two years apart, and once without a date. The older page
# matches the question's words a little better, as an old explainer often does.
BRIDGE = [
    {"id": "bridge-2023", "title": "Harwick Harbour Bridge Plan", "published": "2023-02-01",
     "text": "The Harwick mayor announced a plan for the harbour bridge: the harbour bridge "
             "will be repaired over five years."},
    {"id": "bridge-2025", "title": "Harwick Bridge Closes", "published": "2025-06-20",
     "text": "The Harwick mayor announced that the harbour bridge will close for a year "
             "from August."},
    {"id": "bridge-undated", "title": "About Harwick",
     "text": "Harwick is a port town whose harbour bridge links the old town and the docks."},
]
AS_OF = Scope(as_of=date(2025, 6, 30))
QUESTION = "What did the Harwick mayor announce about the harbour bridge?"


def order(engine: Engine, question: str, scope: Scope = AS_OF) -> list[str]:
    answer = engine.answer([Message("user", question)], top_k=3, scope=scope)
    return [p.article_id for p in answer.passages]


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, hashing):
    folder = tmp_path_factory.mktemp("recency")
    build(folder / "index", hashing, write_stories(folder / "corpus", BRIDGE))
    return folder / "index"


def engines(index_dir, hashing, **extraction) -> Engine:
    # The windowed second search is switched off: what is measured is the rerank alone.
    return engine_for(index_dir, hashing, min_confidence=0.0,
                      retrieval=RetrievalConfig(window_weight=0.0, recency_weight=0.0),
                      extraction=ExtractionConfig(**extraction))


def test_without_the_prior_the_older_page_ranks_first(index_dir, hashing):
    assert order(engines(index_dir, hashing, age_weight=0.0), QUESTION)[0] == "bridge-2023"


def test_the_prior_puts_the_latest_coverage_first(index_dir, hashing):
    engine = engines(index_dir, hashing)
    ranked = order(engine, QUESTION)
    assert ranked[0] == "bridge-2025"
    assert "bridge-undated" in ranked  # an undated page is never dropped
    answer = engine.answer([Message("user", QUESTION)], scope=AS_OF)
    assert answer.citations[0].article_id == "bridge-2025"


def test_time_words_move_the_days_the_prior_favours(index_dir, hashing):
    engine = engines(index_dir, hashing)
    assert order(engine, QUESTION.replace("?", " in 2023?"))[0] == "bridge-2023"
    assert order(engine, QUESTION.replace("?", " this week?"))[0] == "bridge-2025"
