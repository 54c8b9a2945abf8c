"""Where a served answer runs: on the event loop's thread when its request is the only
one the server holds, on a worker thread when others are waiting (a real server)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence

import httpx
import numpy as np
import pytest

from index.embedder import HashingEmbedder
from tests.conftest import build, serve, write_stories

QUESTION = {"messages": [{"role": "user", "content": "Who won the bread prize?"}],
            "as_of": "2024-06-01"}


class ThreadNotingEmbedder(HashingEmbedder):
    """The hashing embedder, noting the thread each batch is embedded on."""

    def __init__(self, dimension: int = 256) -> None:
        super().__init__(dimension)
        self.threads: list[threading.Thread] = []

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.threads.append(threading.current_thread())
        return super().embed_batch(texts)


@pytest.fixture
def noted(tmp_path):
    """A live server answering with a thread-noting embedder, and that embedder."""
    embedder = ThreadNotingEmbedder()
    build(tmp_path / "ix", embedder, write_stories(tmp_path / "corpus"))
    # A held body must not meet its timeout or deadline while the test runs.
    with serve(tmp_path / "ix", embedder, body_timeout=30, body_deadline=30) as server:
        server.wait_ready()
        yield server, embedder


@pytest.mark.parametrize("path", ["/api/chat", "/v1/chat/completions"])
def test_a_lone_request_is_answered_on_the_event_loop(noted, path):
    server, embedder = noted
    response = httpx.post(server.url + path, json=QUESTION, timeout=30)
    assert response.status_code == 200
    # The server's event loop runs on the thread that runs the server.
    assert embedder.threads[-1] is server.thread


def test_a_request_among_others_is_answered_on_a_worker_thread(noted):
    server, embedder = noted
    with socket.create_connection(("127.0.0.1", server.port)) as held:
        # A request whose body has not all arrived: the server holds it meanwhile.
        held.sendall(b"POST /api/chat HTTP/1.1\r\nHost: test\r\nContent-Type: "
                     b"application/json\r\nContent-Length: 200\r\n\r\n{")
        deadline = time.monotonic() + 30
        while not server.server.server_state.tasks:  # until the server has read them
            assert time.monotonic() < deadline, "the server never read the headers"
            time.sleep(0.01)
        response = httpx.post(server.url + "/api/chat", json=QUESTION, timeout=30)
    assert response.status_code == 200
    assert response.json()["grounded"]
    assert embedder.threads[-1] is not server.thread
    assert embedder.threads[-1] is not threading.main_thread()
