"""Damaged builds under a real server: never down for long, never a citation of an altered
text; and an incremental build over a damaged build rebuilds in full."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from index.layout import CHUNK_VECTORS, STORE, IndexDir
from tests.conftest import (
    ADMIN,
    ADMIN_KEY,
    ROOT,
    STORIES,
    build,
    free_port,
    serve,
    write_stories,
)
from tests.test_integrity import change_text, writable

QA = str(Path(sys.executable).parent / "qa")
BAKERY = "How many loaves does the bakery bake a day?"
FERRY = {"id": "ferry", "title": "Ferry Service Resumes", "published": "2024-03-06",
         "text": "The island ferry resumed service on Tuesday after a week of storms. "
                 "It now runs 6 crossings a day."}


def ask(url: str, question: str = BAKERY) -> httpx.Response:
    return httpx.post(url + "/api/chat", timeout=30,
                      json={"messages": [{"role": "user", "content": question}]})


def until(check: Callable[[], object], seconds: float = 10) -> object:
    """Poll ``check`` until it gives something true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if got := check():
            return got
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.05)


def ready(url: str) -> dict | None:
    response = httpx.get(url + "/readyz")
    return response.json() if response.status_code == 200 else None


def two_builds(tmp_path: Path, hashing) -> tuple[Path, str, str]:
    """An index directory with an older and a newer build of the stories."""
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    build(index_dir, hashing, source)
    older = IndexDir(index_dir).current_id()
    write_stories(source, [*STORIES, FERRY])
    build(index_dir, hashing, source)
    return index_dir, older, IndexDir(index_dir).current_id()


