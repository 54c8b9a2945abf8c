"""Open a published build for reading, after checking that its parts agree."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from index.arrays import mapped
from index.catalog import Catalog
from index.embedder import Embedder
from index.integrity import ARTICLE_HASHES, size_problems, text_digest
from index.layout import (
    CHUNK_VECTORS,
    LEXICAL,
    MANIFEST,
    SENTENCE_VECTORS,
    STORE,
    VECTORS,
    IndexDir,
)
from index.lexical import LexicalIndex
from index.manifest import FORMAT_VERSION, IndexCorrupt, IndexError_, IndexMismatch, Manifest
from index.reading import Readings, names_and_numbers, read_sentence
from index.records import Chunk
from index.sentence_table import PLACES as SENTENCE_PLACES
from index.sentence_table import SentenceTable
from index.store import StoredChunk, StoredSentence, StoreReader
from index.vector_index import VectorIndexSpec, apply


@dataclass
class Expectation:
    """What the running embedder needs of an index (None: accept any)."""

    model: str | None = None
    dimension: int | None = None
    backend: str | None = None

    @classmethod
    def of(cls, embedder: Embedder) -> Expectation:
        """What this embedder needs."""
        return cls(embedder.name, embedder.dimension, embedder.backend)


class IndexReader:
    """A published build: FAISS vectors, sentence vectors and the SQLite store."""

    def __init__(self, path: Path, expect: Expectation | None = None) -> None:
        """Open and check a build; raises IndexCorrupt (in one line) or IndexMismatch, and
        nothing else, whatever is wrong with its files."""
        self.path = Path(path)
        self.store = None
        try:
            self._open(expect or Expectation())
        except IndexError_:
            self.close()
            raise
        except (sqlite3.DatabaseError, UnicodeDecodeError, OSError, ValueError, KeyError,
                TypeError, RuntimeError) as exc:
            # A damaged file can fail in any library that reads it; each is the same fact.
            self.close()
            detail = str(exc).splitlines()[0] if str(exc) else ""
            if isinstance(exc, OSError) and exc.strerror:  # its file's name, not its path
                detail = exc.strerror + (f" ({Path(exc.filename).name})" if exc.filename
                                         else "")
            raise IndexCorrupt(f"build {self.path.name} does not open: "
                               f"{type(exc).__name__}{': ' + detail if detail else ''}"
                               ) from exc

    def _open(self, expect: Expectation) -> None:
        self.manifest = Manifest.read(self.path / MANIFEST)
        _check_manifest(self.manifest, expect)
        # A stat per file: a truncated file is refused here, before it is memory-mapped
        # (reading past the end of a mapping kills the process with SIGBUS).
        wrong = size_problems(self.path, self.manifest.files)
        if wrong:
            raise IndexCorrupt(f"build {self.path.name} is damaged: " + "; ".join(wrong))
        hashes = self.path / ARTICLE_HASHES
        # One digest per article row (None in builds from before they were recorded).
        self.article_hashes = mapped(hashes) if hashes.exists() else None
        try:
            self.vectors = faiss.read_index(str(self.path / VECTORS))
            self.vector_index = VectorIndexSpec(**self.manifest.vector_index)
            apply(self.vectors, self.vector_index)
            # Memory-mapped: only the rows a query touches are read.
            self.chunk_vectors = mapped(self.path / CHUNK_VECTORS)
            self.sentence_vectors = mapped(self.path / SENTENCE_VECTORS)
        except (RuntimeError, OSError, ValueError) as exc:
            raise IndexCorrupt(f"build {self.path.name} has unreadable vectors "
                               f"({type(exc).__name__})") from exc
        if not (self.path / STORE).is_file():
            raise IndexCorrupt(f"build {self.path.name} has no {STORE}")
        self.store = StoreReader(self.path / STORE)
        self.lexical = self._lexical()
        self._check_counts()
        self.catalog = Catalog.load(self.store)
        # False for a build from before these files: its table is derived on each open.
        self.sentence_table_written = (self.path / SENTENCE_PLACES).exists()
        try:
            self.sentence_table = SentenceTable.load(self.path, self.store,
                                                     self.lexical.vocabulary)
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"build {self.path.name} has an unreadable sentence table "
                               f"({exc})") from exc
        if len(self.sentence_table.places) != self.manifest.sentences:
            raise IndexCorrupt(f"build {self.path.name} has a sentence table of "
                               f"{len(self.sentence_table.places)} sentences, "
                               f"{self.manifest.sentences} in manifest")
        self.readings = self._readings()

    def _readings(self) -> Readings | None:
        """The stored readings of sentences and chunks (None for a build from before
        them: answering then reads each text as it meets it)."""
        try:
            readings = Readings.load(self.path)
        except (OSError, ValueError) as exc:
            raise IndexCorrupt(f"build {self.path.name} has unreadable readings "
                               f"({type(exc).__name__})") from exc
        m = self.manifest
        if readings and (len(readings.sentences), len(readings.chunks)) != \
                (m.sentences, m.chunks):
            raise IndexCorrupt(f"build {self.path.name} has readings of "
                               f"{len(readings.sentences)} sentences and "
                               f"{len(readings.chunks)} chunks, {m.sentences} and "
                               f"{m.chunks} in manifest")
        return readings

    def _lexical(self) -> LexicalIndex:
        path = self.path / LEXICAL
        if not path.exists():
            # A build written before the lexical index was stored: derive it from the
            # stored chunks (the same function the builder uses, so the same index).
            try:
                return LexicalIndex.build(self.store.chunk_texts())
            except sqlite3.Error as exc:
                raise IndexCorrupt(f"build {self.path.name} has an unreadable store: "
                                   f"{exc}") from exc
        try:
            return LexicalIndex.load(path)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorrupt(f"build {self.path.name} has an unreadable lexical index "
                               f"({type(exc).__name__})") from exc

    def filtered_search(self, vector: np.ndarray, n: int, bits: np.ndarray) -> list[int]:
        """Row ids of the ``n`` nearest chunks among those marked in ``bits`` (a chunk
        mask packed little-endian, as ``np.packbits(mask, bitorder="little")``), the
        restriction applied inside the FAISS search."""
        selector = faiss.IDSelectorBitmap(len(bits) * 8, faiss.swig_ptr(bits))
        if self.vector_index.exact:
            params = faiss.SearchParameters(sel=selector)
        else:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self.vector_index.nprobe)
        _, ids = self.vectors.search(vector.reshape(1, -1).astype(np.float32), n,
                                     params=params)
        return sorted(int(i) for i in ids[0] if i >= 0)

    def chunks(self, rowids: Sequence[int]) -> dict[int, StoredChunk]:
        """The chunks at these FAISS ids, with their text cut from the article (each
        article's text read once; the rest is in the catalog)."""
        catalog, rows = self.catalog, list(rowids)
        articles = catalog.chunk_article[rows].tolist()
        texts = self.store.article_texts(set(articles))
        out = {}
        for row, article, (n, start, end) in zip(rows, articles,
                                                 catalog.chunk_place[rows].tolist(),
                                                 strict=True):
            ident = catalog.article_id[article]
            # Chunk ids are "<article id>#<n>", as the chunker has always named them.
            out[row] = StoredChunk(row, Chunk(f"{ident}#{n}", ident, n, start, end,
                                              texts[article][start:end]),
                                   article, catalog.article_title[article])
        return out

    def sentences_in(self, article_rowid: int, start: int, end: int) -> list[StoredSentence]:
        """The sentences of an article that overlap ``[start, end)``, in order."""
        return self.sentences_in_many([(article_rowid, start, end)])[0]

    def sentences_in_many(self, ranges: list[tuple[int, int, int]]
                          ) -> list[list[StoredSentence]]:
        """The sentences overlapping each ``(article_rowid, start, end)``, in order."""
        table = self.sentence_table
        lo, hi = table.overlapping(ranges)
        return [table.sentences(range(i, j)) for i, j in zip(lo.tolist(), hi.tolist(),
                                                              strict=True)]

    @property
    def version(self) -> str:
        """The build id, which names this index version."""
        return self.manifest.build_id

    def _check_counts(self) -> None:
        m = self.manifest
        try:
            counts = self.store.counts()
        except sqlite3.Error as exc:
            raise IndexCorrupt(f"build {self.path.name} has an unreadable store: {exc}") from exc
        problems = []
        if self.article_hashes is not None and len(self.article_hashes) != m.articles:
            problems.append(f"{len(self.article_hashes)} article hashes, {m.articles} in "
                            "manifest")
        if counts["articles"] != m.articles:
            problems.append(f"{counts['articles']} articles in SQLite, {m.articles} in manifest")
        if not (counts["chunks"] == self.lexical.size == self.vectors.ntotal
                == len(self.chunk_vectors) == m.chunks):
            problems.append(
                f"chunks: {counts['chunks']} in SQLite, {self.lexical.size} in the lexical "
                f"index, "
                f"{self.vectors.ntotal} in FAISS, {len(self.chunk_vectors)} vectors, "
                f"{m.chunks} in manifest"
            )
        if not (counts["sentences"] == len(self.sentence_vectors) == m.sentences):
            problems.append(
                f"sentences: {counts['sentences']} in SQLite, {len(self.sentence_vectors)} "
                f"vectors, {m.sentences} in manifest"
            )
        if self.vectors.d != m.dimension:
            problems.append(f"FAISS dimension {self.vectors.d}, manifest {m.dimension}")
        if problems:
            raise IndexCorrupt(f"build {self.path.name} is inconsistent: " + "; ".join(problems))

    def verify(self) -> list[str]:
        """Deep checks beyond opening: every offset lies inside its article's text, the
        sentence table's files say what the store says, and the stored readings are
        what reading each sentence and chunk gives (about 5 s per 100,000 sentences).

        Returns the problems found (empty when the build is sound).
        """
        problems = []
        readings = _ReadingCheck(self.readings)
        for rowid, article in self.store.articles():
            length = len(article.text)
            for chunk_rowid, start, end in self.store.chunk_rows_of(rowid):
                if not 0 <= start < end <= length:
                    problems.append(f"chunk {chunk_rowid} of {article.id} has offsets "
                                    f"{start}..{end} outside 0..{length}")
                else:
                    readings.chunk(chunk_rowid, article.text[start:end])
            for sentence in self.store.sentences_of(rowid):
                if not 0 <= sentence.span.start < sentence.span.end <= length:
                    problems.append(f"sentence {sentence.rowid} of {article.id} is out of range")
                else:
                    readings.sentence(sentence.rowid,
                                      article.text[sentence.span.start:sentence.span.end])
        problems += readings.problems()
        try:
            derived = SentenceTable.derive(self.store, self.lexical.vocabulary)
        except ValueError as exc:
            return [*problems, f"the store's sentences do not make a table: {exc}"]
        return problems + self.sentence_table.differences(derived)

    def text_intact(self, rowid: int, text: str) -> bool:
        """True when an article's text, as read, is the text the build recorded (always
        true for a build from before the digests were recorded)."""
        if self.article_hashes is None:
            return True
        if not 0 <= rowid < len(self.article_hashes):
            return False
        return text_digest(text) == self.article_hashes[rowid].tobytes()

    def close(self) -> None:
        """Release the store's connections and the vectors (the memory map included),
        so a deleted build's files are not held open."""
        if self.store is not None:
            self.store.close()
        self.article_hashes = None
        self.sentence_table = None
        self.readings = None
        self.vectors = None
        self.chunk_vectors = None
        self.sentence_vectors = None


class _ReadingCheck:
    """Counts the stored readings that differ from reading their text again."""

    def __init__(self, readings: Readings | None) -> None:
        self.readings = readings
        self.sentences = self.chunks = 0

    def sentence(self, row: int, text: str) -> None:
        if self.readings and self.readings.sentence(row) != read_sentence(text):
            self.sentences += 1

    def chunk(self, row: int, text: str) -> None:
        if self.readings and self.readings.chunk_names(row) != names_and_numbers(text):
            self.chunks += 1

    def problems(self) -> list[str]:
        return ([f"{self.sentences} sentence readings differ from their text's"]
                if self.sentences else []) + \
            ([f"{self.chunks} chunk readings differ from their text's"] if self.chunks else [])


def _check_manifest(m: Manifest, expect: Expectation) -> None:
    if m.format_version != FORMAT_VERSION:
        raise IndexMismatch(
            f"index format {m.format_version}, this program reads {FORMAT_VERSION}; rebuild it"
        )
    if expect.model is not None and m.model != expect.model:
        raise IndexMismatch(
            f"the index was built with model {m.model!r} but {expect.model!r} is configured; "
            "rebuild it with 'qa index build --full' or configure the same model"
        )
    if expect.backend is not None and m.recipe.embedder_backend != expect.backend:
        raise IndexMismatch(
            f"the index holds vectors of the {m.recipe.embedder_backend!r} backend but "
            f"{expect.backend!r} is configured; rebuild it with 'qa index build --full' "
            "or configure the same backend")
    if expect.dimension is not None and m.dimension != expect.dimension:
        raise IndexMismatch(f"index dimension {m.dimension}, embedder gives {expect.dimension}")


def open_published(root: Path, expect: Expectation | None = None) -> IndexReader:
    """Open the build that CURRENT names in an index directory."""
    return IndexReader(IndexDir(root).current_path(), expect)
