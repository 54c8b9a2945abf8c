"""Build a new index from article files and publish it atomically.

Incremental by default: an article whose id and content hash are unchanged keeps the
vectors of the published build; only new and changed articles are embedded.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from index import space
from index.chunking import (
    CHUNK_TEMPLATE,
    SENTENCE_SPLITTER,
    Chunker,
    ChunkerConfig,
    split_sentences,
)
from index.copies import THRESHOLD as WIRE_THRESHOLD
from index.copies import copy_groups
from index.embedder import POOLING_BACKENDS, Embedder
from index.integrity import (
    ARTICLE_HASHES,
    hash_problems,
    record_files,
    seal,
    size_problems,
    text_digest,
)
from index.layout import (
    CHUNK_VECTORS,
    LEXICAL,
    MANIFEST,
    SENTENCE_VECTORS,
    STORE,
    VECTORS,
    IndexDir,
)
from index.lexical import LexicalBuilder
from index.manifest import IndexError_, IndexMismatch, Manifest, Recipe
from index.pooling import POOLED, STANDALONE, Slot, embed_one_pass, place_sentences
from index.reader import IndexReader
from index.readers import MAX_ARTICLE_CHARS, FileReader, UnreadableFile, discover, read_here
from index.reading import CHUNK_NAMES, SENTENCE_READINGS, encode, encode_names, read_sentence
from index.records import Article
from index.sentence_table import SentenceTableWriter
from index.store import StoreWriter
from index.terms import terms
from index.text_table import TextTableWriter
from index.vector_index import VectorIndexSpec, choose
from index.vector_index import build as build_vector_index


class BuildFailed(Exception):
    """The build could not produce an index; the published one is untouched."""


class Progress(Protocol):
    """Receives progress of the embedding step."""

    def locked(self) -> None:
        """Called once the build holds the index directory's lock."""

    def start(self, total: int) -> None:
        """Called once with the number of texts to embed."""

    def advance(self, n: int) -> None:
        """Called after each batch of ``n`` texts."""


@dataclass
class BuildReport:
    """What a build did."""

    build_id: str | None
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    embedded_texts: int = 0
    reused_texts: int = 0
    repeated_texts: int = 0  # texts identical to one embedded in this build: not re-embedded
    pooled_texts: int = 0  # sentences whose vectors came from their chunk's pass
    copies: int = 0  # articles that fold into another one's story (group members - groups)
    copy_groups: int = 0  # the stories they are copies of
    pruned: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""  # why an incremental build ran as a full one, if it did
    embed_seconds: float = 0.0

    def absorb(self, step: BuildReport) -> None:
        """Add one step's work to this report of a stepped build (the counts of articles
        stay those of the whole build)."""
        self.build_id = step.build_id or self.build_id
        self.embedded_texts += step.embedded_texts
        self.repeated_texts += step.repeated_texts
        self.pooled_texts += step.pooled_texts
        self.embed_seconds += step.embed_seconds
        self.copies, self.copy_groups = step.copies, step.copy_groups
        self.pruned += step.pruned

    @property
    def texts_per_second(self) -> float:
        """The embedding rate of this build (0 when nothing was embedded)."""
        return self.embedded_texts / self.embed_seconds if self.embed_seconds else 0.0

    @property
    def published(self) -> bool:
        """True when a new build was published."""
        return self.build_id is not None

    def summary(self) -> str:
        """One line for people."""
        counts = (f"added {self.added}, updated {self.updated}, removed {self.removed}, "
                  f"unchanged {self.unchanged}")
        if not self.published:
            return f"index unchanged ({counts}); no model work done"
        note = f" ({self.note})" if self.note else ""
        return (f"published {self.build_id}: {counts}; embedded {self.embedded_texts} texts "
                f"({self.texts_per_second:.0f} texts/s), pooled {self.pooled_texts} sentences "
                f"from their chunks, shared {self.repeated_texts} repeats, "
                f"reused {self.reused_texts}; {self.copies} wire copies of "
                f"{self.copy_groups} stories; "
                f"skipped {len(self.skipped)} files or items in {self.seconds:.1f}s{note}")


