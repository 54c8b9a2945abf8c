"""Disk space: an estimate of what a build will write, checked before it writes, and the
one line a full disk is reported in."""

from __future__ import annotations

import errno
import re
import shutil
import sqlite3
from pathlib import Path

MB = 1 << 20
# Per stored vector: float16 in the .npy file, float32 in FAISS (chunks only).
_CHUNK_CHARS = 600  # a chunk's typical length in characters (for the count's estimate)
_SENTENCE_CHARS = 110
_SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


class DiskFull(Exception):
    """A build ran, or would run, out of disk space."""

    def __init__(self, what: str, needed: int, free: int) -> None:
        super().__init__(f"no space left on device while writing {what}: about "
                         f"{max(1, round(needed / MB))} MB needed, {free // MB} MB free")


def estimate(text_chars: int, dimension: int) -> int:
    """Bytes a build of articles totalling ``text_chars`` characters will write, with
    vectors of ``dimension``: on the high side (texts twice, as UTF-8 with room for
    SQLite's pages and indexes, plus the lexical index and every vector)."""
    chunks = text_chars // _CHUNK_CHARS + 1
    sentences = text_chars // _SENTENCE_CHARS + 1
    texts = 3 * text_chars
    vectors = chunks * dimension * (2 + 4) + sentences * dimension * 2
    rows = chunks * 64 + sentences * 96
    return texts + vectors + rows + MB


def free_bytes(path: Path) -> int:
    """Bytes free to an unprivileged writer on the file system holding ``path``."""
    return shutil.disk_usage(path).free


def check(path: Path, needed: int) -> None:
    """Raise DiskFull if the file system of ``path`` has less than ``needed`` bytes free."""
    free = free_bytes(path)
    if free < needed:
        raise DiskFull(f"a build in {path}", needed, free)


def is_disk_full(exc: BaseException) -> bool:
    """True for the errors a full disk raises: ENOSPC/EDQUOT, and SQLite's own."""
    if isinstance(exc, OSError):
        # numpy writes arrays with fwrite and reports a short write without an errno
        # ("13146 requested and 992 written"): on a local file system, a full disk.
        return exc.errno in (errno.ENOSPC, errno.EDQUOT) or (
            exc.errno is None and _SHORT_WRITE.search(str(exc)) is not None)
    if isinstance(exc, sqlite3.OperationalError):
        return "database or disk is full" in str(exc)
    return False
