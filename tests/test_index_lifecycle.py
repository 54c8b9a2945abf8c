"""Builds: publish, reopen checks, incremental reuse, failures that change nothing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from index.builder import Builder, BuildFailed
from index.embedder import HashingEmbedder
from index.layout import BuildLocked, IndexDir
from index.manifest import IndexCorrupt, IndexMismatch, IndexNotFound
from index.pooling import STANDALONE
from index.reader import Expectation, IndexReader, open_published
from tests.conftest import STORIES, build, write_stories


def _no_model():
    raise AssertionError("the model was loaded although nothing needed embedding")


def test_build_publishes_a_self_describing_build(tmp_path, corpus_dir, hashing):
    report = build(tmp_path / "ix", hashing, corpus_dir)
    assert report.published and report.added == 4
    reader = open_published(tmp_path / "ix")
    m = reader.manifest
    assert (m.model, m.dimension, m.articles) == (hashing.name, 256, 4)
    assert m.chunks == reader.vectors.ntotal == reader.store.counts()["chunks"]
    assert m.recipe.embedder_backend == "hashing"
    assert m.recipe.chunk_template == "{title}\n{text}" and m.recipe.sentence_splitter
    assert reader.verify() == []
    assert (tmp_path / "ix" / "CURRENT").read_text().strip() == m.build_id


def test_opening_refuses_another_model_or_dimension(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    with pytest.raises(IndexMismatch, match="built with model"):
        open_published(tmp_path / "ix", Expectation("all-MiniLM-L6-v2", 384))
    with pytest.raises(IndexMismatch, match="dimension"):
        open_published(tmp_path / "ix", Expectation(hashing.name, 384))
    with pytest.raises(IndexMismatch, match="backend"):
        open_published(tmp_path / "ix", Expectation(hashing.name, 256, "onnx"))


@pytest.mark.parametrize("field", ["chunk_template", "sentence_splitter", "embedder_backend"])
def test_a_changed_recipe_falls_back_to_a_full_build_and_says_so(tmp_path, corpus_dir,
                                                                 hashing, field):
    build(tmp_path / "ix", hashing, corpus_dir)
    path = IndexDir(tmp_path / "ix").current_path()
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["recipe"][field] = "something-older"
    (path / "manifest.json").write_text(json.dumps(manifest))
    (corpus_dir / "extra.jsonl").write_text(json.dumps(
        {"id": "extra", "title": "Extra", "text": "One more story about a harbour."}) + "\n")
    report = build(tmp_path / "ix", hashing, corpus_dir)
    assert report.published and report.reused_texts == 0
    assert f"recipe changed ({field})" in report.note and report.note in report.summary()
    assert open_published(tmp_path / "ix").verify() == []


def test_an_index_of_an_older_format_is_refused_and_rebuilt_fully(tmp_path, corpus_dir,
                                                                  hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    path = IndexDir(tmp_path / "ix").current_path()
    manifest = json.loads((path / "manifest.json").read_text())
    old = {k: v for k, v in manifest.items() if k != "recipe"}
    (path / "manifest.json").write_text(json.dumps({**old, "format_version": 1,
                                                    "model": hashing.name}))
    with pytest.raises(IndexMismatch, match="format"):
        open_published(tmp_path / "ix")
    report = build(tmp_path / "ix", hashing, corpus_dir)
    assert report.published and "other format" in report.note and report.reused_texts == 0


def test_opening_refuses_inconsistent_counts(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    path = IndexDir(tmp_path / "ix").current_path()
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["chunks"] += 1
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="chunks"):
        IndexReader(path)


def test_missing_index_and_missing_build_are_clear(tmp_path, corpus_dir, hashing):
    with pytest.raises(IndexNotFound):
        open_published(tmp_path / "nothing")
    build(tmp_path / "ix", hashing, corpus_dir)
    shutil.rmtree(IndexDir(tmp_path / "ix").current_path())
    with pytest.raises(IndexCorrupt, match="missing"):
        open_published(tmp_path / "ix")


def test_damaged_files_are_reported_as_corrupt(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    path = IndexDir(tmp_path / "ix").current_path()
    (path / "vectors.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexCorrupt, match=r"vectors\.faiss is 7 bytes"):
        IndexReader(path)


def test_unchanged_rebuild_does_no_model_work(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    before = IndexDir(tmp_path / "ix").current_id()
    report = Builder(tmp_path / "ix", _no_model, hashing.name, hashing.backend).build([corpus_dir])
    assert not report.published
    assert report.unchanged == 4
    assert "no model work" in report.summary()
    assert IndexDir(tmp_path / "ix").current_id() == before


def test_incremental_add_change_remove(tmp_path, hashing):
    src = write_stories(tmp_path / "src")
    build(tmp_path / "ix", hashing, src)
    changed = [dict(STORIES[0], text=STORIES[0]["text"] + " The bridge stayed closed."),
               STORIES[1],
               {"id": "new", "title": "New", "text": "A brand new story about ferries."}]
    write_stories(src, changed)
    report = build(tmp_path / "ix", hashing, src)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    reader = open_published(tmp_path / "ix")
    assert reader.store.article("bakery") is None
    assert "bridge stayed closed" in reader.store.article("flood").text
    unchanged_texts = (reader.manifest.chunks + reader.manifest.sentences
                       - report.embedded_texts - report.pooled_texts)
    assert report.reused_texts == unchanged_texts > 0
    # Reused vectors are the very vectors a full build computes.
    full = tmp_path / "full"
    build(full, hashing, src, full=True)
    other = open_published(full)
    assert (reader.vectors.reconstruct_n(0, reader.vectors.ntotal)
            == other.vectors.reconstruct_n(0, other.vectors.ntotal)).all()


def test_full_rebuild_embeds_everything(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    report = build(tmp_path / "ix", hashing, corpus_dir, full=True)
    assert report.published and report.reused_texts == 0 and report.added == 4


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, counting the texts it is given."""

    def __init__(self) -> None:
        super().__init__(256)
        self.seen: list[str] = []

    def embed_batch(self, texts):
        self.seen += texts
        return super().embed_batch(texts)


