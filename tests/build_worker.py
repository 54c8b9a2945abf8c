"""A build in its own process, slowed down so a test can kill it mid-way.

Usage: python -m tests.build_worker INDEX_DIR SOURCE SECONDS_PER_BATCH [--hold]

With ``--hold`` the build waits, lock held, for a line on stdin before it goes on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from index.builder import Builder
from index.embedder import HashingEmbedder


class SlowHashingEmbedder(HashingEmbedder):
    """The hashing embedder with a pause per batch, like a real model on a busy machine."""

    def __init__(self, pause: float) -> None:
        super().__init__(256)
        self.name = "hashing-256"
        self.batch_size = 8
        self.pause = pause

    def embed_batch(self, texts):
        time.sleep(self.pause)
        return super().embed_batch(texts)


class Announce:
    """Progress that says "started" once the build holds the lock (not before: a test
    that waits for it must find the lock taken), then optionally waits to be let go."""

    def __init__(self, hold: bool) -> None:
        self.hold = hold

    def locked(self) -> None:
        print("started", flush=True)
        if self.hold:
            sys.stdin.readline()

    def start(self, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


def main() -> None:
    index_dir, source, pause = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    embedder = SlowHashingEmbedder(pause)
    report = Builder.with_embedder(index_dir, embedder).build(
        [source], full=True, progress=Announce("--hold" in sys.argv[4:]))
    print(report.summary(), flush=True)


if __name__ == "__main__":
    main()
