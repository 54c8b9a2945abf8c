"""A full disk during a build: one line, exit 1, no partial build, the published index
untouched. On a real small tmpfs (mounting one needs root)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.builder import Builder
from index.layout import IndexDir
from index.reader import open_published
from index.space import DiskFull, estimate, is_disk_full
from tests.conftest import ROOT, STORIES, write_stories

QA = str(Path(sys.executable).parent / "qa")
LINE = re.compile(r"^error: no space left on device while writing .+: about \d+ MB needed, "
                  r"\d+ MB free$")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip("SKIPPED LOUDLY: the disk-full tests need to mount a small tmpfs (root "
                    f"with CAP_SYS_ADMIN); mount said: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def qa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([QA, *args], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "QA_MODEL": "hashing-256", "HF_HUB_OFFLINE": "1"})


def big_stories(n: int, chars: int) -> list[dict]:
    filler = " ".join(f"Paragraph {i} tells of the river, the council and the bakery."
                      for i in range(chars // 60))
    return [dict(STORIES[i % 3], id=f"big{i}", text=f"{STORIES[i % 3]['text']} {filler}")
            for i in range(n)]


def assert_untouched(index_dir: Path, published: str) -> None:
    """The earlier build is still CURRENT and opens; no partial build is left."""
    assert IndexDir(index_dir).current_id() == published
    assert [p.name for p in (index_dir / "builds").iterdir() if p.name.startswith(".")] == []
    reader = open_published(index_dir)
    assert reader.version == published
    reader.close()


def test_a_build_that_would_not_fit_is_refused_before_writing(small_disk, tmp_path):
    index_dir = small_disk / "ix"
    first = qa("index", "build", str(write_stories(tmp_path / "src")), "--index-dir",
               str(index_dir))
    assert first.returncode == 0, first.stderr
    published = IndexDir(index_dir).current_id()
    big = write_stories(tmp_path / "big", big_stories(300, 12_000))
    result = qa("index", "build", str(big), "--index-dir", str(index_dir))
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert LINE.match(line), line
    needed, free = map(int, re.findall(r"(\d+) MB", line))
    assert needed > free
    assert_untouched(index_dir, published)


class _FillTheDisk:
    """Progress that, once the embedding starts (the store written, its commit and the
    vectors still to come), fills the disk to within ``leave`` bytes."""

    def __init__(self, disk: Path, leave: int) -> None:
        self.disk, self.leave = disk, leave

    def locked(self) -> None:
        pass

    def start(self, total: int) -> None:
        free = os.statvfs(self.disk).f_bavail * os.statvfs(self.disk).f_frsize
        with open(self.disk / "filler", "wb") as f:
            f.write(b"\0" * max(0, free - self.leave))

    def advance(self, n: int) -> None:
        pass


@pytest.mark.parametrize("leave", [0, 24_000, 400_000])
def test_a_disk_that_fills_during_the_write_leaves_the_index_untouched(small_disk, tmp_path,
                                                                     hashing, leave):
    index_dir = small_disk / "ix"
    builder = Builder.with_embedder(index_dir, hashing)
    builder.build([write_stories(tmp_path / "src")])
    published = IndexDir(index_dir).current_id()
    more = write_stories(tmp_path / "more", big_stories(40, 3_000))
    with pytest.raises(DiskFull) as caught:
        builder.build([more], progress=_FillTheDisk(small_disk, leave))
    assert LINE.match(f"error: {caught.value}"), str(caught.value)
    assert is_disk_full(caught.value.__cause__)
    assert_untouched(index_dir, published)
    (small_disk / "filler").unlink()
    # With the space back the same build succeeds.
    assert builder.build([more]).published


def test_sqlite_full_is_a_full_disk():
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    assert not is_disk_full(sqlite3.OperationalError("no such table: x"))
    assert not is_disk_full(PermissionError(13, "Permission denied"))


def test_the_estimate_covers_what_a_build_writes(tmp_path, hashing):
    """The estimate is on the high side of a real build's size."""
    stories = big_stories(40, 3_000)
    builder = Builder.with_embedder(tmp_path / "ix", hashing)
    builder.build([write_stories(tmp_path / "src", stories)])
    path = IndexDir(tmp_path / "ix").current_path()
    written = sum(p.stat().st_size for p in path.iterdir())
    chars = sum(len(s["text"]) + len(s["title"]) for s in stories)
    assert written < estimate(chars, hashing.dimension) < 20 * written + (1 << 20)
    assert json.loads((path / "manifest.json").read_text())["files"]