def test_identical_texts_are_embedded_once_and_share_the_vector(tmp_path):
    wire = "Rain closed the harbour road on Monday. Crews reopened it by noon."
    source = write_stories(tmp_path / "src", [
        {"id": "a", "title": "Harbour road", "text": wire},
        {"id": "b", "title": "Harbour road", "text": wire + " Local buses ran late."},
    ])
    counting = CountingEmbedder()
    # Sentences through the model on their own, as texts of their own to share.
    report = Builder.with_embedder(tmp_path / "ix", counting,
                                   sentence_vectors=STANDALONE).build([source])
    assert len(counting.seen) == len(set(counting.seen)) == report.embedded_texts
    assert report.repeated_texts >= 2  # the two shared sentences
    reader = open_published(tmp_path / "ix")
    (a_row, _), (b_row, _) = reader.store.articles()
    rows = {s.span: s.rowid for s in reader.store.sentences_of(a_row)}
    again = [s.rowid for s in reader.store.sentences_of(b_row) if s.span in rows]
    assert len(again) == 2
    for first, second in zip(rows.values(), again, strict=True):
        assert (reader.sentence_vectors[first] == reader.sentence_vectors[second]).all()


def test_failed_build_leaves_the_published_index(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    before = IndexDir(tmp_path / "ix").current_id()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BuildFailed, match="no readable articles"):
        build(tmp_path / "ix", hashing, empty)
    with pytest.raises(BuildFailed, match="no such file"):
        build(tmp_path / "ix", hashing, tmp_path / "missing")

    class Exploding(HashingEmbedder):
        def embed_batch(self, texts):
            raise RuntimeError("model crashed mid-build")

    write_stories(corpus_dir, [dict(STORIES[0], text="Changed text entirely.")])
    with pytest.raises(RuntimeError, match="mid-build"):
        build(tmp_path / "ix", Exploding(256), corpus_dir)
    assert IndexDir(tmp_path / "ix").current_id() == before
    assert open_published(tmp_path / "ix").verify() == []


def test_second_build_fails_clearly_while_one_holds_the_lock(tmp_path, corpus_dir, hashing):
    index_dir = IndexDir(tmp_path / "ix")
    with index_dir.lock(), pytest.raises(BuildLocked, match="another build"):
        build(tmp_path / "ix", hashing, corpus_dir)
    assert build(tmp_path / "ix", hashing, corpus_dir).published


def test_debris_is_cleaned_and_old_builds_pruned(tmp_path, corpus_dir, hashing):
    root = tmp_path / "ix"
    build(root, hashing, corpus_dir)
    _, debris = IndexDir(root).new_build_dir()
    (debris / "store.sqlite").write_text("half written")
    for _ in range(4):
        Builder.with_embedder(root, hashing, keep_builds=2).build([corpus_dir], full=True)
    names = sorted(p.name for p in (root / "builds").iterdir())
    assert len(names) == 2
    assert IndexDir(root).current_id() == names[-1]


def _briefs(n: int) -> list[dict]:
    return [{"id": f"brief-{i:02d}", "title": f"Brief {i}",
             "text": f"Town brief number {i}: the council met for the {i}th time this year."}
            for i in range(n)]


