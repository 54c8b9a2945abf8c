"""The in-memory BM25 index: ranking, masks, persistence, and builds written before it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.layout import LEXICAL, IndexDir
from index.lexical import LexicalIndex, nth_largest
from index.manifest import IndexCorrupt
from index.reader import open_published
from qa.limits import MAX_LEXICAL_TERMS
from tests.conftest import as_earlier_build, build, write_stories

CHUNKS = [
    ("Harbour news", "The ferry left the harbour at dawn."),
    ("Harbour news", "Fishermen mended nets. The ferry ferry ferry was late again."),
    ("Town hall", "The council met to discuss the budget."),
    ("Ferry timetable", "Winter hours start in November."),
]


def test_bm25_prefers_more_occurrences_and_counts_a_title_word_less():
    index = LexicalIndex.build(CHUNKS)
    ranked = index.top(index.scores(["ferri"]), 10)
    assert next(iter(ranked)) == 1  # three times in the text
    # Once in the text beats once in the title (a title word counts half).
    assert ranked[0] > ranked[3] > 0
    assert 2 not in ranked  # no ferry at all


def test_a_mask_keeps_the_ranking_full_inside_it():
    # 300 chunks hold the word; only the last 5 are allowed: all 5 come back.
    index = LexicalIndex.build([("", "storm " * (1 + i % 3)) for i in range(300)])
    allowed = np.zeros(300, dtype=bool)
    allowed[-5:] = True
    found = index.top(index.scores(["storm"]), 5, allowed)
    assert sorted(found) == list(range(295, 300))
    # The same scope given as its row ids ranks the same.
    assert index.top(index.scores(["storm"]), 5, rows=np.flatnonzero(allowed)) == found
    assert index.top(index.scores(["storm"]), 5, np.zeros(300, dtype=bool)) == {}


def test_ties_come_back_in_row_order_and_the_cut_keeps_the_lowest_rows():
    index = LexicalIndex.build([("", "same words here")] * 20)
    first = index.top(index.scores(["word"]), 7)
    assert list(first) == list(range(7))
    # A better chunk first, then ties: the cut among the ties still takes the lowest rows.
    index = LexicalIndex.build([("", "storm")] * 10 + [("", "storm storm")])
    assert list(index.top(index.scores(["storm"]), 4)) == [10, 0, 1, 2]


def test_unknown_and_empty_queries_score_nothing():
    index = LexicalIndex.build(CHUNKS)
    assert index.top(index.scores([]), 5) == {}
    assert index.top(index.scores(["ferri"]), 0) == {}
    assert index.top(index.scores(["zeppelin"]), 5) == {}
    assert index.query_terms("the and of", MAX_LEXICAL_TERMS) == []
    assert LexicalIndex.build([]).top(LexicalIndex.build([]).scores(["x"]), 3) == {}


def test_saved_and_loaded_the_scores_are_identical(tmp_path):
    index = LexicalIndex.build(CHUNKS)
    index.save(tmp_path / "lex.npz")
    loaded = LexicalIndex.load(tmp_path / "lex.npz")
    assert loaded.vocabulary == index.vocabulary and loaded.size == index.size
    query = index.query_terms("When did the ferry leave the harbour?", MAX_LEXICAL_TERMS)
    assert np.array_equal(loaded.scores(query), index.scores(query))


def test_a_build_without_the_stored_index_derives_the_same_one(tmp_path, hashing):
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src"))
    path = IndexDir(tmp_path / "ix").current_path()
    stored = open_published(tmp_path / "ix").lexical
    as_earlier_build(path, LEXICAL)  # as written by a version that kept FTS5 instead
    derived = open_published(tmp_path / "ix").lexical
    assert derived.vocabulary == stored.vocabulary
    assert np.array_equal(derived.rows, stored.rows)
    assert np.allclose(derived.weights, stored.weights)


def test_a_damaged_lexical_index_refuses_to_open(tmp_path, hashing):
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src"))
    (IndexDir(tmp_path / "ix").current_path() / LEXICAL).write_bytes(b"not an npz")
    with pytest.raises(IndexCorrupt, match=r"lexical\.npz is 10 bytes"):
        open_published(tmp_path / "ix")


def test_a_build_recorded_with_the_old_fts_recipe_is_still_reused(tmp_path, hashing):
    src = write_stories(tmp_path / "src")
    build(tmp_path / "ix", hashing, src)
    path = IndexDir(tmp_path / "ix").current_path()
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["recipe"]["fts_tokenizer"] = "porter unicode61 remove_diacritics 2"
    (path / "manifest.json").write_text(json.dumps(manifest))
    (src / "extra.jsonl").write_text(json.dumps(
        {"id": "extra", "title": "Extra", "text": "One more story about a harbour."}) + "\n")
    report = build(tmp_path / "ix", hashing, src)
    assert report.published and report.reused_texts > 0 and not report.note


@given(st.lists(st.sampled_from([0.5, 1.0, 1.25, 2.0, 3.5, 7.0]) | st.floats(0.01, 50.0),
                min_size=1, max_size=900), st.integers(1, 60))
def test_the_nth_largest_score_is_exact_with_ties(values, n):
    n = min(n, len(values))
    assert nth_largest(np.array(values), n) == sorted(values, reverse=True)[n - 1]
