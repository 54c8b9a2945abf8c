"""Every ingest format, and files that cannot be read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from index.builder import read_sources
from index.readers import SourceFile, UnreadableFile, discover, read_file


def _read(path: Path):
    return read_file(SourceFile(path, path.stem))


def test_markdown_front_matter_and_heading(tmp_path):
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: Front Title\ndate: 2022-01-02\nurl: https://x.example/n\n---\n"
                    "# Ignored heading\n\nThe body text.\n")
    article = _read(path)[0]
    assert (article.title, article.published, article.url) == (
        "Front Title", "2022-01-02", "https://x.example/n")
    assert article.text == "Ignored heading\n\nThe body text."


def test_markdown_front_matter_is_yaml(tmp_path):
    path = tmp_path / "yaml.md"
    path.write_text('---\ntitle: "Budget: the vote, explained"\ndate: 2023-05-06T09:30:00\n'
                    "id: 42\n---\nBody.\n")
    article = _read(path)[0]
    assert (article.title, article.published, article.id) == (
        "Budget: the vote, explained", "2023-05-06", "42")


def test_malformed_front_matter_is_a_clear_unreadable_file(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("---\ntitle: [unclosed\n---\nBody.\n")
    with pytest.raises(UnreadableFile, match="malformed front matter"):
        _read(path)


def test_markdown_heading_is_title(tmp_path):
    path = tmp_path / "b.md"
    path.write_text("# The Heading\n\nBody one.\n\n## Sub\n\nBody two.")
    article = _read(path)[0]
    assert article.title == "The Heading"
    assert article.text == "Body one.\n\nSub\n\nBody two."


def test_html_main_text_is_extracted(tmp_path):
    path = tmp_path / "page.html"
    paragraph = "The harbour reopened on Tuesday after repairs that lasted three full months."
    path.write_text(
        "<html><head><title>Harbour Reopens</title></head><body>"
        "<nav><a href='/'>Home</a><a href='/x'>Sections</a></nav>"
        f"<article><h1>Harbour Reopens</h1><p>{paragraph}</p>"
        "<p>Fishing boats returned the same afternoon, the port authority said.</p></article>"
        "<footer>Copyright Example</footer><script>alert(1)</script></body></html>")
    article = _read(path)[0]
    assert article.title == "Harbour Reopens"
    assert paragraph in article.text
    assert "alert(1)" not in article.text
    assert "Sections" not in article.text


def test_json_object_list_and_jsonl(tmp_path):
    (tmp_path / "one.json").write_text(json.dumps(
        {"id": "x1", "title": "T", "text": "Body.", "url": "u", "published": "2020-01-01T10:00",
         "source": "S"}))
    (tmp_path / "many.json").write_text(json.dumps([{"text": "A."}, {"text": "B."}]))
    (tmp_path / "lines.jsonl").write_text('{"text": "C.", "id": "c"}\n\n{"text": "D."}\n')
    articles, skipped = read_sources([tmp_path])
    assert skipped == []
    by_id = {a.id: a for a in articles}
    assert set(by_id) == {"x1", "many-0", "many-1", "c", "lines-3"}
    assert by_id["x1"].published == "2020-01-01"
    assert (by_id["x1"].url, by_id["x1"].source) == ("u", "S")


@pytest.mark.parametrize("name, content, reason", [
    ("bad.json", "{not json", "invalid JSON"),
    ("notext.json", '{"title": "no text"}', "'text'"),
    ("bad.jsonl", '{broken', "bad.jsonl:1: invalid JSON"),
    ("empty.txt", "", "no article text"),
    ("blank.md", "\n\n   \n", "no article text"),
])
def test_unreadable_files_say_why(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UnreadableFile) as exc:
        _read(path)
    assert reason in str(exc.value)
    assert name in str(exc.value)


def test_binary_file_is_unreadable(tmp_path):
    path = tmp_path / "binary.txt"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(UnreadableFile, match="cannot read"):
        _read(path)


def test_build_reading_skips_bad_files_and_goes_on(tmp_path):
    (tmp_path / "good.txt").write_text("Good title\n\nGood body.")
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "empty.txt").write_text("")
    articles, skipped = read_sources([tmp_path])
    assert [a.id for a in articles] == ["good"]
    assert sorted(Path(p).name for p, _ in skipped) == ["bad.json", "empty.txt"]


def test_discover_recurses_skips_hidden_and_unknown(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("T\n\nB.")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "y.txt").write_text("T\n\nB.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    assert [s.key for s in discover([tmp_path])] == ["a--b--x"]


def test_missing_source_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        discover([tmp_path / "nope"])


def test_gzipped_jsonl_and_json_are_read_as_streams(tmp_path):

    rows = [{"id": f"g{i}", "title": f"Story {i}", "text": f"Body of story {i}.",
             "published": "2024-03-0" + str(i + 1)} for i in range(3)]
    with gzip.open(tmp_path / "archive.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write("\n".join(json.dumps(r) for r in rows) + "\n")
    with gzip.open(tmp_path / "one.json.gz", "wt", encoding="utf-8") as out:
        out.write(json.dumps({"title": "Single", "text": "Just one."}))
    found = {s.path.name: s for s in discover([tmp_path])}
    assert set(found) == {"archive.jsonl.gz", "one.json.gz"}
    assert found["one.json.gz"].key == "one"
    articles = read_file(found["archive.jsonl.gz"])
    assert [(a.id, a.published) for a in articles] == [
        ("g0", "2024-03-01"), ("g1", "2024-03-02"), ("g2", "2024-03-03")]
    assert read_file(found["one.json.gz"])[0].id == "one"


def test_a_corrupt_gzip_is_a_clear_unreadable_file(tmp_path):

    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip at all")
    for source in discover([tmp_path]):
        with pytest.raises(UnreadableFile, match="cannot read"):
            read_file(source)