def test_a_stepped_build_publishes_as_it_grows_and_embeds_each_text_once(tmp_path):
    source = write_stories(tmp_path / "src", _briefs(7))
    counting = CountingEmbedder()
    builder = Builder.with_embedder(tmp_path / "ix", counting, keep_builds=10)
    report = builder.build([source], publish_every=3)
    # Three steps (3, 6, then all 7 articles), each published and reused by the next.
    builds = sorted(p.name for p in (tmp_path / "ix" / "builds").iterdir())
    assert len(builds) == 3
    sizes = [IndexReader(tmp_path / "ix" / "builds" / b).manifest.articles
             for b in builds]
    assert sizes == [3, 6, 7]
    assert report.added == 7 and report.build_id == builds[-1]
    assert report.reused_texts == 0  # nothing was published before this build
    assert len(counting.seen) == len(set(counting.seen)) == report.embedded_texts
    # The same index a single build gives: the same texts, the same vectors.
    single = CountingEmbedder()
    Builder.with_embedder(tmp_path / "one", single).build([source])
    assert sorted(single.seen) == sorted(counting.seen)
    stepped, whole = open_published(tmp_path / "ix"), open_published(tmp_path / "one")
    assert (np.asarray(stepped.sentence_vectors) == np.asarray(whole.sentence_vectors)).all()
    assert stepped.verify() == []


def test_a_stepped_build_stopped_midway_keeps_its_finished_steps(tmp_path, hashing):
    source = write_stories(tmp_path / "src", _briefs(3))
    build(tmp_path / "ix", hashing, source)
    write_stories(source, _briefs(9))  # six more

    class DiesOnTheSecondStep(HashingEmbedder):
        """Dies at the first text of the second step's articles (briefs 6 to 8)."""

        def embed_batch(self, texts):
            if any(f"Brief {i}" in t or f"number {i}:" in t for t in texts for i in (6, 7, 8)):
                raise RuntimeError("killed mid-build")
            return super().embed_batch(texts)

    with pytest.raises(RuntimeError, match="killed"):
        Builder.with_embedder(tmp_path / "ix", DiesOnTheSecondStep(256)).build(
            [source], publish_every=3)
    reader = open_published(tmp_path / "ix")
    assert reader.manifest.articles == 6  # the first step (3 old + 3 new) stands
    assert reader.verify() == []
    again = CountingEmbedder()
    report = Builder.with_embedder(tmp_path / "ix", again).build([source], publish_every=3)
    assert report.added == 3 and report.unchanged == 6  # only the rest is embedded
    assert open_published(tmp_path / "ix").manifest.articles == 9


def test_sentences_in_many_finds_exactly_the_overlapping_sentences(tmp_path, hashing):
    # Sentences with gaps between them (paragraph breaks), so a range may start inside a
    # sentence, on its first character, or in the gap after it; two articles, asked for
    # in one call, so a lookup never strays into the neighbouring article's sentences.
    texts = ["\n\n".join(f"Paragraph {i} says the {topic} met. It voted {i} times."
                          for i in range(n)) for topic, n in (("council", 12), ("board", 5))]
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src", [
        {"id": f"s{i}", "title": "Meetings", "text": text} for i, text in enumerate(texts)]))
    reader = open_published(tmp_path / "ix")
    ranges, expected = [], []
    for row, article in reader.store.articles():
        every = reader.store.sentences_of(row)
        assert len(every) >= 10
        edges = sorted({0, len(article.text)}
                       | {e for s in every for e in (s.span.start, s.span.end)}
                       | {s.span.start + 3 for s in every} | {s.span.end + 1 for s in every})
        for a, b in [(a, b) for a in edges for b in edges if a < b][::7]:
            ranges.append((row, a, b))
            expected.append([s.rowid for s in every if s.span.end > a and s.span.start < b])
    assert [[s.rowid for s in found] for found in reader.sentences_in_many(ranges)] == expected
    assert reader.sentences_in(99, 0, 100) == []  # no such article


def test_retrieved_chunks_match_their_stored_rows(tmp_path, corpus_dir, hashing):
    build(tmp_path / "ix", hashing, corpus_dir)
    reader = open_published(tmp_path / "ix")
    stored = reader.store.conn.execute(
        "SELECT c.rowid, c.id, a.id, c.n, c.start, c.end, a.title, a.rowid FROM chunks c "
        "JOIN articles a ON a.rowid = c.article_rowid").fetchall()
    chunks = reader.chunks([r[0] for r in stored])
    for rowid, ident, article_id, n, start, end, title, article_rowid in stored:
        found = chunks[rowid]
        assert (found.chunk.id, found.chunk.article_id, found.chunk.n) == (ident, article_id, n)
        assert (found.chunk.start, found.chunk.end, found.title) == (start, end, title)
        assert found.chunk.text == reader.store.article_text(article_rowid)[start:end]
        assert found.article_rowid == article_rowid
