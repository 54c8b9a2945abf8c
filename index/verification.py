"""``qa index verify``: every check a build can be put through, one line per problem."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from index.arrays import mapped
from index.integrity import (
    ARTICLE_HASHES,
    hash_problems,
    quick_check,
    size_problems,
    text_problems,
)
from index.layout import MANIFEST, STORE
from index.manifest import IndexError_, Manifest
from index.reader import IndexReader


def verify_build(path: Path) -> list[str]:
    """The problems of a build (empty when it is sound): its files' sizes and SHA-256
    against the manifest, SQLite's quick_check, every article text against its recorded
    digest, then, if all that passes, the deep checks of :meth:`IndexReader.verify`.

    Never raises for a damaged build: each problem is one line.
    """
    try:
        manifest = Manifest.read(path / MANIFEST)
    except IndexError_ as exc:
        return [str(exc)]
    files = manifest.files
    problems = size_problems(path, files)
    broken = {line.split(" ", 1)[0] for line in problems}
    changed = hash_problems(path, files)
    store = path / STORE
    # What is wrong inside the store: these explain a changed store.sqlite, so its bare
    # "does not match" line is left out when they find something.
    inside: list[str] = []
    if store.is_file() and STORE not in broken:
        if line := quick_check(store):
            inside.append(line)
        hashes = path / ARTICLE_HASHES
        if hashes.is_file() and ARTICLE_HASHES not in broken | set(changed):
            try:
                inside += text_problems(store, mapped(hashes))
            except (OSError, ValueError) as exc:
                inside.append(f"{ARTICLE_HASHES} is unreadable ({type(exc).__name__})")
    problems += [line for name, line in changed.items() if not (name == STORE and inside)]
    problems += inside
    if problems:
        return problems
    try:
        reader = IndexReader(path)
    except IndexError_ as exc:
        return [str(exc)]
    try:
        return reader.verify()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        return [f"{STORE} cannot be read through: {type(exc).__name__}: {exc}"]
    finally:
        reader.close()
