"""Integrity recorded at publish and checked: ``qa index verify``, opening, and citations."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from index.integrity import ARTICLE_HASHES, WITHHELD, file_sha256
from index.layout import CHUNK_VECTORS, MANIFEST, STORE, IndexDir
from index.manifest import IndexCorrupt, Manifest
from index.reader import IndexReader, open_published
from qa.types import Message
from tests.conftest import ROOT, build, engine_for, write_stories

QA = str(Path(sys.executable).parent / "qa")
BAKERY = "How many loaves does the bakery bake a day?"


def verify(index_dir: Path) -> subprocess.CompletedProcess:
    """``qa index verify`` as an operator runs it."""
    return subprocess.run([QA, "index", "verify", "--index-dir", str(index_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "QA_MODEL": "hashing-256", "HF_HUB_OFFLINE": "1"})


def problems_of(result: subprocess.CompletedProcess) -> list[str]:
    """The problem lines of a failed verify (the last line is the summary)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: build ") and " problem" in lines[-1]
    return lines[:-1]


def writable(path: Path) -> Path:
    """Make a sealed build file writable again (as a careless operator might)."""
    path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return path


def change_text(store: Path, article_id: str, old: str, new: str) -> None:
    """Alter one article's stored text in place, behind the build's back."""
    conn = sqlite3.connect(writable(store))
    with conn:
        conn.execute("UPDATE articles SET text = replace(text, ?, ?) WHERE id = ?",
                     (old, new, article_id))
    conn.close()


@pytest.fixture
def published(tmp_path: Path, hashing) -> tuple[Path, Path]:
    """An index directory with one build of the stories, and that build's path."""
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src"))
    return tmp_path / "ix", IndexDir(tmp_path / "ix").current_path()


def test_publish_records_sizes_hashes_and_seals_the_files(published):
    _, path = published
    manifest = Manifest.read(path / MANIFEST)
    assert MANIFEST not in manifest.files
    names = {p.name for p in path.iterdir()} - {MANIFEST}
    assert set(manifest.files) == names and ARTICLE_HASHES in names
    for name, recorded in manifest.files.items():
        assert recorded == {"size": (path / name).stat().st_size,
                            "sha256": file_sha256(path / name)}
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in path.iterdir()} == {"0o444"}


def test_a_sound_build_verifies(published):
    result = verify(published[0])
    assert result.returncode == 0, result.stderr
    assert "is sound: 3 articles" in result.stdout and "not checked" not in result.stdout


def test_verify_finds_a_truncated_vectors_file(published):
    index_dir, path = published
    vectors = writable(path / CHUNK_VECTORS)
    os.truncate(vectors, vectors.stat().st_size // 2)
    [line] = problems_of(verify(index_dir))
    assert line.startswith(f"{CHUNK_VECTORS} is ") and "truncated" in line


def test_verify_finds_a_damaged_sqlite_page(published):
    index_dir, path = published
    store = writable(path / STORE)
    data = bytearray(store.read_bytes())
    middle = (len(data) // 4096 // 2) * 4096  # the start of a page in the middle
    data[middle : middle + 64] = b"\xff" * 64
    store.write_bytes(bytes(data))
    [line] = problems_of(verify(index_dir))
    assert STORE in line


def test_verify_finds_one_changed_character_in_an_article(published):
    index_dir, path = published
    change_text(path / STORE, "bakery", "800 loaves", "900 loaves")
    [line] = problems_of(verify(index_dir))
    assert line.startswith("article bakery ") and "recorded hash" in line


def test_opening_refuses_a_truncated_file_in_one_line(published):
    _, path = published
    vectors = writable(path / CHUNK_VECTORS)
    os.truncate(vectors, 100)  # np.load of it would fail, a mapping past its end SIGBUS
    with pytest.raises(IndexCorrupt) as caught:
        IndexReader(path)
    message = str(caught.value)
    assert "\n" not in message and f"{CHUNK_VECTORS} is 100 bytes" in message
    assert str(path.parent) not in message


@pytest.mark.parametrize("damage", ["garbage store", "undecodable text"])
def test_every_error_a_damaged_file_raises_is_the_index_error(published, damage):
    _, path = published
    store = writable(path / STORE)
    if damage == "garbage store":
        store.write_bytes(b"\x00" * store.stat().st_size)  # same size: passes the stat check
    else:
        conn = sqlite3.connect(store)
        with conn:
            conn.execute("UPDATE articles SET title = CAST(x'fffe' AS TEXT)")
        conn.close()
    with pytest.raises(IndexCorrupt) as caught:
        IndexReader(path)
    assert "\n" not in str(caught.value)


def test_a_manifest_without_recorded_files_still_opens(published):
    index_dir, path = published
    manifest = writable(path / MANIFEST)
    data = json.loads(manifest.read_text())
    del data["files"]
    manifest.write_text(json.dumps(data))
    reader = open_published(index_dir)
    assert reader.manifest.files == {} and reader.manifest.articles == 3
    reader.close()
    result = verify(index_dir)
    assert result.returncode == 0 and "not checked" in result.stdout


def test_a_citation_of_an_altered_article_is_withheld(published, hashing, caplog):
    index_dir, path = published
    engine = engine_for(index_dir, hashing, min_confidence=0.25)
    good = engine.answer([Message("user", BAKERY)])
    assert good.grounded and "800 loaves" in good.citations[0].quote
    change_text(path / STORE, "bakery", "800 loaves", "900 loaves")
    before = WITHHELD.count
    with caplog.at_level(logging.ERROR, logger="qa.engine"):
        altered = engine.answer([Message("user", BAKERY)])
    assert not altered.grounded and altered.reason == "withheld" and altered.citations == []
    assert all("900 loaves" not in p.text for p in altered.passages)
    assert WITHHELD.count == before + 1
    [record] = [r for r in caplog.records if r.name == "qa.engine"]
    assert "bakery" in record.getMessage() and "\n" not in record.getMessage()
    engine.close()
