"""The SQLite half of a build: articles, chunks (as offsets), sentences with their terms,
and wire-copy groups."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.records import Article, Chunk, Span

SCHEMA = """
CREATE TABLE articles (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    url TEXT,
    published TEXT,
    source TEXT,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE TABLE chunks (
    rowid INTEGER PRIMARY KEY,          -- the chunk's FAISS id
    id TEXT NOT NULL UNIQUE,
    article_rowid INTEGER NOT NULL REFERENCES articles(rowid),
    n INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX chunks_article ON chunks(article_rowid);
CREATE TABLE sentences (
    rowid INTEGER PRIMARY KEY,          -- the sentence's row in sentences.npy
    article_rowid INTEGER NOT NULL REFERENCES articles(rowid),
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    terms TEXT NOT NULL                 -- stemmed content terms, space-separated
);
CREATE INDEX sentences_article ON sentences(article_rowid, start);
CREATE TABLE copies (                   -- wire copies: articles of one story
    article_rowid INTEGER PRIMARY KEY,
    group_rowid INTEGER NOT NULL        -- the member with the lowest row id
);
"""


@dataclass(frozen=True)
class StoredChunk:
    """A chunk row joined with what answering needs of its article."""

    rowid: int
    chunk: Chunk
    article_rowid: int
    title: str


@dataclass(frozen=True)
class StoredSentence:
    """A sentence row: its vector row and offsets."""

    rowid: int
    article_rowid: int
    span: Span


def connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    """Open a store; a read-only connection may be closed from another thread."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


class StoreWriter:
    """Writes a new store file; rows are numbered in insertion order from 0."""

    def __init__(self, path: Path) -> None:
        self.conn = connect(path)
        self.conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        self.articles = self.chunks = self.sentences = 0

    def add_article(self, article: Article) -> int:
        """Insert an article; returns its row id."""
        rowid = self.articles
        self.conn.execute(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?)",
            (rowid, article.id, article.title, article.url, article.published,
             article.source, article.text, article.content_hash),
        )
        self.articles += 1
        return rowid

    def add_copies(self, groups: dict[int, int]) -> None:
        """Record which articles are copies of one story (article rowid -> group rowid)."""
        self.conn.executemany("INSERT INTO copies VALUES (?,?)", sorted(groups.items()))

    def add_chunks(self, article_rowid: int, chunks: Sequence[Chunk]) -> None:
        """Insert an article's chunks."""
        for chunk in chunks:
            rowid = self.chunks
            self.conn.execute(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?)",
                (rowid, chunk.id, article_rowid, chunk.n, chunk.start, chunk.end),
            )
            self.chunks += 1

    def add_sentences(self, article_rowid: int,
                      sentences: Iterable[tuple[Span, list[str]]]) -> None:
        """Insert an article's sentences with their stemmed terms."""
        for span, terms in sentences:
            self.conn.execute(
                "INSERT INTO sentences VALUES (?,?,?,?,?)",
                (self.sentences, article_rowid, span.start, span.end, " ".join(terms)),
            )
            self.sentences += 1

    def finish(self) -> None:
        """Commit and close the file durably."""
        self.conn.commit()
        self.conn.close()


