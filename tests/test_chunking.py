"""Chunks and sentences carry exact offsets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.chunking import Chunker, ChunkerConfig, split_sentences
from index.readers import SourceFile, read_file
from index.records import Article
from tests.conftest import SEEDS

SEED = next(SEEDS.glob("*.txt"))


def _seed() -> Article:
    return read_file(SourceFile(SEED, SEED.stem))[0]


def test_chunks_are_exact_slices_and_cover_the_text():
    article = _seed()
    chunks = Chunker(ChunkerConfig(300, 60)).chunk(article)
    assert len(chunks) > 3
    for n, chunk in enumerate(chunks):
        assert chunk.text == article.text[chunk.start : chunk.end]
        assert chunk.id == f"{article.id}#{n}"
        assert len(chunk.text) <= 300
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(article.text) if not ch.isspace())


def test_chunks_end_at_sentence_boundaries_when_possible():
    article = _seed()
    for chunk in Chunker(ChunkerConfig(300, 60)).chunk(article):
        assert chunk.text[-1] in ".”\"!?" or chunk.end == len(article.text), chunk.text[-30:]


def test_sentences_respect_abbreviations_and_initials():
    text = ("Dr. Smith met J. K. Rowling on Aug. 15 in the U.S. capital. She said “Hello!” "
            "Then they left.\nA new paragraph? Yes.")
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == ["Dr. Smith met J. K. Rowling on Aug. 15 in the U.S. capital.",
                   "She said “Hello!”", "Then they left.", "A new paragraph?", "Yes."]


def test_a_number_after_no_or_vol_keeps_the_sentence_whole():
    text = ("The FDA banned Red No. 3 in Vol. 2 of the rules. Is it safe? "
            "The answer is no. It is not.")
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == ["The FDA banned Red No. 3 in Vol. 2 of the rules.", "Is it safe?",
                   "The answer is no.", "It is not."]


def test_sentences_within_a_range_use_absolute_offsets():
    text = "One. Two. Three."
    spans = split_sentences(text, 5, len(text))
    assert [text[s.start : s.end] for s in spans] == ["Two.", "Three."]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc XYZ.!?\n“”é")), min_size=1, max_size=400))
def test_offsets_hold_for_any_text(text):
    article = Article(id="x", title="t", text=text)
    for chunk in Chunker(ChunkerConfig(120, 30)).chunk(article):
        assert chunk.text == text[chunk.start : chunk.end]
    for span in split_sentences(text):
        piece = text[span.start : span.end]
        assert piece == piece.strip() and piece
