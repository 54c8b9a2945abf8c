"""For the people who run it: answer ids and feedback, the journal across restarts, the gap
report, API keys and rate limits, request ids. Real servers, the real SQLite journal."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN, ADMIN_KEY, build, serve, write_stories

QUESTION = "How many loaves does the bakery bake a day?"
MISSING = ["What is the capital of Atlantis?", "what is the capital of atlantis",
           "What's the capital city of Atlantis?", "Who won the 1930 chess olympiad?"]


def chat(url: str, question: str, **kwargs) -> httpx.Response:
    return httpx.post(url + "/api/chat", timeout=30, **kwargs,
                      json={"messages": [{"role": "user", "content": question}]})


@pytest.fixture
def index_dir(tmp_path, hashing) -> Path:
    build(tmp_path / "index", hashing, write_stories(tmp_path / "corpus"))
    return tmp_path / "index"


def test_feedback_and_report_survive_a_restart(index_dir, hashing, tmp_path):
    settings = {"min_confidence": 0.25, "admin_key": ADMIN_KEY, "data_dir": tmp_path / "data"}
    with serve(index_dir, hashing, **settings) as server:
        server.wait_ready()
        answered = chat(server.url, QUESTION).json()
        assert answered["grounded"] and answered["answer_id"].startswith("ans_")
        again = chat(server.url, QUESTION).json()
        assert again["answer_id"] == answered["answer_id"]  # same question, same answer
        for question in MISSING:
            assert chat(server.url, question).json()["grounded"] is False
        rated = httpx.post(server.url + "/api/feedback", json={
            "answer_id": answered["answer_id"], "rating": "down", "comment": "too vague"})
        assert rated.status_code == 200 and rated.json()["status"] == "recorded"
        unknown = httpx.post(server.url + "/api/feedback",
                             json={"answer_id": "ans_nope", "rating": "up"})
        assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "answer_id"
        bad = httpx.post(server.url + "/api/feedback",
                         json={"answer_id": answered["answer_id"], "rating": "meh"})
        assert bad.status_code == 422 and "rating" in bad.json()["error"]["message"]
    # A restart (a new app over the same data directory) loses nothing.
    with serve(index_dir, hashing, **settings) as server:
        server.wait_ready()
        refused = httpx.get(server.url + "/api/admin/report")
        assert refused.status_code == 401
        report = httpx.get(server.url + "/api/admin/report", params={"since": "1d"},
                           headers=ADMIN).json()
        assert report["questions"] == 2 + len(MISSING) and report["abstained"] == len(MISSING)
        counts = {g["question"]: g["count"] for g in report["gaps"]}
        # The two spellings of one question are one group; the chess question its own.
        assert counts["Who won the 1930 chess olympiad?"] == 1
        assert sum(counts.values()) == len(MISSING) and len(counts) <= 3
        assert report["rated_down"] == [{"answer_id": answered["answer_id"],
                                         "question": QUESTION, "comment": "too vague",
                                         "at": report["rated_down"][0]["at"]}]
        bad_since = httpx.get(server.url + "/api/admin/report", params={"since": "lately"},
                              headers=ADMIN)
        assert bad_since.status_code == 400 and bad_since.json()["error"]["param"] == "since"
        huge = httpx.get(server.url + "/api/admin/report", params={"since": "9999999999d"},
                         headers=ADMIN)
        assert huge.status_code == 400  # not an overflow in date arithmetic
    journal = (tmp_path / "data" / "journal.sqlite")
    assert journal.is_file() and not str(journal).startswith(str(index_dir))


def test_qa_report_prints_the_same(index_dir, hashing, tmp_path):
    from tests.test_cli import run

    with serve(index_dir, hashing, data_dir=tmp_path / "data") as server:
        server.wait_ready()
        for question in MISSING:
            chat(server.url, question)
    shown = run("report", "--since", "7d", QA_DATA_DIR=str(tmp_path / "data"))
    assert shown.returncode == 0, shown.stderr
    assert "Who won the 1930 chess olympiad?" in shown.stdout
    as_json = json.loads(run("report", "--json", QA_DATA_DIR=str(tmp_path / "data")).stdout)
    assert as_json["abstained"] == len(MISSING)
    bad = run("report", "--since", "lately", QA_DATA_DIR=str(tmp_path / "data"))
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_the_journal_keeps_no_address_and_honours_retention(tmp_path):
    from qa.types import Answer
    from service.journal import Journal

    journal = Journal(tmp_path, retention_days=1)
    journal.record("ans_1", "q?", Answer("x", False, 0.1, index_version="b"), 3.0, "api")
    journal._conn.execute("UPDATE questions SET at = at - 2 * 86400")
    journal._conn.commit()
    journal.record("ans_2", "q2?", Answer("y", True, 0.9, index_version="b"), 3.0, "api")
    assert journal.prune() == 1 and not journal.knows("ans_1") and journal.knows("ans_2")
    columns = [r[1] for r in journal._conn.execute("PRAGMA table_info(questions)")]
    assert not any("ip" in c or "client" in c or "address" in c for c in columns)
    assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_api_keys_guard_the_public_endpoints(index_dir, hashing, tmp_path):
    keys = "first-key-000000000000,second-key-11111111111"
    with serve(index_dir, hashing, api_keys=keys, allowed_origins="https://paper.example",
               data_dir=tmp_path / "data") as server:
        server.wait_ready()
        missing = chat(server.url, QUESTION)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["error"]["type"] == "authentication_error"
        wrong = chat(server.url, QUESTION, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        for key in keys.split(","):
            ok = chat(server.url, QUESTION, headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200
        openai = httpx.post(server.url + "/v1/chat/completions", json={
            "messages": [{"role": "user", "content": QUESTION}]})
        assert openai.status_code == 401
        # The widget on an allowed origin needs no key; another origin does.
        widget = chat(server.url, QUESTION, headers={"Origin": "https://paper.example"})
        assert widget.status_code == 200
        assert widget.headers["access-control-allow-origin"] == "https://paper.example"
        other = chat(server.url, QUESTION, headers={"Origin": "https://evil.example"})
        assert other.status_code == 401
        # Health, readiness and the widget itself stay open.
        for path in ("/healthz", "/readyz", "/widget.js"):
            assert httpx.get(server.url + path).status_code == 200


def test_rate_limit_gives_429_with_retry_after_and_recovers(index_dir, hashing, tmp_path):
    key_a = {"Authorization": "Bearer key-a-000000000000000"}
    key_b = {"Authorization": "Bearer key-b-000000000000000"}
    with serve(index_dir, hashing, rate_limit="3/2second", admin_key=ADMIN_KEY,
               api_keys="key-a-000000000000000,key-b-000000000000000",
               data_dir=tmp_path / "data") as server:
        server.wait_ready()
        statuses = [chat(server.url, QUESTION, headers=key_a).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = chat(server.url, QUESTION, headers=key_a)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 2
        assert limited.json()["error"]["type"] == "rate_limit_error"
        assert chat(server.url, QUESTION, headers=key_b).status_code == 200  # per key
        time.sleep(int(limited.headers["retry-after"]) + 0.2)
        assert chat(server.url, QUESTION, headers=key_a).status_code == 200  # recovered
        metrics = httpx.get(server.url + "/metrics", headers=ADMIN).text
        assert 'qa_http_rejected_total{reason="rate_limited"} 2.0' in metrics


def test_rate_limit_by_address_trusts_only_named_proxies(index_dir, hashing, tmp_path):
    def spoofed(forwarded: str) -> int:
        return chat(server.url, QUESTION,
                    headers={"X-Forwarded-For": forwarded}).status_code

    with serve(index_dir, hashing, rate_limit="2/minute", data_dir=tmp_path / "data") as server:
        server.wait_ready()
        # 127.0.0.1 is not a trusted proxy: a forged header does not make a new client.
        assert [spoofed(f"10.0.0.{i}") for i in range(3)] == [200, 200, 429]
    with serve(index_dir, hashing, rate_limit="2/minute", trusted_proxies="127.0.0.1/32",
               data_dir=tmp_path / "data2") as server:
        server.wait_ready()
        assert [spoofed("10.0.0.1") for _ in range(3)] == [200, 200, 429]
        assert spoofed("10.0.0.2") == 200  # behind the trusted proxy: each client its own


def test_every_response_has_a_request_id(index_dir, hashing, tmp_path):
    with serve(index_dir, hashing, data_dir=tmp_path / "data") as server:
        server.wait_ready()
        first = chat(server.url, QUESTION).headers["x-request-id"]
        second = httpx.get(server.url + "/healthz").headers["x-request-id"]
        assert first != second and len(first) == 32
        kept = httpx.get(server.url + "/healthz", headers={"X-Request-ID": "trace-42"})
        assert kept.headers["x-request-id"] == "trace-42"
        forged = httpx.get(server.url + "/healthz", headers={"X-Request-ID": "a b\"<>"})
        assert forged.headers["x-request-id"] != "a b\"<>"


def test_qa_serve_logs_one_json_line_per_request(index_dir, tmp_path):
    import os

    from bench.served import served
    from tests.conftest import free_port

    env = {**os.environ, "QA_MODEL": "hashing-256", "QA_DATA_DIR": str(tmp_path / "data"),
           "QA_MIN_CONFIDENCE": "0.25"}
    with (tmp_path / "server.log").open("w") as log_file, \
            served(index_dir, env, free_port(), log_file) as (url, _):
        request_id = chat(url, QUESTION).headers["x-request-id"]
    lines = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines()
             if line.strip()]  # every line is JSON (uvicorn's own included)
    mine = [line for line in lines if line.get("request_id") == request_id]
    assert len(mine) == 1
    entry = mine[0]
    assert entry["route"] == "/api/chat" and entry["status"] == 200
    assert entry["grounded"] is True and entry["index_version"] and entry["latency_ms"] > 0
    assert "question" not in entry and QUESTION not in json.dumps(lines)