class StoreReader:
    """Read-only queries the answering side needs.

    Each thread gets its own connection: SQLite serialises the calls on one connection,
    so with a shared one a slow query made every other request wait behind it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._closed = False
        self.conn  # noqa: B018 -- open one now, so a missing or broken file fails here

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's read-only connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self._guard:
                if self._closed:
                    raise sqlite3.ProgrammingError("the store is closed")
                conn = connect(self.path, readonly=True)
                conn.execute("PRAGMA query_only=ON")
                self._all.append(conn)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close every thread's connection; the file may be deleted afterwards."""
        with self._guard:
            self._closed = True
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables."""
        return {
            table: self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("articles", "chunks", "sentences")
        }

    def article(self, article_id: str) -> Article | None:
        """The article with this id, or None."""
        row = self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return _article(row) if row else None

    def article_by_rowid(self, rowid: int) -> Article:
        """The article stored at this row."""
        row = self.conn.execute("SELECT * FROM articles WHERE rowid = ?", (rowid,)).fetchone()
        return _article(row)

    def article_text(self, rowid: int) -> str:
        """The text of the article stored at this row."""
        row = self.conn.execute("SELECT text FROM articles WHERE rowid = ?", (rowid,)).fetchone()
        return row[0]

    def article_texts(self, rowids: Iterable[int]) -> dict[int, str]:
        """The texts of the articles at these rows, by row id: one query."""
        wanted = list(rowids)
        marks = ",".join("?" * len(wanted))
        return dict(self.conn.execute(
            f"SELECT rowid, text FROM articles WHERE rowid IN ({marks})", wanted).fetchall())

    def article_keys(self) -> dict[str, tuple[int, str]]:
        """Every article id with its row id and content hash (no text read)."""
        return {r[0]: (r[1], r[2]) for r in self.conn.execute(
            "SELECT id, rowid, content_hash FROM articles")}

    def article_catalog(self) -> list[tuple[int, str, str, str | None, str | None]]:
        """(rowid, id, title, published, source) of every article (no text read)."""
        return [tuple(r) for r in self.conn.execute(
            "SELECT rowid, id, title, published, source FROM articles")]

    def copy_groups(self) -> list[tuple[int, int]]:
        """(article rowid, group rowid) of every article that has wire copies (none in
        builds made before copies were detected)."""
        try:
            return [tuple(r) for r in self.conn.execute("SELECT * FROM copies")]
        except sqlite3.OperationalError:
            return []

    def article_refs(self, rowids: Sequence[int]) -> list[dict]:
        """id, url, source and published of these articles (no text read), in row order."""
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        rows = self.conn.execute(
            f"SELECT id, url, source, published FROM articles WHERE rowid IN ({marks}) "
            "ORDER BY rowid", [int(r) for r in rowids]).fetchall()
        return [{"id": r[0], "url": r[1], "source": r[2], "published": r[3]} for r in rows]

    def chunk_texts(self) -> Iterator[tuple[str, str]]:
        """(article title, chunk text) of every chunk, in row order."""
        return ((r[0], r[1]) for r in self.conn.execute(
            """SELECT a.title, substr(a.text, c.start + 1, c.end - c.start)
               FROM chunks c JOIN articles a ON a.rowid = c.article_rowid ORDER BY c.rowid"""))

    def chunk_places(self) -> list[tuple[int, int, int, int, int]]:
        """(chunk rowid, article rowid, n, start, end) of every chunk."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        return cursor.execute("SELECT rowid, article_rowid, n, start, end FROM chunks").fetchall()

    def article_rowids(self, article_ids: Sequence[str]) -> list[int]:
        """The row ids of those of these article ids that exist."""
        if not article_ids:
            return []
        marks = ",".join("?" * len(article_ids))
        return [r[0] for r in self.conn.execute(
            f"SELECT rowid FROM articles WHERE id IN ({marks})", list(article_ids))]

    def source_summary(self) -> list[dict]:
        """Each source (None: articles without one) with its article count and first and
        last publication dates."""
        rows = self.conn.execute(
            """SELECT source, count(*), min(published), max(published) FROM articles
               GROUP BY source ORDER BY count(*) DESC, source""").fetchall()
        return [{"source": r[0], "articles": r[1], "first_published": r[2],
                 "last_published": r[3]} for r in rows]

    def articles(self) -> list[tuple[int, Article]]:
        """Every article with its row id, in row order."""
        rows = self.conn.execute("SELECT * FROM articles ORDER BY rowid").fetchall()
        return [(row["rowid"], _article(row)) for row in rows]

    def chunk_rows_of(self, article_rowid: int) -> list[tuple[int, int, int]]:
        """(rowid, start, end) of an article's chunks, in order."""
        return [tuple(r) for r in self.conn.execute(
            "SELECT rowid, start, end FROM chunks WHERE article_rowid = ? ORDER BY n",
            (article_rowid,),
        )]

    def sentence_rows(self) -> Iterator[tuple[int, int, int, int, str]]:
        """(rowid, article_rowid, start, end, terms) of every sentence, in row order, one
        row at a time."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        yield from cursor.execute(
            "SELECT rowid, article_rowid, start, end, terms FROM sentences ORDER BY rowid")

    def sentences_of(self, article_rowid: int) -> list[StoredSentence]:
        """Every sentence of an article, in text order."""
        return [StoredSentence(r[0], r[1], Span(r[2], r[3])) for r in self.conn.execute(
            "SELECT rowid, article_rowid, start, end FROM sentences WHERE article_rowid = ? "
            "ORDER BY start", (article_rowid,))]

    def sentence_rows_of(self, article_rowid: int) -> list[int]:
        """Row ids of an article's sentences, in order."""
        return [r[0] for r in self.conn.execute(
            "SELECT rowid FROM sentences WHERE article_rowid = ? ORDER BY start", (article_rowid,)
        )]


def _article(row: sqlite3.Row) -> Article:
    return Article(
        id=row["id"], title=row["title"], text=row["text"], url=row["url"],
        published=row["published"], source=row["source"], content_hash=row["content_hash"],
    )
