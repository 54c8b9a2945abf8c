"""The in-memory sentence table: terms written by the builder, the same as derived from
the store for a build without them, and term coverage as the terms say."""

from __future__ import annotations

import numpy as np
import pytest

from index.manifest import IndexCorrupt
from index.reader import open_published
from index.sentence_table import (
    EXTRA_WORDS,
    PLACES,
    TERM_STARTS,
    TERMS,
    SentenceTableWriter,
)
from index.terms import terms
from tests.conftest import as_earlier_build, build


def test_a_word_the_vocabulary_learns_later_gets_its_id_and_unknown_words_follow_it():
    vocabulary = {"council": 0, "vote": 1}
    writer = SentenceTableWriter(vocabulary)
    writer.add(0, 0, 30, ["council", "harbour", "council"])  # "harbour" is not known yet
    writer.add(0, 31, 40, [])
    writer.add(1, 0, 25, ["zebra", "vote", "harbour"])  # "zebra" never will be
    vocabulary["harbour"] = 2  # a later chunk brings it
    places, ids, starts, extra = writer.finish()
    assert places.tolist() == [[0, 0, 30], [0, 31, 40], [1, 0, 25]]
    assert extra == ["zebra"]
    assert starts.tolist() == [0, 2, 2, 5]
    assert sorted(ids[0:2].tolist()) == [0, 2]
    assert sorted(ids[2:5].tolist()) == [1, 2, 3]  # zebra: the first id after the vocabulary


def test_built_terms_equal_terms_derived_from_the_store(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    reader = open_published(tmp_path / "ix")
    written = reader.sentence_table
    as_earlier_build(reader.path, PLACES, TERMS, TERM_STARTS, EXTRA_WORDS)
    derived = open_published(tmp_path / "ix").sentence_table
    assert np.array_equal(written.places, derived.places)
    assert np.array_equal(written.start_keys, derived.start_keys)
    assert np.array_equal(written.term_starts, derived.term_starts)
    for row in range(len(written.places)):
        a, b = written.term_starts[row], written.term_starts[row + 1]
        assert set(written.terms[a:b].tolist()) == set(derived.terms[a:b].tolist())
    assert written.extra == derived.extra


def test_coverage_sums_the_weights_of_the_terms_a_sentence_holds(tmp_path, corpus_dir,
                                                                hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    reader = open_published(tmp_path / "ix")
    table, vocabulary = reader.sentence_table, reader.lexical.vocabulary
    (row, article), *_ = reader.store.articles()
    sentences = reader.store.sentences_of(row)
    words = list(dict.fromkeys(terms(article.text[sentences[0].span.start:
                                                  sentences[1].span.end])))
    weights = {w: 1.0 + i for i, w in enumerate(words)}  # distinct weights: sums are exact
    by_id = {i: weights[w] for w, i in zip(words, table.term_ids(words, vocabulary),
                                           strict=True) if i is not None}
    rows = np.asarray([s.rowid for s in sentences], dtype=np.int64)
    got = table.coverage(rows, by_id)
    for sentence, value in zip(sentences, got.tolist(), strict=True):
        held = set(terms(article.text[sentence.span.start : sentence.span.end]))
        assert value == sum(w for t, w in weights.items() if t in held)
    assert got[0] > 0 and got[1] > 0
    assert table.coverage(rows[:0], by_id).shape == (0,)


@pytest.mark.parametrize("damage", ["short", "order"])
def test_sentence_files_that_do_not_fit_the_build_refuse_to_open(tmp_path, corpus_dir,
                                                                 hashing, damage):
    build(tmp_path / "ix", hashing, corpus_dir)
    path = open_published(tmp_path / "ix").path
    if damage == "short":
        np.save(path / TERM_STARTS, np.load(path / TERM_STARTS)[:-1])  # a sentence short
    else:
        places = np.load(path / PLACES)
        np.save(path / PLACES, places[::-1].copy())  # last article's sentences first
    with pytest.raises(IndexCorrupt, match="sentence"):
        open_published(tmp_path / "ix")


def test_verify_finds_sentence_terms_that_disagree_with_the_store(tmp_path, corpus_dir,
                                                                  hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    reader = open_published(tmp_path / "ix")
    assert reader.verify() == []
    ids = np.load(reader.path / TERMS)
    np.save(reader.path / TERMS, np.roll(ids, 1))  # every sentence keeps its count
    assert open_published(tmp_path / "ix").verify() == [
        "sentence terms differ from the store's"]


def test_a_build_without_the_files_gets_a_successor_with_them_embedding_nothing(
        tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    old = open_published(tmp_path / "ix")
    # As a build of an earlier version left it.
    as_earlier_build(old.path, PLACES, TERMS, TERM_STARTS, EXTRA_WORDS)
    assert not open_published(tmp_path / "ix").sentence_table_written
    report = build(tmp_path / "ix", hashing, corpus_dir)
    assert report.build_id and report.build_id != old.version
    assert report.embedded_texts == 0 and report.unchanged == old.manifest.articles
    upgraded = open_published(tmp_path / "ix")
    assert upgraded.sentence_table_written and upgraded.verify() == []
    assert build(tmp_path / "ix", hashing, corpus_dir).build_id is None  # then unchanged
