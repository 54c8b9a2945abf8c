"""Readings of sentences and chunks: stored by the builder, the same as read on the fly,
and the scorer's features the same from either; a build from before them still answers
and gets a successor that has them."""

from __future__ import annotations

import numpy as np
import pytest

from index.manifest import IndexCorrupt
from index.reader import open_published
from index.reading import (
    ATTRIBUTION,
    CHUNK_NAMES,
    IS_QUESTION,
    LOOKS_BACK,
    QUOTE,
    SENTENCE_READINGS,
    decode,
    encode,
    names_and_numbers,
    read_sentence,
)
from index.text_table import TextTable, TextTableWriter
from qa.extract import ArticleTexts
from qa.scorer import candidates, features
from qa.types import Message
from tests.conftest import STORIES, as_earlier_build, build, engine_for, write_stories

SENTENCES = [
    "In August, the ministry evacuated 500 Russian citizens, Lavrov said.",
    '"We will not recognise them," the envoy told reporters on Aug. 15.',
    "Who leads the Taliban now?",
    "The Times reported that 3.5% of 10:30 flights were late in 2021.",
    "",
    "no capitals, no numbers here",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_a_reading_survives_its_encoding(text):
    reading = read_sentence(text)
    assert decode(encode(reading)) == reading


def test_a_reading_holds_the_cues_and_kinds_of_its_sentence():
    said = read_sentence(SENTENCES[0])
    assert said.has(ATTRIBUTION) and said.has(LOOKS_BACK) and not said.has(QUOTE)
    assert "500" in said.kinds.numbers and "lavrov" in said.kinds.names
    assert "russian" in said.counted  # "500 Russian citizens"
    quoted = read_sentence(SENTENCES[1])
    assert quoted.has(QUOTE) and "aug" in quoted.kinds.dates
    assert "15" not in read_sentence(SENTENCES[1]).counted  # a day, not a count
    assert read_sentence(SENTENCES[2]).has(IS_QUESTION)


def test_the_build_stores_each_sentence_and_chunk_as_read(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    assert_read_as_stored(tmp_path / "ix")


def test_a_rebuild_copies_the_readings_of_unchanged_articles_to_their_new_rows(
        tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    # A story sorted first moves every other article's rows; one changes its text.
    changed = [{**STORIES[0], "text": STORIES[0]["text"] + " Schools reopened on Friday."},
               {**STORIES[1], "id": "aaa-first", "title": "An Earlier Story"}, *STORIES[1:]]
    write_stories(corpus_dir, changed)
    report = build(tmp_path / "ix", hashing, corpus_dir)
    assert report.reused_texts > 0 and report.embedded_texts > 0
    assert_read_as_stored(tmp_path / "ix")


def assert_read_as_stored(index_dir):
    """Every sentence's and chunk's stored reading is what reading its text gives."""
    reader = open_published(index_dir)
    assert reader.readings is not None
    texts = dict(reader.store.articles())
    for row, (article, start, end) in enumerate(reader.sentence_table.places.tolist()):
        text = texts[article].text[start:end]
        assert reader.readings.sentence(row) == read_sentence(text), text
    chunks = [(rowid, texts[article].text[start:end]) for article in texts
              for rowid, start, end in reader.store.chunk_rows_of(article)]
    assert sorted(rowid for rowid, _ in chunks) == list(range(reader.manifest.chunks))
    for rowid, text in chunks:
        assert reader.readings.chunk_names(rowid) == names_and_numbers(text)
    reader.close()


QUESTIONS = ["How many Russians were evacuated?", "Who is the Taliban leader?",
             "When did the Taliban take power?", "What happened at the airport?"]


def test_features_from_stored_readings_equal_those_read_on_the_fly(tmp_path, corpus_dir,
                                                                   hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    engine = engine_for(tmp_path / "ix", hashing)
    stored = engine.index.readings
    for question in QUESTIONS:
        ranked = engine.evidence(question)
        texts = ArticleTexts(engine.index.store.article_text)
        fly = candidates(ranked, texts)
        kept = candidates(ranked, texts, stored)
        assert fly == kept and len(fly) > 1
        assert np.array_equal(features(question, fly, ranked),
                              features(question, kept, ranked, readings=stored)), question
    engine.close()


FILES = (*TextTable.files(SENTENCE_READINGS), *TextTable.files(CHUNK_NAMES))


def test_a_build_without_readings_answers_and_gets_a_successor_with_them(
        tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    old = open_published(tmp_path / "ix")
    as_earlier_build(old.path, *FILES)  # as a build of an earlier version left it
    engine = engine_for(tmp_path / "ix", hashing)
    assert engine.index.readings is None
    answer = engine.answer([Message("user", QUESTIONS[0])])
    assert answer.passages  # read on the fly, answered or withheld as before
    engine.close()
    report = build(tmp_path / "ix", hashing, corpus_dir)
    assert report.build_id and report.build_id != old.version
    assert report.embedded_texts == 0
    upgraded = open_published(tmp_path / "ix")
    assert upgraded.readings is not None and len(upgraded.readings.sentences) == \
        upgraded.manifest.sentences
    assert build(tmp_path / "ix", hashing, corpus_dir).build_id is None  # then unchanged


def test_readings_that_do_not_fit_the_build_refuse_to_open(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    path = open_published(tmp_path / "ix").path
    starts = path / TextTable.files(SENTENCE_READINGS)[1]
    starts.chmod(0o644)
    np.save(starts, np.load(starts)[:-1])  # a sentence short
    with pytest.raises(IndexCorrupt):
        open_published(tmp_path / "ix")


def test_readings_cut_inside_a_character_refuse_to_open(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    path = open_published(tmp_path / "ix").path
    data = path / TextTable.files(SENTENCE_READINGS)[0]
    text = np.load(data)
    text[0] = 0x80  # the file keeps its size; its first row starts inside a character
    data.chmod(0o644)
    np.save(data, text)
    with pytest.raises(IndexCorrupt, match="readings"):
        open_published(tmp_path / "ix")


def test_a_damaged_row_is_read_again_from_the_text(tmp_path, corpus_dir, hashing, caplog):
    build(tmp_path / "ix", hashing, corpus_dir)
    path = open_published(tmp_path / "ix").path
    data = path / TextTable.files(SENTENCE_READINGS)[0]
    text = np.load(data)
    text[text == ord("\t")] = ord(" ")  # same size: every row loses its fields
    data.chmod(0o644)
    np.save(data, text)
    engine = engine_for(tmp_path / "ix", hashing)
    ranked = engine.evidence(QUESTIONS[0])
    texts = ArticleTexts(engine.index.store.article_text)
    assert candidates(ranked, texts, engine.index.readings) == candidates(ranked, texts)
    assert "does not decode" in caplog.text
    engine.close()


def test_verify_finds_readings_that_are_not_their_texts(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    reader = open_published(tmp_path / "ix")
    assert reader.verify() == []
    rows = [reader.readings.sentences[i] for i in range(len(reader.readings.sentences))]
    first = next(i for i in range(1, len(rows)) if rows[i] != rows[0])
    rows[0], rows[first] = rows[first], rows[0]  # the same bytes, two rows swapped
    writer = TextTableWriter()
    writer.extend(rows)
    for name in TextTable.files(SENTENCE_READINGS):
        (reader.path / name).chmod(0o644)
    writer.save(reader.path, SENTENCE_READINGS)
    reader.close()
    assert open_published(tmp_path / "ix").verify() == [
        "2 sentence readings differ from their text's"]