def _classify(articles: Sequence[Article], old: dict[str, tuple[int, str]]) -> BuildReport:
    """A report counting what is added, updated, removed and unchanged against ``old``."""
    ids = {a.id for a in articles}
    report = BuildReport(build_id=None)
    report.removed = sum(1 for article_id in old if article_id not in ids)
    for article in articles:
        if article.id not in old:
            report.added += 1
        elif old[article.id][1] != article.content_hash:
            report.updated += 1
        else:
            report.unchanged += 1
    return report


def _steps(articles: list[Article], old: dict[str, tuple[int, str]],
           every: int | None) -> list[list[Article]]:
    """The article sets of successive builds: what the published build already has
    (updated or not) plus ``every`` more new articles each time, the last one all."""
    new = [a for a in articles if a.id not in old]
    if not every or len(new) <= every:
        return [articles]
    known = [a for a in articles if a.id in old]
    steps = [sorted(known + new[:end], key=lambda a: a.id)
             for end in range(every, len(new), every)]
    return [*steps, articles]


@dataclass
class _Previous:
    """The published build an incremental build reuses vectors from."""

    reader: IndexReader
    rows: dict[str, tuple[int, str]]  # article id -> (article rowid, content hash)


def read_sources(sources: Sequence[Path], max_article_chars: int | None = MAX_ARTICLE_CHARS,
                 reader: FileReader = read_here,
                 ) -> tuple[list[Article], list[tuple[str, str]]]:
    """Read every article under the sources; unreadable files and bad items (a line, a
    list item, an article over ``max_article_chars``) are reported, not fatal.
    ``reader`` reads the files (here, or on a cluster)."""
    articles: dict[str, Article] = {}
    skipped: list[tuple[str, str]] = []
    found = discover(sources)
    for source, read in zip(found, reader(found, max_article_chars), strict=True):
        if isinstance(read, UnreadableFile):
            skipped.append((str(read.path), read.reason))
            continue
        skipped += read.report(source.path)
        for article in read.articles:
            if article.id in articles:
                skipped.append((str(source.path), f"duplicate article id {article.id!r}"))
            else:
                articles[article.id] = article
    return sorted(articles.values(), key=lambda a: a.id), skipped


