"""SIGKILL at any point of a build, hot swaps under load, and broken published builds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from index.layout import IndexDir
from index.reader import open_published
from tests.conftest import ROOT, STORIES, build, serve, write_stories


def _many_stories(n: int, tag: str = "") -> list[dict]:
    return [dict(STORIES[i % len(STORIES)], id=f"s{i}",
                 text=f"{STORIES[i % len(STORIES)]['text']} Update {tag}{i}.") for i in range(n)]


def _start_build(index_dir: Path, source: Path, pause: float,
                 hold: bool = False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.build_worker", str(index_dir),
                             str(source), str(pause), *(["--hold"] if hold else [])],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _ask(url: str) -> httpx.Response:
    return httpx.post(url + "/api/chat", timeout=30, json={
        "messages": [{"role": "user", "content": "How many loaves does the bakery bake?"}]})


@pytest.fixture(scope="module")
def build_seconds(tmp_path_factory) -> float:
    """How long an unkilled slow build of the test corpus takes here."""
    tmp = tmp_path_factory.mktemp("timing")
    source = write_stories(tmp / "src", _many_stories(40))
    proc = _start_build(tmp / "ix", source, pause=0.05)
    began = time.monotonic()
    assert proc.wait(timeout=120) == 0
    return time.monotonic() - began


@pytest.mark.parametrize("fraction", [0.02, 0.25, 0.5, 0.75, 0.9, 0.97])
def test_sigkill_mid_build_leaves_the_published_index_serving(tmp_path, hashing, fraction,
                                                              build_seconds):
    source = write_stories(tmp_path / "src", _many_stories(40))
    index_dir = tmp_path / "ix"
    build(index_dir, hashing, source)
    published = IndexDir(index_dir).current_id()
    with serve(index_dir, hashing, min_confidence=0.25, reload_interval=0.05) as server:
        server.wait_ready()
        write_stories(source, _many_stories(40, "v2-"))
        proc = _start_build(index_dir, source, pause=0.05)
        time.sleep(build_seconds * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        current = IndexDir(index_dir).current_id()
        reader = open_published(index_dir)
        assert reader.verify() == []
        if current != published:  # killed after the atomic swap: the new build is whole
            assert reader.manifest.articles == 40
            assert "v2-" in reader.store.article("s0").text
        response = _ask(server.url)
        assert response.status_code == 200
        assert response.json()["index_version"] in (published, current)
    # The next build cleans the debris and succeeds.
    assert build(index_dir, hashing, source, full=True).published
    leftovers = [p.name for p in (index_dir / "builds").iterdir() if p.name.startswith(".")]
    assert leftovers == [] and not list(index_dir.glob("CURRENT.*"))


def test_a_second_concurrent_build_fails_clearly(tmp_path, hashing):
    source = write_stories(tmp_path / "src", _many_stories(40))
    index_dir = tmp_path / "ix"
    first = _start_build(index_dir, source, pause=0.05, hold=True)
    assert first.stdout.readline().strip() == "started"  # printed once the lock is held
    env = {**os.environ, "QA_MODEL": "hashing-256", "QA_INDEX_DIR": str(index_dir)}
    second = subprocess.run([str(Path(sys.executable).parent / "qa"), "index", "build",
                             str(source)], capture_output=True, text=True, env=env, cwd=ROOT)
    first.communicate("go\n", timeout=60)  # let the first build finish
    assert second.returncode == 1
    assert "another build is running" in second.stderr
    assert first.returncode == 0
    assert open_published(index_dir).verify() == []


def test_hot_swap_under_concurrent_requests_has_no_errors(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    build(index_dir, hashing, source)
    failures: list[str] = []
    versions: set[str] = set()
    stop = threading.Event()

    with serve(index_dir, hashing, min_confidence=0.25, reload_interval=0.05) as server:
        server.wait_ready()

        def hammer() -> None:
            with httpx.Client(timeout=30) as client:
                while not stop.is_set():
                    r = client.post(server.url + "/api/chat", json={"messages": [
                        {"role": "user", "content": "How many loaves does the bakery bake?"}]})
                    if r.status_code != 200:
                        failures.append(r.text)
                    else:
                        versions.add(r.json()["index_version"])

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for round_ in range(4):
            write_stories(source, [dict(s, text=s["text"] + f" Round {round_}.") for s in STORIES])
            build(index_dir, hashing, source)
            current = IndexDir(index_dir).current_id()
            deadline = time.monotonic() + 5
            while current not in versions and time.monotonic() < deadline:
                time.sleep(0.02)  # until a request has been answered by the new build
        latest = IndexDir(index_dir).current_id()
        deadline = time.monotonic() + 5
        while latest not in versions and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert latest in versions and len(versions) >= 2


def test_admin_reload_needs_the_key(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    build(index_dir, hashing, source)
    with serve(index_dir, hashing, reload_interval=0, admin_key="a-long-admin-key-0123") as server:
        server.wait_ready()
        first = httpx.get(server.url + "/readyz").json()["index_version"]
        write_stories(source, [dict(s, text=s["text"] + " More.") for s in STORIES])
        build(index_dir, hashing, source)
        url = server.url + "/api/admin/reload"
        assert httpx.post(url).status_code == 401
        assert httpx.post(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert _ask(server.url).json()["index_version"] == first  # no polling: still old
        ok = httpx.post(url, headers={"Authorization": "Bearer a-long-admin-key-0123"}).json()
        assert ok["swapped"] is True and ok["index_version"] != first
        assert _ask(server.url).json()["index_version"] == ok["index_version"]


def test_admin_is_disabled_without_a_key(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    build(tmp_path / "ix", hashing, source)
    with serve(tmp_path / "ix", hashing) as server:
        response = httpx.post(server.url + "/api/admin/reload")
        assert response.status_code == 403 and "QA_ADMIN_KEY" in response.json()["error"]["message"]


def test_corrupted_published_build_is_a_clear_503_and_cli_error(tmp_path, hashing):
    source = write_stories(tmp_path / "src")
    index_dir = tmp_path / "ix"
    build(index_dir, hashing, source)
    path = IndexDir(index_dir).current_path()
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["chunks"] = 999
    (path / "manifest.json").write_text(json.dumps(manifest))
    with serve(index_dir, hashing) as server:
        deadline = time.monotonic() + 10
        while "loading" in (ready := httpx.get(server.url + "/readyz")).json()["error"][
                "message"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.status_code == 503
        assert "inconsistent" in ready.json()["error"]["message"]
        assert httpx.get(server.url + "/healthz").status_code == 200
    env = {**os.environ, "QA_MODEL": "hashing-256", "QA_INDEX_DIR": str(index_dir)}
    qa = str(Path(sys.executable).parent / "qa")
    status = subprocess.run([qa, "index", "status"], capture_output=True, text=True, env=env)
    assert status.returncode == 1 and "inconsistent" in status.stderr
    # A full rebuild repairs it.
    rebuilt = subprocess.run([qa, "index", "build", str(source)], capture_output=True,
                             text=True, env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert open_published(index_dir).verify() == []