def truncate(path: Path) -> None:
    os.truncate(writable(path), path.stat().st_size // 2)


def test_a_build_damaged_while_served_gives_way_to_an_intact_one(tmp_path, hashing):
    index_dir, older, newer = two_builds(tmp_path, hashing)
    with serve(index_dir, hashing, min_confidence=0.25, reload_interval=0.1) as server:
        server.wait_ready()
        assert ready(server.url)["index_version"] == newer
        # The store is read through SQLite, not mapped: damaging it cannot kill the process.
        truncate(index_dir / "builds" / newer / STORE)
        back = until(lambda: (r := ready(server.url)) and r["index_version"] == older and r)
        assert newer in back["warning"] and "damaged while served" in back["warning"]
        assert STORE in back["warning"] and str(tmp_path) not in back["warning"]
        answered = ask(server.url)
        assert answered.status_code == 200
        body = answered.json()
        assert body["index_version"] == older and "800 loaves" in body["citations"][0]["quote"]


def test_a_citation_of_an_altered_text_never_leaves_the_service(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    build(index_dir, hashing, source)
    with serve(index_dir, hashing, min_confidence=0.25, reload_interval=0.1,
               admin_key=ADMIN_KEY) as server:
        server.wait_ready()
        assert "800 loaves" in ask(server.url).json()["citations"][0]["quote"]
        # One character changed in the served store, the file's size unchanged.
        change_text(IndexDir(index_dir).current_path() / STORE, "bakery", "800 loaves",
                    "900 loaves")
        for _ in range(3):
            response = ask(server.url)
            assert response.status_code == 200
            body = response.json()
            assert body["citations"] == [] and body["reason"] == "withheld"
            assert "900 loaves" not in response.text
        metrics = httpx.get(server.url + "/metrics", headers=ADMIN).text
        withheld = re.search(r"^qa_citations_withheld_total (\S+)$", metrics, re.M)
        assert withheld and float(withheld.group(1)) >= 3
        # The other articles still answer.
        other = ask(server.url, "How many residents were evacuated from Elmswick?").json()
        assert other["citations"] and other["citations"][0]["article_id"] == "flood"


def test_a_server_started_on_a_damaged_build_serves_the_newest_intact_one(tmp_path, hashing):
    index_dir, older, newer = two_builds(tmp_path, hashing)
    truncate(index_dir / "builds" / newer / CHUNK_VECTORS)
    with serve(index_dir, hashing, min_confidence=0.25, reload_interval=0.1) as server:
        server.wait_ready()
        body = ready(server.url)
        assert body["index_version"] == older
        assert newer in body["warning"] and CHUNK_VECTORS in body["warning"]
        assert ask(server.url).json()["index_version"] == older
        # The next good publish is picked up, and the warning goes.
        report = build(index_dir, hashing, tmp_path / "src")
        assert report.published and "full build" in report.note
        fresh = until(lambda: (r := ready(server.url)) and r["index_version"] ==
                      report.build_id and r)
        assert "warning" not in fresh


def test_a_server_with_nothing_to_load_keeps_watching(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    build(index_dir, hashing, source)
    damaged = IndexDir(index_dir).current_id()
    truncate(index_dir / "builds" / damaged / CHUNK_VECTORS)
    with serve(index_dir, hashing, min_confidence=0.25, reload_interval=0.1) as server:
        refused = until(lambda: (r := httpx.get(server.url + "/readyz")).status_code == 503
                        and "loading" not in r.text and r)
        assert damaged in refused.text and "no intact build to serve" in refused.text
        report = build(index_dir, hashing, source)
        until(lambda: (r := ready(server.url)) and r["index_version"] == report.build_id)
        assert "800 loaves" in ask(server.url).json()["citations"][0]["quote"]


def qa_build(source: Path, index_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([QA, "index", "build", str(source), "--index-dir", str(index_dir)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "QA_MODEL": "hashing-256", "HF_HUB_OFFLINE": "1"})


def test_an_incremental_build_over_a_damaged_build_rebuilds_in_full(tmp_path):
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    assert qa_build(source, index_dir).returncode == 0
    # Same size, other bytes: only the recorded SHA-256 tells.
    vectors = writable(IndexDir(index_dir).current_path() / CHUNK_VECTORS)
    data = bytearray(vectors.read_bytes())
    data[-8:] = bytes(b ^ 0xFF for b in data[-8:])
    vectors.write_bytes(bytes(data))
    result = qa_build(source, index_dir)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.strip().splitlines()
    assert "reused 0" in line
    assert (f"full build: the published build is damaged ({CHUNK_VECTORS} does not match "
            "its recorded SHA-256)") in line
    # And over one that does not open at all.
    truncate(IndexDir(index_dir).current_path() / CHUNK_VECTORS)
    result = qa_build(source, index_dir)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.strip().splitlines()
    assert "full build: the published build does not open" in line and "reused 0" in line


def test_a_sigbus_crash_is_restarted_onto_an_intact_build(tmp_path):
    """The one damage a process cannot survive: a memory-mapped vectors file truncated
    under it. Supervised (as docs/qa.service does it: restart on any exit), the server is
    back on the newest intact build (within 10 s on an idle machine; the test allows 30 so
    that a loaded one does not fail it: it checks the recovery, not its speed)."""
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    assert qa_build(source, index_dir).returncode == 0
    older = IndexDir(index_dir).current_id()
    write_stories(source, [*STORIES, FERRY])
    assert qa_build(source, index_dir).returncode == 0
    newer = IndexDir(index_dir).current_id()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "QA_MODEL": "hashing-256", "HF_HUB_OFFLINE": "1",
           "QA_MIN_CONFIDENCE": "0.25", "QA_DATA_DIR": str(tmp_path / "data"),
           # No polling: the size check would otherwise often win the race and move the
           # server off the build before a question reads past the end.
           "QA_RELOAD_INTERVAL": "0"}

    def start() -> subprocess.Popen:
        return subprocess.Popen([QA, "serve", "--index-dir", str(index_dir), "--host",
                                 "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def served() -> dict | None:
        try:
            return ready(url)
        except httpx.TransportError:
            return None

    server = start()
    try:
        assert until(served, 60)["index_version"] == newer
        for name in (CHUNK_VECTORS, "sentences.npy"):
            os.truncate(writable(index_dir / "builds" / newer / name), 0)
        for _ in range(20):
            try:
                ask(url)
            except httpx.TransportError:
                break
        assert server.wait(timeout=10) == -signal.SIGBUS
        crashed = time.monotonic()
        server = start()  # what Restart=always does
        body = until(lambda: (r := served()) and r["index_version"] == older and r, 30)
        assert time.monotonic() - crashed < 30
        assert newer in body["warning"] and CHUNK_VECTORS in body["warning"]
        assert ask(url).json()["index_version"] == older
    finally:
        server.terminate()
        server.wait(timeout=10)