class Builder:
    """Turns sources into a published build in one index directory."""

    def __init__(
        self,
        index_dir: Path,
        embedder_factory: Callable[[], Embedder],
        model_name: str,
        backend: str,
        chunker: ChunkerConfig | None = None,
        keep_builds: int = 3,
        vector_index: str = "auto",
        wire_threshold: float = WIRE_THRESHOLD,
        sentence_vectors: str = POOLED,
    ) -> None:
        """``embedder_factory`` is called only when something must be embedded;
        ``model_name`` and ``backend`` are what its vectors will be recorded as;
        ``vector_index`` is ``auto`` (exact below a size, IVF above), ``flat`` or ``ivf``;
        ``wire_threshold`` is the similarity at which pages are copies of one story
        (1.0: never); ``sentence_vectors`` is ``pooled-1`` (from the chunk pass, for
        embedders that expose token states) or ``standalone`` (a pass of their own)."""
        self.dir = IndexDir(index_dir)
        self._embedder_factory = embedder_factory
        self._embedder: Embedder | None = None
        self.chunker_config = chunker or ChunkerConfig()
        self.chunker = Chunker(self.chunker_config)
        self.keep_builds = keep_builds
        self.vector_index = vector_index
        self.wire_threshold = wire_threshold
        choose(0, vector_index)  # an unknown kind fails here, before any work
        if sentence_vectors not in (POOLED, STANDALONE):
            raise ValueError(f"unknown sentence vectors {sentence_vectors!r}; "
                             f"one of {POOLED}, {STANDALONE}")
        # An embedder without token states (torch) embeds sentences on their own.
        self.pooled = sentence_vectors == POOLED and backend in POOLING_BACKENDS
        self.recipe = Recipe(
            model=model_name, embedder_backend=backend,
            chunk_size=self.chunker_config.chunk_size,
            chunk_overlap=self.chunker_config.chunk_overlap, chunk_template=CHUNK_TEMPLATE,
            sentence_splitter=SENTENCE_SPLITTER,
            sentence_vectors=POOLED if self.pooled else STANDALONE)

    @classmethod
    def with_embedder(cls, index_dir: Path, embedder: Embedder,
                      chunker: ChunkerConfig | None = None, keep_builds: int = 3,
                      vector_index: str = "auto",
                      wire_threshold: float = WIRE_THRESHOLD,
                      sentence_vectors: str = POOLED) -> Builder:
        """A builder for an embedder that is already loaded."""
        if not embedder.pools_tokens:
            sentence_vectors = STANDALONE
        return cls(index_dir, lambda: embedder, embedder.name, embedder.backend, chunker,
                   keep_builds, vector_index, wire_threshold, sentence_vectors)

    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded on first use so unchanged rebuilds never load a model."""
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def build(self, sources: Sequence[Path], full: bool = False,
              progress: Progress | None = None,
              publish_every: int | None = None) -> BuildReport:
        """Read, chunk, embed, write and publish. Raises BuildFailed or BuildLocked."""
        began = time.perf_counter()
        try:
            articles, skipped = read_sources(sources)
        except FileNotFoundError as exc:
            raise BuildFailed(str(exc)) from exc
        return self.build_articles(articles, skipped, full, progress, began, publish_every)

    def build_articles(self, articles: Sequence[Article], skipped: list[tuple[str, str]],
                       full: bool = False, progress: Progress | None = None,
                       began: float | None = None,
                       publish_every: int | None = None) -> BuildReport:
        """Build from articles already read (files and web pages alike); ``skipped``
        (what could not be read, and why) goes into the report.

        With ``publish_every`` N, new articles are added N at a time, each step a
        published build that the next one reuses: a large archive becomes searchable as
        it grows, and a build stopped midway keeps every finished step.
        """
        began = time.perf_counter() if began is None else began
        articles = sorted(articles, key=lambda a: a.id)
        if not articles:
            raise BuildFailed("no readable articles in the sources")
        with self.dir.lock():
            if progress:
                progress.locked()
            self.dir.clean_debris()
            previous, note = (None, "") if full else self._previous()
            old = previous.rows if previous else {}
            total = _classify(articles, old)
            for number, subset in enumerate(_steps(articles, old, publish_every)):
                try:
                    step = self._build_locked(subset, previous, progress)
                finally:
                    if previous:
                        previous.reader.close()
                        previous = None
                total.absorb(step)
                if number == 0:  # reuse counts vectors of the build published before
                    total.reused_texts = step.reused_texts
                if len(subset) < len(articles):  # the next step reuses this one
                    previous, _ = self._previous()
        total.note = note
        total.skipped = skipped
        total.seconds = time.perf_counter() - began
        return total

    def _previous(self) -> tuple[_Previous | None, str]:
        """The published build to reuse vectors from, or None and why a full build runs."""
        if not self.dir.has_published():
            return None, ""
        try:
            reader = IndexReader(self.dir.current_path())
        except IndexMismatch as exc:
            return None, f"full build: the published build is of another format ({exc})"
        except IndexError_ as exc:
            return None, f"full build: the published build does not open ({exc})"
        # Vectors are reused from it as they are: a build whose files are not what was
        # recorded is not trusted for that (reading every file costs about a second a GB).
        damaged = [*size_problems(reader.path, reader.manifest.files),
                   *hash_problems(reader.path, reader.manifest.files).values()]
        if damaged:
            reader.close()
            return None, f"full build: the published build is damaged ({damaged[0]})"
        changed = reader.manifest.recipe.differences(self.recipe)
        if changed:
            reader.close()
            return None, f"full build: the recipe changed ({', '.join(changed)})"
        return _Previous(reader, reader.store.article_keys()), ""

    def _build_locked(self, articles: list[Article], previous: _Previous | None,
                      progress: Progress | None) -> BuildReport:
        old = previous.rows if previous else {}
        report = _classify(articles, old)
        if (previous and report.unchanged == len(articles) and not report.removed
                and previous.reader.sentence_table_written and previous.reader.readings):
            return report  # nothing changed: keep the published build, load no model
        # (A build from before the sentence table or reading files gets a successor that
        # has them: every vector is reused, nothing is embedded.)

        dimension = (previous.reader.manifest.dimension if previous else
                     self._embedder.dimension if self._embedder else _GUESSED_DIMENSION)
        needed = space.estimate(sum(len(a.text) + len(a.title) for a in articles), dimension)
        space.check(self.dir.builds if self.dir.builds.is_dir() else self.dir.root, needed)
        build_id, tmp = self.dir.new_build_dir()
        stage = _Stage(tmp)
        try:
            return self._write(build_id, tmp, stage, articles, previous, old, report,
                               progress)
        except (OSError, sqlite3.OperationalError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if space.is_disk_full(exc):
                raise space.DiskFull(stage.writing, needed,
                                     space.free_bytes(self.dir.root)) from exc
            if isinstance(exc, sqlite3.OperationalError):
                raise
            why = exc.strerror.lower() if exc.strerror else str(exc) or type(exc).__name__
            raise BuildFailed(f"{why} while writing {stage.writing}") from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _write(self, build_id: str, tmp: Path, stage: _Stage, articles: list[Article],
               previous: _Previous | None, old: dict[str, tuple[int, str]],
               report: BuildReport, progress: Progress | None) -> BuildReport:
        """Write a build into ``tmp`` and publish it (the caller removes ``tmp`` if this
        raises)."""
        plan = _Plan()
        stage.at(STORE)
        writer = StoreWriter(tmp / STORE)
        lexical = LexicalBuilder()
        sentence_table = SentenceTableWriter(lexical.vocabulary)
        sentence_readings, chunk_names = TextTableWriter(), TextTableWriter()
        for article in articles:
            rowid = writer.add_article(article)
            chunks = self.chunker.chunk(article)
            writer.add_chunks(rowid, chunks)
            for chunk in chunks:
                lexical.add(article.title, chunk.text)
            spans = split_sentences(article.text)
            words = [terms(article.text[s.start : s.end]) for s in spans]
            writer.add_sentences(rowid, zip(spans, words, strict=True))
            for span, sentence in zip(spans, words, strict=True):
                sentence_table.add(rowid, span.start, span.end, sentence)
            kept = old.get(article.id)
            reused = None  # its rows in the previous build, when its vectors are reused
            if previous is not None and kept is not None and kept[1] == article.content_hash:
                reused = plan.reuse(previous.reader, kept[0], len(chunks), len(spans))
            # An unchanged article's readings are copied, as its vectors are.
            readings = previous.reader.readings if previous is not None and reused else None
            if readings is not None:
                chunk_names.extend(map(readings.chunks.__getitem__, reused[0]))
                sentence_readings.extend(map(readings.sentences.__getitem__, reused[1]))
            else:
                chunk_names.extend(encode_names(c.text) for c in chunks)
                sentence_readings.extend(encode(read_sentence(article.text[s.start : s.end]))
                                         for s in spans)
            if not reused:
                # The template puts the title and a newline before the chunk's text.
                prefix = len(CHUNK_TEMPLATE.format(title=article.title, text=""))
                plan.embed([CHUNK_TEMPLATE.format(title=article.title, text=c.text)
                            for c in chunks],
                           [article.text[s.start : s.end] for s in spans],
                           place_sentences(chunks, prefix, spans) if self.pooled else None)
        chunk_vectors, sentence_vectors = plan.vectors(self, progress)
        stage.at(STORE)
        if self.wire_threshold < 1.0:
            groups = copy_groups([a.text for a in articles], self.wire_threshold)
            writer.add_copies(groups)  # row ids are the articles' positions
            stories = len(set(groups.values()))
            report.copies, report.copy_groups = len(groups) - stories, stories
        writer.finish()
        stage.at(LEXICAL)
        lexical.finish().save(tmp / LEXICAL)
        stage.at("the sentence table")
        sentence_table.save(tmp)
        stage.at("the readings")
        sentence_readings.save(tmp, SENTENCE_READINGS)
        chunk_names.save(tmp, CHUNK_NAMES)
        spec = choose(len(chunk_vectors), self.vector_index)
        stage.at("the vectors")
        _write_vectors(tmp, chunk_vectors, sentence_vectors, spec)
        stage.at(ARTICLE_HASHES)
        np.save(tmp / ARTICLE_HASHES, np.array(
            [np.frombuffer(text_digest(a.text), dtype=np.uint8) for a in articles],
            dtype=np.uint8).reshape(len(articles), -1))
        stage.at(MANIFEST)
        files = record_files(tmp, skip=(MANIFEST,))
        Manifest(
            build_id=build_id, recipe=self.recipe, dimension=chunk_vectors.shape[1],
            articles=len(articles), chunks=len(chunk_vectors), sentences=len(sentence_vectors),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            vector_index=spec.to_dict(), files=files,
        ).write(tmp / MANIFEST)
        seal(tmp)
        IndexReader(tmp).close()  # refuse to publish a build that would not open
        self.dir.publish(build_id, tmp)
        report.build_id = build_id
        report.embedded_texts, report.reused_texts = plan.embedded, plan.reused
        report.repeated_texts, report.pooled_texts = plan.repeated, plan.pooled
        report.embed_seconds = plan.embed_seconds
        report.pruned = self.dir.prune(self.keep_builds)
        return report


# The vectors' width assumed by the space estimate before any embedder is loaded (the
# widest of the usual sentence models: an estimate on the high side).
_GUESSED_DIMENSION = 768


class _Stage:
    """What a build is writing, for the line that reports a failed write."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.writing = str(tmp)

    def at(self, name: str) -> None:
        """Now writing ``name`` (a file of the build, or a part of it)."""
        self.writing = f"{name} of build {self.tmp.name.removeprefix('.tmp-')}"


