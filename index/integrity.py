"""What a build records about its own files and texts, and the checks against it.

At publish the manifest records each build file's size and SHA-256, and
``article_hashes.npy`` holds a digest of each article's text (row by row). Opening a
build checks the sizes (a stat each); ``qa index verify`` checks everything; the engine
checks the one article a citation quotes before the citation leaves the service.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

ARTICLE_HASHES = "article_hashes.npy"
DIGEST_BYTES = 16  # of an article text's SHA-256: enough to tell a changed text
_CHUNK = 1 << 20


def text_digest(text: str) -> bytes:
    """The digest of an article's text, as stored in ``article_hashes.npy``."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:DIGEST_BYTES]


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def record_files(build: Path, skip: tuple[str, ...]) -> dict[str, dict]:
    """Size and SHA-256 of every file of a build (but those in ``skip``), by name."""
    return {p.name: {"size": p.stat().st_size, "sha256": file_sha256(p)}
            for p in sorted(build.iterdir()) if p.is_file() and p.name not in skip}


def seal(build: Path) -> None:
    """Make a build's files read-only: a published build is never written again, and an
    accidental write (an editor, a stray script) then fails instead of damaging it."""
    for path in build.iterdir():
        if path.is_file():
            os.chmod(path, 0o444)


def size_problems(build: Path, files: dict[str, dict]) -> list[str]:
    """One line per recorded file that is missing or not of its recorded size."""
    problems = []
    for name, recorded in sorted(files.items()):
        try:
            size = (build / name).stat().st_size
        except FileNotFoundError:
            problems.append(f"{name} is missing")
            continue
        if size != recorded["size"]:
            problems.append(f"{name} is {size} bytes, {recorded['size']} recorded "
                            f"({'truncated' if size < recorded['size'] else 'grown'})")
    return problems


def hash_problems(build: Path, files: dict[str, dict]) -> dict[str, str]:
    """The recorded files of the right size whose content is not what was recorded, by
    name, with one line each (sizes are :func:`size_problems`' concern)."""
    problems = {}
    for name, recorded in sorted(files.items()):
        path = build / name
        if not path.is_file() or path.stat().st_size != recorded["size"]:
            continue
        if file_sha256(path) != recorded["sha256"]:
            problems[name] = f"{name} does not match its recorded SHA-256"
    return problems


def quick_check(store: Path) -> str | None:
    """SQLite's ``PRAGMA quick_check`` of a store, in one line; None when it passes."""
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"{store.name} fails SQLite's quick_check: {exc}"
    if rows == ["ok"]:
        return None
    # Its messages may span lines ("*** in database main ***" first): one line each.
    rows = [" ".join(r.replace("*** in database main ***", "").split()) for r in rows]
    more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
    return f"{store.name} fails SQLite's quick_check: {rows[0]}{more}"


def text_problems(store: Path, hashes: np.ndarray) -> list[str]:
    """One line per article whose stored text does not match its recorded digest."""
    problems = []
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        conn.text_factory = bytes  # a damaged text need not be valid UTF-8
        try:
            rows = conn.execute("SELECT rowid, id, text FROM articles ORDER BY rowid")
            seen = 0
            for rowid, ident, text in rows:
                seen += 1
                name = ident.decode("utf-8", "replace")
                if rowid >= len(hashes):
                    problems.append(f"article {name} (row {rowid}) has no recorded hash")
                elif hashlib.sha256(text).digest()[:DIGEST_BYTES] != hashes[rowid].tobytes():
                    problems.append(f"article {name} (row {rowid}): its text does not "
                                    "match its recorded hash")
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"the articles of {store.name} cannot be read: {exc}"]
    if seen != len(hashes):
        problems.append(f"{seen} articles in {store.name}, {len(hashes)} recorded hashes")
    return problems


class Withheld:
    """The process's count of citations withheld because their article's text failed its
    hash (read by ``/metrics`` as ``qa_citations_withheld_total``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        """Count one withheld citation."""
        with self._lock:
            self.count += 1


WITHHELD = Withheld()
