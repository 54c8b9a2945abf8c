"""Keeps the service's engine on the published build, swapping without a restart."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from index.embedder import Embedder
from index.layout import IndexDir
from index.manifest import IndexError_
from index.reader import Expectation, IndexReader
from qa.engine import AnswerConfig, Engine


class NotReady(Exception):
    """The engine cannot answer yet (still loading) or cannot answer at all (no index)."""


class LiveEngine:
    """Owns the embedder and the engine of the currently published build.

    A swap builds the new engine completely before replacing the reference, so a
    request always runs against one whole build (the old one stays alive until the
    requests holding it finish).
    """

    def __init__(self, index_dir: Path, embedder_factory: Callable[[], Embedder],
                 config: AnswerConfig | None = None) -> None:
        self.dir = IndexDir(index_dir)
        self._embedder_factory = embedder_factory
        self.config = config or AnswerConfig()
        self._embedder: Embedder | None = None
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self.error: str | None = "loading"

    def load(self) -> None:
        """Load the model, then the published index; failures are kept in ``error``."""
        self._embedder = self._embedder_factory()
        self.refresh()

    def engine(self) -> Engine:
        """The current engine; raises NotReady with the reason when there is none."""
        engine = self._engine
        if engine is None:
            raise NotReady(self.error or "not loaded")
        return engine

    @property
    def embedder(self) -> Embedder | None:
        """The loaded embedder, if any."""
        return self._embedder

    def refresh(self) -> bool:
        """Open the published build if it differs from the one served. True if swapped.

        A build that fails to open leaves the current engine serving and records why.
        """
        if self._embedder is None:
            return False
        with self._lock:
            try:
                build_id = self.dir.current_id()
                if self._engine is not None and self._engine.version == build_id:
                    return False
                expect = Expectation(self._embedder.name, self._embedder.dimension)
                reader = IndexReader(self.dir.builds / build_id, expect)
            except IndexError_ as exc:
                self.error = str(exc)
                return False
            self._engine = Engine(reader, self._embedder, self.config)
            self.error = None
            return True


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
            self.live.refresh()
