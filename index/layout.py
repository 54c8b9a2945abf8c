"""The index directory: builds, the CURRENT pointer, the build lock and pruning.

```
<index dir>/
  CURRENT            the published build id (replaced atomically)
  .lock              held by the one build that may run at a time
  builds/<id>/       a finished build (manifest.json, vectors.faiss, store.sqlite, ...)
  builds/.tmp-<id>/  a build in progress; debris if its builder died
```
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from index.manifest import IndexCorrupt, IndexNotFound

MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STORE = "store.sqlite"
SENTENCE_VECTORS = "sentences.npy"
CHUNK_VECTORS = "chunks.npy"
LEXICAL = "lexical.npz"
_TMP = ".tmp-"


class BuildLocked(Exception):
    """Another build holds the lock of this index directory."""


class IndexDir:
    """Paths and pointer operations of one index directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.builds = self.root / "builds"
        self.current_file = self.root / "CURRENT"

    def current_id(self) -> str:
        """The published build id; raises IndexNotFound when there is none."""
        try:
            build_id = self.current_file.read_text().strip()
        except FileNotFoundError as exc:
            raise IndexNotFound("no published index in the index directory") from exc
        if not build_id:
            raise IndexCorrupt("the CURRENT pointer of the index directory is empty")
        return build_id

    def current_path(self) -> Path:
        """The directory of the published build (which must exist)."""
        path = self.builds / self.current_id()
        if not path.is_dir():
            raise IndexCorrupt(
                f"the published build {path.name} is missing from the index directory")
        return path

    def has_published(self) -> bool:
        """True when a CURRENT pointer exists."""
        return self.current_file.exists()

    def new_build_dir(self) -> tuple[str, Path]:
        """Create a private directory for a build in progress."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        build_id = f"{stamp}-{secrets.token_hex(3)}"
        path = self.builds / f"{_TMP}{build_id}"
        path.mkdir(parents=True)
        return build_id, path

    def publish(self, build_id: str, tmp_path: Path) -> Path:
        """Move a finished build into place, then swap CURRENT to it atomically."""
        for name in os.listdir(tmp_path):
            _fsync(tmp_path / name)
        final = self.builds / build_id
        os.replace(tmp_path, final)
        _fsync(self.builds)
        self.point(build_id)
        return final

    def point(self, build_id: str) -> None:
        """Swap CURRENT to ``build_id`` in one rename: a reader never sees it empty or
        half written. (It does not check that the build exists.)"""
        pointer_tmp = self.root / f"CURRENT.{build_id}.tmp"
        with open(pointer_tmp, "w") as f:
            f.write(build_id + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer_tmp, self.current_file)
        _fsync(self.root)

    def clean_debris(self) -> list[str]:
        """Remove what dead builds left behind; call only while holding the lock."""
        removed = []
        if self.builds.is_dir():
            for path in self.builds.iterdir():
                if path.name.startswith(_TMP):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path.name)
        for path in self.root.glob("CURRENT.*.tmp"):
            path.unlink(missing_ok=True)
            removed.append(path.name)
        return removed

    def prune(self, keep: int) -> list[str]:
        """Delete all but the newest ``keep`` finished builds, never the published one."""
        current = self.current_id() if self.has_published() else None
        finished = sorted(
            (p for p in self.builds.iterdir() if p.is_dir() and not p.name.startswith(_TMP)),
            key=lambda p: p.name,
        )
        doomed = [p for p in finished[: max(0, len(finished) - keep)] if p.name != current]
        for path in doomed:
            shutil.rmtree(path, ignore_errors=True)
        return [p.name for p in doomed]

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the build lock, or raise BuildLocked at once if another build has it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise BuildLocked("another build is running in this index directory") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