class _Plan:
    """Collects, in row order, which vectors are reused and which texts need embedding."""

    def __init__(self) -> None:
        # Each entry is either an array of reused vectors or a list of texts to embed.
        self.chunk_parts: list[np.ndarray | list[str]] = []
        self.sentence_parts: list[np.ndarray | list[str]] = []
        # Where each fresh article's sentences sit in its chunks (one pass), or None.
        self.slot_parts: list[list[Slot | None] | None] = []
        self.embedded = self.reused = self.repeated = self.pooled = 0
        self.embed_seconds = 0.0

    def reuse(self, reader: IndexReader, article_rowid: int, n_chunks: int,
              n_sentences: int) -> tuple[list[int], list[int]] | None:
        """Reuse an unchanged article's vectors: its chunk and sentence rows in ``reader``;
        None when its stored layout differs (then it is embedded afresh)."""
        chunk_rows = [r[0] for r in reader.store.chunk_rows_of(article_rowid)]
        sentence_rows = reader.store.sentence_rows_of(article_rowid)
        if len(chunk_rows) != n_chunks or len(sentence_rows) != n_sentences:
            return None
        self.chunk_parts.append(np.asarray(reader.chunk_vectors[chunk_rows]) if chunk_rows
                                else [])
        self.sentence_parts.append(np.asarray(reader.sentence_vectors[sentence_rows]))
        self.reused += n_chunks + n_sentences
        return chunk_rows, sentence_rows

    def embed(self, chunk_texts: list[str], sentence_texts: list[str],
              slots: list[Slot | None] | None = None) -> None:
        """Queue one article's texts; with ``slots``, its sentence vectors are pooled from
        its chunks' pass."""
        self.chunk_parts.append(chunk_texts)
        self.sentence_parts.append(sentence_texts)
        self.slot_parts.append(slots)

    def vectors(self, builder: Builder, progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
        """Embed every pending text, then assemble both matrices in row order."""
        chunk_fresh = [p for p in self.chunk_parts if isinstance(p, list)]
        sentence_fresh = [p for p in self.sentence_parts if isinstance(p, list)]
        if not any(chunk_fresh) and not any(sentence_fresh):
            dimension = next(p.shape[1] for p in self.chunk_parts if isinstance(p, np.ndarray))
            empty = np.zeros((0, dimension), dtype=np.float32)
            return self._assemble(self.chunk_parts, empty), \
                self._assemble(self.sentence_parts, empty)
        embedder = builder.embedder
        began = time.perf_counter()
        if builder.pooled:
            chunks, sentences = self._one_pass(embedder, chunk_fresh, sentence_fresh, progress)
        else:
            chunks, sentences = self._two_passes(embedder, chunk_fresh, sentence_fresh, progress)
        self.embed_seconds = time.perf_counter() - began
        return self._assemble(self.chunk_parts, chunks), \
            self._assemble(self.sentence_parts, sentences)

    def _one_pass(self, embedder: Embedder, chunk_fresh: list[list[str]],
                  sentence_fresh: list[list[str]],
                  progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
        slots = [s for s in self.slot_parts if s is not None]
        done = embed_one_pass(embedder, chunk_fresh, sentence_fresh, slots,
                              progress.advance if progress else None,
                              progress.start if progress else None)
        self.embedded, self.repeated, self.pooled = done.embedded, done.repeated, done.pooled
        return done.chunk_vectors, done.sentence_vectors

    def _two_passes(self, embedder: Embedder, chunk_fresh: list[list[str]],
                    sentence_fresh: list[list[str]],
                    progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
        chunk_texts = [t for part in chunk_fresh for t in part]
        pending = chunk_texts + [t for part in sentence_fresh for t in part]
        # Each distinct text is embedded once: news archives repeat sentences and whole
        # chunks (wire copies, site boilerplate); every copy gets the same vector.
        distinct = list(dict.fromkeys(pending))
        if progress:
            progress.start(len(distinct))
        unique = embedder.embed(distinct, progress.advance if progress else None)
        row_of = {text: row for row, text in enumerate(distinct)}
        fresh = unique[[row_of[text] for text in pending]]
        self.embedded = len(distinct)
        self.repeated = len(pending) - len(distinct)
        return fresh[: len(chunk_texts)], fresh[len(chunk_texts) :]

    @staticmethod
    def _assemble(parts: list[np.ndarray | list[str]], fresh: np.ndarray) -> np.ndarray:
        """The matrix of all rows: reused blocks as they are, fresh ones in order."""
        blocks, cursor = [], 0
        for part in parts:
            if isinstance(part, list):
                blocks.append(fresh[cursor : cursor + len(part)])
                cursor += len(part)
            else:
                blocks.append(part.astype(np.float32))
        blocks = [b for b in blocks if len(b)]
        if not blocks:
            return np.zeros((0, fresh.shape[1]), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(blocks), dtype=np.float32)


def _write_vectors(tmp: Path, chunk_vectors: np.ndarray, sentence_vectors: np.ndarray,
                   spec: VectorIndexSpec) -> None:
    # float16 halves the disk and memory of the largest arrays; cosine ranks are unaffected.
    chunk_vectors = chunk_vectors.astype(np.float16)
    np.save(tmp / CHUNK_VECTORS, chunk_vectors)
    np.save(tmp / SENTENCE_VECTORS, sentence_vectors.astype(np.float16))
    # FAISS gets the float16-rounded vectors too, so its scores equal the stored ones.
    # Serialised here and written by Python, so a full disk is an OSError (ENOSPC) like
    # every other file's, not a RuntimeError from inside FAISS.
    data = faiss.serialize_index(build_vector_index(chunk_vectors.astype(np.float32), spec))
    with open(tmp / VECTORS, "wb") as f:
        f.write(data.tobytes())
