"""The ``qa`` console script as operators run it: exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from index.embedder import HashingEmbedder
from tests.conftest import ROOT, SEEDS, serve

QA = str(Path(sys.executable).parent / "qa")


def run(*args: str, model: str = "hashing-256", **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "QA_MODEL": model, "HF_HUB_OFFLINE": "1", **env}
    return subprocess.run([QA, *args], capture_output=True, text=True, env=environment,
                          cwd=ROOT, timeout=300)


def test_build_status_verify_ask(tmp_path, corpus_dir):
    ix = str(tmp_path / "ix")
    built = run("index", "build", str(corpus_dir), "--index-dir", ix)
    assert built.returncode == 0, built.stderr
    assert "added 4, updated 0, removed 0, unchanged 0" in built.stdout
    again = run("index", "build", str(corpus_dir), "--index-dir", ix)
    assert again.returncode == 0 and "index unchanged" in again.stdout
    status = run("index", "status", "--index-dir", ix, "--json")
    info = json.loads(status.stdout)
    assert (info["articles"], info["model"]) == (4, "hashing-256")
    verify = run("index", "verify", "--index-dir", ix)
    assert verify.returncode == 0 and "is sound" in verify.stdout
    answer = run("ask", "How many loaves does the bakery bake a day?", "--index-dir", ix,
                 "--json", QA_MIN_CONFIDENCE="0.25")
    body = json.loads(answer.stdout)
    assert body["grounded"] and "800 loaves" in body["answer"]
    text = run("ask", "How many loaves does the bakery bake a day?", "--index-dir", ix,
               QA_MIN_CONFIDENCE="0.25")
    assert "[1] Bakery Wins National Bread Prize, 2024-03-05 (bakery" in text.stdout


def test_ask_json_is_what_the_api_returns(tmp_path, corpus_dir):
    """``qa ask --json`` prints the object ``POST /api/chat`` returns for the question."""
    ix = tmp_path / "ix"
    assert run("index", "build", str(corpus_dir), "--index-dir", str(ix)).returncode == 0
    question = "How many council seats did the Green Party win?"
    printed = run("ask", question, "--index-dir", str(ix), "--json", QA_MIN_CONFIDENCE="0.25")
    assert printed.returncode == 0, printed.stderr
    cli = json.loads(printed.stdout)
    with serve(ix, HashingEmbedder(256), min_confidence=0.25) as server:
        server.wait_ready()
        api = httpx.post(server.url + "/api/chat", json={
            "messages": [{"role": "user", "content": question}]}).json()
    assert set(cli) == set(api) >= {"answer", "grounded", "confidence", "citations",
                                    "passages", "index_version", "answer_id"}
    assert "text" not in cli and cli["grounded"] and "14 of the 40" in cli["answer"]
    assert (cli["answer"], cli["citations"]) == (api["answer"], api["citations"])
    assert cli == api  # the same answer, id and passages too: one schema, one code path


def test_default_sources_are_the_seeds(tmp_path):
    built = run("index", "build", "--index-dir", str(tmp_path / "ix"))
    assert built.returncode == 0, built.stderr
    assert "added 1" in built.stdout


def test_skipped_files_are_named(tmp_path, corpus_dir):
    (corpus_dir / "broken.json").write_text("{")
    built = run("index", "build", str(corpus_dir), "--index-dir", str(tmp_path / "ix"))
    assert built.returncode == 0
    assert "skipped" in built.stderr and "broken.json" in built.stderr
    assert "skipped 1 files or items" in built.stdout


@pytest.mark.parametrize("args, code, message", [
    (("index", "build", "does-not-exist"), 1, "no such file or folder"),
    (("index", "status"), 1, "no published index"),
    (("index", "verify"), 1, "no published index"),
    (("ask", "anything?"), 1, "no published index"),
    (("ask", "  "), 2, "empty"),
    (("ask",), 2, "Missing argument"),
    (("index", "build", "--bogus"), 2, "No such option"),
    (("frobnicate",), 2, "No such command"),
])
def test_failures_exit_non_zero_with_a_clear_line(tmp_path, args, code, message):
    result = run(*args, QA_INDEX_DIR=str(tmp_path / "none"))
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    if code == 1:
        assert len(result.stderr.strip().splitlines()) == 1


def test_model_mismatch_is_one_line(tmp_path):
    ix = str(tmp_path / "ix")
    assert run("index", "build", str(SEEDS), "--index-dir", ix).returncode == 0
    result = run("ask", "Who?", "--index-dir", ix, model="hashing-128")
    assert result.returncode == 1
    assert "built with model 'hashing-256'" in result.stderr


@pytest.mark.model
def test_ask_with_the_real_model(tmp_path):
    ix = str(tmp_path / "ix")
    assert run("index", "build", str(SEEDS), "--index-dir", ix, model="all-MiniLM-L6-v2"
               ).returncode == 0
    result = run("ask", "Who is the Russian ambassador in Kabul?", "--index-dir", ix,
                 model="all-MiniLM-L6-v2")
    assert result.returncode == 0, result.stderr
    assert "Dmitry Zhirnov" in result.stdout and "[1] Russia Evacuates" in result.stdout


def test_short_hashing_setting_builds_and_answers(tmp_path):
    ix = str(tmp_path / "ix")
    assert run("index", "build", str(SEEDS), "--index-dir", ix, model="hashing").returncode == 0
    result = run("ask", "Who is the ambassador?", "--index-dir", ix, model="hashing")
    assert result.returncode == 0, result.stderr


def test_build_can_publish_in_steps(tmp_path, corpus_dir):
    ix = str(tmp_path / "ix")
    built = run("index", "build", str(corpus_dir), "--index-dir", ix, "--publish-every", "2")
    assert built.returncode == 0, built.stderr
    assert "added 4, updated 0, removed 0, unchanged 0" in built.stdout
    assert len(list((tmp_path / "ix" / "builds").iterdir())) == 2  # steps of 2, then all 4
    refused = run("index", "build", str(corpus_dir), "--index-dir", ix, "--publish-every", "0")
    assert refused.returncode == 2 and "publish-every" in refused.stderr


def test_sync_can_publish_in_steps(tmp_path, corpus_dir):
    ix = str(tmp_path / "ix")
    synced = run("index", "sync", str(corpus_dir), "--index-dir", ix, "--every", "1s",
                 "--runs", "1", "--publish-every", "3")
    assert synced.returncode == 0, synced.stderr
    assert "added 4, updated 0, removed 0, unchanged 0" in synced.stderr
    assert len(list((tmp_path / "ix" / "builds").iterdir())) == 2  # 3, then all 4
    refused = run("index", "sync", str(corpus_dir), "--index-dir", ix, "--publish-every", "-1")
    assert refused.returncode == 2 and "publish-every" in refused.stderr


@pytest.mark.parametrize("args, named", [
    (("ask",), "question"),
    (("index", "build", "--bogus"), "--bogus"),
    (("ask", "Who?", "--top-k", "many"), "--top-k"),
    (("ask", "Who?", "--as-of", "2025-02-30"), "--as-of"),
    (("index", "nonsense"), "nonsense"),
])
def test_a_usage_error_is_one_line_and_exit_2(args, named):
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and named in lines[0]
    assert "--help" in lines[0]  # where to read more
    assert result.stdout == ""


def test_no_arguments_show_the_help():
    result = run()
    assert result.returncode == 2
    shown = result.stdout + result.stderr  # typer prints the help where it likes
    assert "Usage: qa" in shown and "index" in shown
    helped = run("--help")
    assert helped.returncode == 0 and "Usage: qa" in helped.stdout


def test_serve_on_ray_without_ray_is_one_line(tmp_path):
    # As where the ray extra is not installed: importing ray fails.
    blocked = ("import sys; sys.modules['ray'] = None; from service.cli import main; "
               "sys.argv = ['qa', 'serve', '--ray', '--replicas', '2']; main()")
    environment = {**os.environ, "QA_MODEL": "hashing-256", "HF_HUB_OFFLINE": "1",
                   "QA_INDEX_DIR": str(tmp_path / "none")}
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True,
                            env=environment, cwd=ROOT, timeout=300)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == "error: qa serve --ray needs Ray: pip install '.[ray]'"
