"""A bad line or item of a file is left out with its place and reason; every good item of
the same file is indexed. An article over the size limit is left out with one line, and
the wire-copy MinHash of a long text is computed in blocks with the same result."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from datasketch import MinHash

from index.builder import read_sources
from index.copies import _WORD, MIN_WORDS, PERMUTATIONS, SHINGLE, signature
from index.reader import open_published
from tests.conftest import build
from tests.test_cli import run

GOOD = [{"id": f"s{i}", "title": f"Story {i}", "text": f"Body of story number {i}."}
        for i in range(5)]


def _lines(bad_at: int, bad: str) -> str:
    rows = [json.dumps(r) for r in GOOD]
    rows.insert(bad_at, bad)
    return "\n".join(rows) + "\n"


def test_a_bad_jsonl_line_is_skipped_and_the_rest_indexed(tmp_path, hashing):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "feed.jsonl").write_text(_lines(2, '{"id": "broken", "text": '))
    report = build(tmp_path / "ix", hashing, corpus)
    assert report.skipped == [(f"{corpus / 'feed.jsonl'}:3", report.skipped[0][1])]
    assert report.skipped[0][1].startswith("invalid JSON")
    reader = open_published(tmp_path / "ix")
    try:
        assert reader.store.counts()["articles"] == len(GOOD)
        assert reader.store.article("s4") is not None
    finally:
        reader.close()


def test_a_bad_line_of_a_gzipped_jsonl_is_named(tmp_path):
    path = tmp_path / "feed.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(_lines(0, "[1, 2"))
    articles, skipped = read_sources([tmp_path])
    assert [a.id for a in articles] == [r["id"] for r in GOOD]
    assert [where for where, _ in skipped] == [f"{path}:1"]


def test_a_truncated_gzip_keeps_what_was_read_before_the_damage(tmp_path):
    whole = gzip.compress("".join(json.dumps({"id": f"a{i}", "text": f"Story {i} body."})
                                  + "\n" for i in range(5000)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    articles, skipped = read_sources([tmp_path])
    assert 0 < len(articles) < 5000
    assert len(skipped) == 1
    assert skipped[0][0] == str(path) and "cannot read past line" in skipped[0][1]


def test_bad_items_of_a_json_list_are_skipped_by_item_number(tmp_path):
    path = tmp_path / "list.json"
    path.write_text(json.dumps([
        {"text": "First good story."},
        "not an object",
        {"title": "no text at all"},
        {"text": ""},
        {"text": "Bad title type.", "title": {"nested": True}},
        {"text": 42},
        {"text": "Last good story."},
    ]))
    articles, skipped = read_sources([tmp_path])
    assert [a.id for a in articles] == ["list-0", "list-6"]
    reasons = dict(skipped)
    assert set(reasons) == {f"{path}:item {n}" for n in (2, 3, 4, 5, 6)}
    assert "not a JSON object" in reasons[f"{path}:item 2"]
    assert "no 'text'" in reasons[f"{path}:item 3"]
    assert "no article text" in reasons[f"{path}:item 4"]
    assert "'title' is dict" in reasons[f"{path}:item 5"]
    assert "'text' is int" in reasons[f"{path}:item 6"]


def test_a_jsonl_object_without_text_is_skipped(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text(_lines(4, json.dumps({"id": "x", "title": "headline only"})))
    articles, skipped = read_sources([tmp_path])
    assert len(articles) == len(GOOD)
    assert skipped == [(f"{path}:5", "each JSON object needs a string 'text': no 'text'")]


def test_many_bad_lines_list_the_first_twenty_and_count_the_rest(tmp_path):
    path = tmp_path / "noisy.jsonl"
    path.write_text("\n".join(["{oops"] * 50 + [json.dumps(GOOD[0])]) + "\n")
    articles, skipped = read_sources([tmp_path])
    assert [a.id for a in articles] == ["s0"]
    assert [where for where, _ in skipped[:20]] == [f"{path}:{n}" for n in range(1, 21)]
    assert skipped[20] == (str(path), f"... and 30 more skipped lines in {path}")
    assert len(skipped) == 21


def test_an_article_over_the_size_limit_is_skipped_with_one_line(tmp_path):
    (tmp_path / "huge.txt").write_text("Huge title\n\n" + "word " * 2000)
    (tmp_path / "small.txt").write_text("Small title\n\nA short body.")
    articles, skipped = read_sources([tmp_path], max_article_chars=1000)
    assert [a.id for a in articles] == ["small"]
    assert skipped == [(str(tmp_path / "huge.txt"), "article of 9999 characters is over "
                        "QA_MAX_ARTICLE_CHARS=1000")]


def test_the_cli_names_each_skipped_line_and_the_long_article(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "feed.jsonl").write_text(_lines(1, "{broken"))
    (corpus / "huge.txt").write_text("Huge title\n\n" + "word " * 400)
    built = run("index", "build", str(corpus), "--index-dir", str(tmp_path / "ix"),
                QA_MAX_ARTICLE_CHARS="1000")
    assert built.returncode == 0, built.stderr
    errors = built.stderr.splitlines()
    assert f"skipped {corpus / 'feed.jsonl'}:2: invalid JSON" in "\n".join(errors)
    assert (f"skipped {corpus / 'huge.txt'}: article of 1999 characters is over "
            "QA_MAX_ARTICLE_CHARS=1000") in errors
    assert f"added {len(GOOD)}," in built.stdout


def _old_signature(text: str, seed: int = 1) -> MinHash | None:
    """The MinHash as it was computed before blocks: every shingle in one batch."""
    words = _WORD.findall(text.lower())
    shingles = [" ".join(words[i : i + SHINGLE]).encode()
                for i in range(max(0, len(words) - SHINGLE + 1))]
    if len(shingles) < MIN_WORDS:
        return None
    m = MinHash(num_perm=PERMUTATIONS, seed=seed)
    m.update_batch(shingles)
    return m


def test_blockwise_minhash_equals_the_one_batch_result():
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    article = next(p for p in sorted(seeds.iterdir()) if p.is_file()).read_text()
    long_text = " ".join(f"{w}{i % 997}" for i, w in enumerate(article.split() * 40))
    for text in (article, long_text):
        old, new = _old_signature(text), signature(text)
        assert old is not None and new is not None
        assert (old.hashvalues == new.hashvalues).all()
    assert signature("too few words here") is None and _old_signature("too few") is None
