"""Shared fixtures: real FAISS and SQLite everywhere, a hashing embedder for speed,
the real model where a test says so, and real uvicorn servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from index.builder import Builder
from index.chunking import ChunkerConfig
from index.embedder import Embedder, HashingEmbedder, load_embedder
from index.reader import open_published
from qa.engine import AnswerConfig, Engine
from qa.live import LiveEngine
from service.server import uvicorn_config
from service.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ADMIN_KEY = "test-admin-key-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}

# A few short stories in which a follow-up alone would find the wrong article.
STORIES = [
    {"id": "flood", "title": "Floods Hit the River Town", "published": "2024-03-02",
     "url": "https://news.example/flood",
     "text": "Heavy rain flooded the river town of Elmswick on Monday. Rescue teams evacuated "
             "1,200 residents from the lower districts.\n\nOf those evacuated, 300 were "
             "students who spent the night in the sports hall. Mayor Ines Varga said "
             "the water would recede by Friday."},
    {"id": "election", "title": "Council Election Results Announced", "published": "2024-03-04",
     "url": "https://news.example/election",
     "text": "The Green Party won 14 of the 40 council seats in Harlow, officials announced. "
             "Turnout was 52 percent.\n\nThe party leader, Tomas Reed, said the result was a "
             "mandate for new bicycle lanes. Students made up a large share of new voters: 5,000 "
             "students registered this year. Many of them were students at the technical "
             "college."},
    {"id": "bakery", "title": "Bakery Wins National Bread Prize", "published": "2024-03-05",
     "url": "https://news.example/bakery",
     "text": "A family bakery in Dunmore won the national sourdough prize on Saturday. The "
             "owners, Clara and Jon Mills, bake 800 loaves a day.\n\nJudges praised the crust "
             "and said the bread was the best they had tasted in a decade."},
]


@pytest.fixture(scope="session")
def hashing() -> Embedder:
    """The deterministic stand-in for the model."""
    return HashingEmbedder(256)


@pytest.fixture(scope="session")
def real_model() -> Embedder:
    """The real all-MiniLM-L6-v2, loaded once per test session."""
    return load_embedder("all-MiniLM-L6-v2")


def write_stories(folder: Path, stories: list[dict] = STORIES) -> Path:
    """Write stories as one JSONL file in a folder; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stories.jsonl").write_text("\n".join(json.dumps(s) for s in stories) + "\n")
    return folder


def build(index_dir: Path, embedder: Embedder, *sources: Path,
          chunker: ChunkerConfig | None = None, full: bool = False):
    """Build and publish with a given embedder; returns the report."""
    builder = Builder.with_embedder(index_dir, embedder, chunker)
    return builder.build(list(sources), full=full)


def as_earlier_build(build_path: Path, *removed: str) -> None:
    """Make a build look as an earlier version wrote it: without the files ``removed``,
    and without the record of file sizes and hashes (which came later)."""
    for name in removed:
        (build_path / name).unlink()
    manifest = build_path / "manifest.json"
    data = json.loads(manifest.read_text())
    data.pop("files", None)
    manifest.chmod(0o644)
    manifest.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """The seed article plus the stories, as files in one folder."""
    folder = write_stories(tmp_path / "corpus")
    for seed in SEEDS.iterdir():
        (folder / seed.name).write_bytes(seed.read_bytes())
    return folder


def engine_for(index_dir: Path, embedder: Embedder, **config) -> Engine:
    """An engine over the published build."""
    return Engine(open_published(index_dir), embedder, AnswerConfig(**config))


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real uvicorn server on 127.0.0.1 running an app in a background thread, configured
    as ``qa serve`` configures it (timeouts included)."""

    def __init__(self, app, settings: Settings | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings or Settings()
        config = uvicorn_config(app, settings or Settings(), host="127.0.0.1", port=self.port,
                                log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.started:
                return self
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait for /readyz to say 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(self.url + "/readyz").status_code == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"not ready: {httpx.get(self.url + '/readyz').text}")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(index_dir: Path, embedder: Embedder, **settings) -> LiveServer:
    """A live server over an index directory with an already-loaded embedder."""
    from api import create_app

    settings.setdefault("data_dir", Path(index_dir).parent / "data")
    cfg = Settings(index_dir=index_dir, **settings)
    live = LiveEngine(index_dir, lambda: embedder, cfg.answer_config())
    return LiveServer(create_app(cfg, live), cfg)


def _hashing_server(folder: Path, embedder: Embedder) -> LiveServer:
    corpus = write_stories(folder / "corpus")
    for seed in SEEDS.iterdir():
        (corpus / seed.name).write_bytes(seed.read_bytes())
    build(folder / "index", embedder, corpus)
    return serve(folder / "index", embedder, min_confidence=0.25, reload_interval=0.2,
                 admin_key=ADMIN_KEY)


@pytest.fixture(scope="module")
def hashing_server(tmp_path_factory, hashing: Embedder) -> Iterator[LiveServer]:
    """A live server over the seed plus stories, answering with the hashing embedder;
    shared by a module's tests, which must not change it."""
    with _hashing_server(tmp_path_factory.mktemp("served"), hashing) as server:
        server.wait_ready()
        yield server


@pytest.fixture
def fresh_server(tmp_path: Path, hashing: Embedder) -> Iterator[LiveServer]:
    """The same, for one test alone (its counters start at zero)."""
    with _hashing_server(tmp_path, hashing) as server:
        server.wait_ready()
        yield server
