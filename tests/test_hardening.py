"""Hostile and careless input against a real server: nothing exhausts memory, stalls, leaks,
or leaves the error shape; every response is counted."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pydantic
import pytest

from index.builder import Builder
from index.embedder import HashingEmbedder
from index.layout import IndexDir
from index.lexical import LexicalIndex
from index.reader import open_published
from qa.limits import MAX_LEXICAL_TERMS
from service.settings import Settings
from tests.conftest import (
    ADMIN,
    ADMIN_KEY,
    ROOT,
    STORIES,
    LiveServer,
    build,
    serve,
    write_stories,
)

QUESTION = {"messages": [{"role": "user", "content": "How many loaves does the bakery bake?"}]}


class ExplodingEmbedder(HashingEmbedder):
    """The hashing embedder, failing like a broken model on one word."""

    def embed_batch(self, texts):
        if any("explode" in t for t in texts):
            raise RuntimeError("the model failed")
        return super().embed_batch(texts)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    """One server for the tests that do not change it (short timeouts to test them)."""
    tmp = tmp_path_factory.mktemp("hardening")
    embedder = ExplodingEmbedder(256)
    build(tmp / "ix", embedder, write_stories(tmp / "src"))
    with serve(tmp / "ix", embedder, admin_key=ADMIN_KEY, header_timeout=1.0,
               body_timeout=1.0, min_confidence=0.25) as live:
        live.wait_ready()
        yield live


def raw(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def assert_json_error(status: int, headers: dict[str, str], body: bytes, expected: int,
                      fragment: str) -> None:
    assert status == expected, body
    assert headers["content-type"].startswith("application/json")
    assert fragment in json.loads(body)["error"]["message"]


# 1. The body limit counts the bytes received, chunked bodies included.

def test_a_chunked_body_over_the_limit_is_refused_while_it_streams(server):
    sock = raw(server)
    sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"x" * 65536
    sent = 0
    try:  # 300 MiB were read whole before; now the server answers once 1 MiB is passed
        while sent < 8 << 20:
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    status, headers, body = read_response(sock)
    assert_json_error(status, headers, body, 413, "larger than 1048576 bytes")
    assert sent < 8 << 20 or status == 413


def test_a_declared_huge_body_is_refused_before_it_is_read(server):
    sock = raw(server)
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n{")
    assert_json_error(*read_response(sock), 413, "larger than")


# 2. The worst legal request is bounded; each thread reads with its own connection.

def test_a_long_question_scores_only_its_most_informative_words():
    words = [f"word{i}" for i in range(190)]
    # Chunk i holds word0..word{i}: word{i} occurs in 190 - i chunks, later words rarer.
    index = LexicalIndex.build(("", " ".join(words[: i + 1])) for i in range(190))
    chosen = index.query_terms(" ".join(words), MAX_LEXICAL_TERMS)
    assert chosen == words[-MAX_LEXICAL_TERMS:]
    assert index.query_terms("floods in word3 and word1", 16) == ["word3", "word1"]


def test_every_thread_reads_with_its_own_connection(tmp_path, hashing):
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src"))
    reader = open_published(tmp_path / "ix")
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(reader.store.conn)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 3 and reader.store.conn not in seen
    reader.close()
    with pytest.raises(Exception, match="closed"):
        seen[0].execute("SELECT 1")


def test_a_worst_case_legal_question_is_answered(server):
    words = " ".join(f"term{i} common story" for i in range(190))[:2000]
    response = httpx.post(server.url + "/api/chat", timeout=30, json={
        "messages": [{"role": "user", "content": "bakery " * 10},
                     {"role": "assistant", "content": "x " * 3999},
                     {"role": "user", "content": words}]})
    assert response.status_code == 200


# 3. Invalid text is refused the same way on every surface, before the model.

@pytest.mark.parametrize("path", ["/api/chat", "/v1/chat/completions"])
def test_a_lone_surrogate_is_a_400_naming_the_field(server, path, caplog):
    body = b'{"model": "qa", "messages": [{"role": "user", "content": "bad \\ud800 text"}]}'
    with caplog.at_level(logging.ERROR):
        response = httpx.post(server.url + path, content=body,
                              headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == "messages.0.content" and "surrogate" in error["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# 4. Every response is counted, the 500s an unexpected error produces included.

def test_an_unexpected_error_is_one_json_500_one_log_line_and_counted(server, caplog):
    with caplog.at_level(logging.ERROR, logger="qa.api"):
        response = httpx.post(server.url + "/api/chat", json={
            "messages": [{"role": "user", "content": "Why did it explode?"}]})
    assert response.status_code == 500
    assert response.json()["error"] == {"message": "internal error", "type": "server_error",
                                        "param": None, "code": None}
    lines = [r for r in caplog.records if r.name == "qa.api"]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert "RuntimeError" in lines[0].getMessage()
    # The connection stays usable and the 500 is in /metrics.
    assert httpx.post(server.url + "/api/chat", json=QUESTION).status_code == 200
    metrics = httpx.get(server.url + "/metrics", headers=ADMIN).text
    assert 'qa_http_requests_total{route="/api/chat",status="500"} 1.0' in metrics


# 5. A swapped-out build is closed when its last request finishes.

def _held(index_dir: Path) -> list[str]:
    """Files under the index directory that this process holds open or mapped, deleted."""
    root = str(index_dir.resolve())
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(root) and target.endswith("(deleted)"):
            held.append(target)
    with open("/proc/self/maps") as maps:
        held += [line.split(None, 5)[-1].strip() for line in maps
                 if root in line and "(deleted)" in line]
    return held


def test_swapped_builds_are_closed_and_their_files_released(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    builder = Builder.with_embedder(index_dir, hashing, keep_builds=1)
    builder.build([source])
    with serve(index_dir, hashing, reload_interval=0.05, min_confidence=0.25) as live:
        live.wait_ready()
        for round_ in range(3):
            assert httpx.post(live.url + "/api/chat", json=QUESTION).status_code == 200
            write_stories(source, [dict(s, text=s["text"] + f" R{round_}.") for s in STORIES])
            builder.build([source])
            latest = IndexDir(index_dir).current_id()
            deadline = time.monotonic() + 10
            while httpx.get(live.url + "/readyz").json().get("index_version") != latest:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert httpx.post(live.url + "/api/chat", json=QUESTION).status_code == 200
        assert _held(index_dir) == []


# 6. An empty admin key is no key; a short one is refused at start.

def test_an_empty_admin_key_means_admin_is_disabled(tmp_path, hashing, monkeypatch):
    monkeypatch.setenv("QA_ADMIN_KEY", "")
    assert Settings().admin_key is None
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src"))
    with serve(tmp_path / "ix", hashing, admin_key="") as live:
        for auth in ("Bearer", "Bearer x", ""):
            response = httpx.post(live.url + "/api/admin/reload",
                                  headers={"Authorization": auth} if auth else {})
            assert response.status_code == 403


def test_a_short_admin_key_is_refused_at_start(tmp_path):
    with pytest.raises(pydantic.ValidationError, match="at least 16 characters"):
        Settings(admin_key="short")
    qa = str(Path(sys.executable).parent / "qa")
    result = subprocess.run([qa, "serve", "--index-dir", str(tmp_path)], capture_output=True,
                            text=True, timeout=60,
                            env={**os.environ, "QA_ADMIN_KEY": "short", "QA_MODEL": "hashing"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: invalid configuration: QA_ADMIN_KEY: Value error, the admin key must have "
        "at least 16 characters"]


# 7. Warnings clear when their cause ends; responses name no filesystem path.

def test_a_stale_warning_clears_and_no_path_is_shown(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    build(index_dir, hashing, source)
    good = IndexDir(index_dir).current_id()
    with serve(index_dir, hashing, reload_interval=0.05) as live:
        live.wait_ready()
        # Point CURRENT at a build that cannot open: the old one keeps serving, with a warning.
        IndexDir(index_dir).point("no-such-build")
        deadline = time.monotonic() + 10
        while "warning" not in (ready := httpx.get(live.url + "/readyz").json()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert ready["index_version"] == good and "no-such-build" in ready["warning"]
        assert str(tmp_path) not in json.dumps(ready)
        IndexDir(index_dir).point(good)
        deadline = time.monotonic() + 10
        while "warning" in httpx.get(live.url + "/readyz").json():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with serve(tmp_path / "nothing-here", hashing) as live:
        deadline = time.monotonic() + 10
        while "loading" in (text := httpx.get(live.url + "/readyz").text):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert "no published index" in text and str(tmp_path) not in text
        chat = httpx.post(live.url + "/api/chat", json=QUESTION)
        assert chat.status_code == 503 and str(tmp_path) not in chat.text


# 8. Slow clients are dropped; headers and docs are safe by default.

def test_a_client_that_never_finishes_its_headers_is_dropped(server):
    sock = raw(server)
    sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\n")
    began = time.monotonic()
    assert sock.recv(1024) == b""  # closed by the server (header timeout 1 s)
    assert time.monotonic() - began < 8


def test_a_body_that_stops_arriving_is_a_408(server):
    sock = raw(server)
    sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"messages\"")
    status, headers, body = read_response(sock)
    assert_json_error(status, headers, body, 408, "did not arrive")
    assert headers["connection"] == "close"  # the unread rest cannot carry a request
    assert sock.recv(1024) == b""


def test_json_responses_are_nosniff(server):
    for response in (httpx.post(server.url + "/api/chat", json=QUESTION),
                     httpx.get(server.url + "/api/articles/nope"),
                     httpx.get(server.url + "/readyz")):
        assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_are_served_offline_under_a_csp(server):
    page = httpx.get(server.url + "/docs")
    assert page.status_code == 200 and "script-src 'self' 'sha256-" in \
        page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert assets and not re.search(r'(?:src|href)="https?://', page.text)
    for asset in assets:
        assert httpx.get(server.url + asset).status_code == 200, asset


def test_metrics_need_the_admin_key_unless_public(server, tmp_path, hashing):
    assert httpx.get(server.url + "/metrics").status_code == 401
    assert httpx.get(server.url + "/metrics", headers=ADMIN).status_code == 200
    build(tmp_path / "ix", hashing, write_stories(tmp_path / "src"))
    with serve(tmp_path / "ix", hashing, metrics_public=True) as live:
        assert httpx.get(live.url + "/metrics").status_code == 200
    with serve(tmp_path / "ix", hashing) as live:
        assert httpx.get(live.url + "/metrics").status_code == 403


# 7. The embedder's threads come from one setting, for the server, the CLI and benchmarks.

def test_embed_threads_setting_reaches_the_embedder(monkeypatch):
    assert Settings().embedder_spec().threads == 0  # every core
    monkeypatch.setenv("QA_EMBED_THREADS", "1")
    assert Settings().embedder_spec().threads == 1
    monkeypatch.setenv("QA_EMBED_THREADS", "-1")
    with pytest.raises(pydantic.ValidationError, match="embed_threads"):
        Settings()


def test_the_service_process_keeps_numpy_on_one_blas_thread():
    # In a process of its own: the setting is process-wide.
    script = ("import json, numpy; from threadpoolctl import threadpool_info; "
              "from service.server import configure_process; configure_process(); "
              "print(json.dumps([p['num_threads'] for p in threadpool_info() "
              "if p['user_api'] == 'blas']))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    threads = json.loads(out.stdout)
    assert threads and all(n == 1 for n in threads)
