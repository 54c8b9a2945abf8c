"""Keeps the service's engine on the published build, swapping without a restart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.embedder import Embedder
from index.integrity import size_problems
from index.layout import IndexDir
from index.manifest import IndexError_
from index.reader import Expectation, IndexReader
from qa.engine import AnswerConfig, Engine

log = logging.getLogger("qa.live")

# After a published build fails to open, wait this long before trying it again,
# doubling up to the cap while it keeps failing.
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0


class NotReady(Exception):
    """The engine cannot answer yet (still loading) or cannot answer at all (no index)."""


@dataclass
class _Lease:
    """An engine with the number of requests using it; closed once retired and unused."""

    engine: Engine
    users: int = 0
    retired: bool = False
    closed: bool = False


class LiveEngine:
    """Owns the embedder and the engine of the currently published build.

    A swap builds the new engine completely before replacing the reference, so a
    request always runs against one whole build. The old build is closed as soon as the
    last request using it finishes (not when the garbage collector gets to it), so its
    deleted files are released at once.
    """

    def __init__(self, index_dir: Path, embedder_factory: Callable[[], Embedder],
                 config: AnswerConfig | None = None) -> None:
        self.dir = IndexDir(index_dir)
        self._embedder_factory = embedder_factory
        self.config = config or AnswerConfig()
        self._embedder: Embedder | None = None
        self._current: _Lease | None = None
        self._lock = threading.Lock()  # guards the lease and the counts
        self._swap = threading.Lock()  # one refresh at a time
        self._problem: str | None = "loading"
        self._failed: tuple[str, float, float] | None = None  # build id, retry at, backoff
        self._refused: dict[str, str] = {}  # builds found damaged, and why

    def warm_up(self) -> None:
        """The one loading step: the model, then the published index. Never raises;
        a failure is kept as :meth:`problem` and logged."""
        if self._embedder is None:
            try:
                self._embedder = self._embedder_factory()
            except (OSError, ValueError, RuntimeError) as exc:
                self._set_problem(f"cannot load the model: {exc}")
                return
        self.refresh()

    def problem(self) -> str | None:
        """Why the service cannot answer, or why it serves an older build; None if fine."""
        return self._problem

    def version(self) -> str | None:
        """The build being served, if any."""
        lease = self._current
        return lease.engine.version if lease else None

    @contextmanager
    def use(self) -> Iterator[Engine]:
        """The current engine for one request; raises NotReady with the reason."""
        with self._lock:
            lease = self._current
            if lease is None:
                raise NotReady(self._problem or "not loaded")
            lease.users += 1
        try:
            yield lease.engine
        finally:
            self._release(lease)

    def refresh(self) -> bool:
        """Open the published build if it differs from the one served. True if swapped.

        A build that fails to open leaves the current engine serving; the failure is
        logged once and the same build is retried with a growing back-off. With nothing
        served yet (at start, or after the served build was damaged under it) the newest
        intact build in the index directory is served instead, and :meth:`problem` names
        the build refused and why.
        """
        if self._embedder is None:
            return False
        with self._swap:
            try:
                build_id = self.dir.current_id()
            except IndexError_ as exc:
                self._set_problem(str(exc))
                return False
            served = self._current.engine.version if self._current else None
            if served == build_id:
                damage = size_problems(self._current.engine.index.path,
                                       self._current.engine.index.manifest.files)
                if not damage:
                    self._failed = None
                    self._set_problem(None)  # a warning about a newer build no longer applies
                    return False
                # Its files changed under it (a stat each, every poll): go to an intact one.
                self._refused[build_id] = "damaged while served: " + "; ".join(damage)
                return self._fall_back(build_id, self._refused[build_id])
            if build_id in self._refused:
                # Damaged while served: a build never changes, so it is not opened again
                # (every poll would fail on it), and the warning keeps its first reason.
                return False
            if self._failed and self._failed[0] == build_id and time.monotonic() < self._failed[1]:
                return False
            try:
                engine = self._open(build_id)
            except Exception as exc:  # whatever a build raises, the service stays up
                backoff = min(MAX_BACKOFF_S, self._failed[2] * 2) if (
                    self._failed and self._failed[0] == build_id) else FIRST_BACKOFF_S
                self._failed = (build_id, time.monotonic() + backoff, backoff)
                reason = _one_line(exc)
                if served is not None and served not in self._refused:
                    self._set_problem(f"build {build_id} refused ({reason}); "
                                      f"serving build {served}")
                    return False
                return self._fall_back(build_id, reason)
            self._failed = None
            # Cleared first: readiness reads the version, then the warning, so a reader
            # that sees the new build never sees the warning about the old one.
            self._set_problem(None)
            self._swap_to(engine)
            return True

    def _open(self, build_id: str) -> Engine:
        """An engine over a build, complete before it is swapped in."""
        reader = IndexReader(self.dir.builds / build_id, Expectation.of(self._embedder))
        try:
            return Engine(reader, self._embedder, self.config)
        except BaseException:
            reader.close()
            raise

    def _fall_back(self, refused: str, reason: str) -> bool:
        """Serve the newest build that opens, other than ``refused`` and those refused
        before; True if it swapped. Without one, what is served (if anything) stays."""
        finished = sorted((p.name for p in self.dir.builds.iterdir()
                           if p.is_dir() and not p.name.startswith(".")), reverse=True
                          ) if self.dir.builds.is_dir() else []
        for build_id in finished:
            if build_id == refused or build_id in self._refused:
                continue
            try:
                engine = self._open(build_id)
            except Exception as exc:  # a build is never changed: refused for good
                self._refused[build_id] = _one_line(exc)
                continue
            self._swap_to(engine)
            self._set_problem(f"build {refused} refused ({reason}); serving build {build_id}")
            return True
        still = (f"still serving build {self._current.engine.version}" if self._current
                 else "no intact build to serve")
        self._set_problem(f"build {refused} refused ({reason}); {still}")
        return False

    def _swap_to(self, engine: Engine) -> None:
        new = _Lease(engine)
        with self._lock:
            old, self._current = self._current, new
        if old is not None:
            self._release(old, used=False, retire=True)
        log.info("serving build %s", engine.version)

    def close(self) -> None:
        """Retire the served build (closing it once its last request finishes)."""
        with self._lock:
            old, self._current = self._current, None
        if old is not None:
            self._release(old, used=False, retire=True)

    def _release(self, lease: _Lease, used: bool = True, retire: bool = False) -> None:
        with self._lock:
            lease.users -= used
            lease.retired = lease.retired or retire
            close = lease.retired and lease.users == 0 and not lease.closed
            lease.closed = lease.closed or close
        if close:
            lease.engine.close()

    def _set_problem(self, problem: str | None) -> None:
        if problem and problem != self._problem:
            log.error("index not served: %s", problem)
        self._problem = problem


def _one_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text or type(exc).__name__


class Watcher:
    """Polls the CURRENT pointer in a daemon thread and refreshes the engine."""

    def __init__(self, live: LiveEngine, interval: float) -> None:
        self.live = live
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="index-watcher", daemon=True)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.live.refresh()
            except Exception:  # a poll that fails must not end the polling
                log.exception("index watcher: refresh failed")
