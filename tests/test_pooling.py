"""One pass over the text: sentence vectors pooled from their chunk's token states."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from index.builder import Builder
from index.chunking import CHUNK_TEMPLATE, Chunker, ChunkerConfig, split_sentences
from index.embedder import HashingEmbedder, TokenStates
from index.pooling import POOLED, STANDALONE, place_sentences
from index.reader import open_published
from index.records import Article
from tests.conftest import STORIES, write_stories


def _article(text: str, title: str = "A title") -> Article:
    return Article(id="a", title=title, text=text)


def test_each_sentence_is_placed_in_the_chunk_holding_most_of_it():
    text = " ".join(f"Sentence number {n} tells of the harbour and the road." for n in range(40))
    article = _article(text)
    chunks = Chunker(ChunkerConfig(chunk_size=300, chunk_overlap=60)).chunk(article)
    assert len(chunks) > 3
    spans = split_sentences(text)
    prefix = len(CHUNK_TEMPLATE.format(title=article.title, text=""))
    slots = place_sentences(chunks, prefix, spans)
    for span, slot in zip(spans, slots, strict=True):
        assert slot is not None
        chunk = chunks[slot.chunk]
        embedded = CHUNK_TEMPLATE.format(title=article.title, text=chunk.text)
        held = min(span.end, chunk.end) - max(span.start, chunk.start)
        # The chunk's part of the sentence, at the offsets the slot names...
        assert embedded[slot.start : slot.end] == text[max(span.start, chunk.start):
                                                       min(span.end, chunk.end)]
        # ...and no other chunk holds more of it.
        for other in chunks:
            assert min(span.end, other.end) - max(span.start, other.start) <= held


class TruncatingEmbedder(HashingEmbedder):
    """The hashing embedder with a token limit, like the model's: words past the first
    ``limit`` of a text have no state. Records every text it is given."""

    def __init__(self, limit: int) -> None:
        super().__init__(256)
        self.limit = limit
        self.seen: list[str] = []

    def embed_batch(self, texts):
        self.seen += texts
        return super().embed_batch(texts)

    def token_states(self, texts):
        out = super().token_states(texts)
        return [TokenStates(s.vector, s.states[: self.limit], s.starts[: self.limit])
                for s in out]


def _vectors(index_dir):
    reader = open_published(index_dir)
    try:
        return (np.asarray(reader.chunk_vectors, dtype=np.float32),
                np.asarray(reader.sentence_vectors, dtype=np.float32), reader.manifest)
    finally:
        reader.close()


def test_one_pass_gives_the_sentence_vectors_of_two_passes_for_an_exact_embedder(tmp_path):
    # The hashing embedder's tokens are words with one-hot states: pooling a sentence's
    # words is exactly the sentence's own embedding, so both methods must agree.
    source = write_stories(tmp_path / "src")
    one = TruncatingEmbedder(10_000)
    report = Builder.with_embedder(tmp_path / "one", one).build([source])
    two = TruncatingEmbedder(10_000)
    Builder.with_embedder(tmp_path / "two", two, sentence_vectors=STANDALONE).build([source])
    chunks_1, sentences_1, manifest_1 = _vectors(tmp_path / "one")
    chunks_2, sentences_2, manifest_2 = _vectors(tmp_path / "two")
    assert manifest_1.recipe.sentence_vectors == POOLED
    assert manifest_2.recipe.sentence_vectors == STANDALONE
    np.testing.assert_allclose(chunks_1, chunks_2, atol=1e-3)
    np.testing.assert_allclose(sentences_1, sentences_2, atol=1e-3)
    # One pass: only chunk texts reach the model; every sentence was pooled.
    assert report.pooled_texts == manifest_1.sentences > 0
    assert len(one.seen) == report.embedded_texts == manifest_1.chunks
    assert len(two.seen) > len(one.seen)


def test_a_sentence_past_the_token_limit_is_embedded_on_its_own(tmp_path):
    source = write_stories(tmp_path / "src")
    limited = TruncatingEmbedder(12)  # each chunk keeps its first 12 words only
    report = Builder.with_embedder(tmp_path / "ix", limited).build([source])
    _, sentences, manifest = _vectors(tmp_path / "ix")
    assert 0 < report.pooled_texts < manifest.sentences
    alone = [t for t in limited.seen if "\n" not in t]  # chunk texts carry the title line
    assert alone and report.embedded_texts == manifest.chunks + len(alone)
    # Its vector is its own embedding: never a zero vector, never a neighbour's.
    assert np.all(np.abs(np.linalg.norm(sentences, axis=1) - 1) < 1e-2)
    reference = HashingEmbedder(256)
    reader = open_published(tmp_path / "ix")
    try:
        for rowid, text in _sentence_texts(reader):
            if text in alone:
                assert float(reference.embed_one(text) @ sentences[rowid]) > 0.99
    finally:
        reader.close()


def _sentence_texts(reader):
    """(sentence row, sentence text) of every stored sentence."""
    for article_row, article in reader.store.articles():
        for sentence in reader.store.sentences_of(article_row):
            yield sentence.rowid, article.text[sentence.span.start : sentence.span.end]


def test_switching_the_sentence_vector_method_rebuilds_in_full(tmp_path):
    source = write_stories(tmp_path / "src")
    Builder.with_embedder(tmp_path / "ix", HashingEmbedder(256)).build([source])
    again = Builder.with_embedder(tmp_path / "ix", HashingEmbedder(256),
                                  sentence_vectors=STANDALONE).build([source])
    assert "sentence_vectors" in again.note and again.published
    assert _vectors(tmp_path / "ix")[2].recipe.sentence_vectors == STANDALONE


def test_a_manifest_from_before_the_field_reads_as_standalone(tmp_path):
    source = write_stories(tmp_path / "src")
    Builder.with_embedder(tmp_path / "ix", HashingEmbedder(256),
                          sentence_vectors=STANDALONE).build([source])
    build_dir = next((tmp_path / "ix" / "builds").iterdir())
    manifest = build_dir / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["recipe"]["sentence_vectors"]
    manifest.chmod(0o644)
    manifest.write_text(json.dumps(data))
    # The older build is reused as it is: nothing changed, nothing embedded.
    again = Builder.with_embedder(tmp_path / "ix", HashingEmbedder(256),
                                  sentence_vectors=STANDALONE).build([source])
    assert not again.published and again.embedded_texts == 0


def test_an_unknown_method_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="sentence vectors"):
        Builder(tmp_path / "ix", HashingEmbedder, "hashing-256", "hashing",
                sentence_vectors="averaged")


@pytest.mark.model
def test_the_model_pools_sentences_close_to_their_own_vectors(real_model):
    story = STORIES[0]
    article = _article(story["text"], story["title"])
    chunk = Chunker().chunk(article)[0]
    text = CHUNK_TEMPLATE.format(title=article.title, text=chunk.text)
    states = real_model.token_states([text])[0]
    # The whole-text vector is the model's embedding of the chunk.
    assert float(states.vector @ real_model.embed_one(text)) > 0.9999
    # Token offsets point at the token's own characters.
    assert all(re.match(r"\w|\W", text[s]) for s in states.starts)
    # Batch independence: pooled alone equals pooled among other texts.
    batched = real_model.token_states(["Short one.", text, "x " * 300])[1]
    np.testing.assert_allclose(batched.states, states.states, atol=1e-4)
    prefix = len(article.title) + 1
    spans = split_sentences(article.text)
    slots = place_sentences([chunk], prefix, spans)
    from index.pooling import embed_pooled

    _, pooled = embed_pooled(real_model.token_states, 8, [text],
                             [[(s.start, s.end) for s in slots]])
    alone = real_model.embed([article.text[s.start : s.end] for s in spans])
    cosines = [float(p @ a) for p, a in zip(pooled[0], alone, strict=True)]
    assert min(cosines) > 0.5 and np.mean(cosines) > 0.7
