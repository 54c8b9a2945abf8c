"""The HTTP contract against a real uvicorn server on 127.0.0.1 (hashing embedder)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN, LiveServer, serve


def chat(server: LiveServer, body, **kwargs) -> httpx.Response:
    return httpx.post(server.url + "/api/chat", json=body, timeout=30, **kwargs)


def user(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}]}


def assert_error(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert fragment in error["message"]
    assert "Traceback" not in response.text


def test_chat_returns_the_contract(hashing_server):
    body = chat(hashing_server, user("How many council seats did the Green Party win?")).json()
    assert set(body) >= {"answer", "grounded", "confidence", "citations", "passages",
                         "index_version"}
    assert body["grounded"] and "14 of the 40" in body["answer"]
    citation = body["citations"][0]
    assert set(citation) >= {"n", "article_id", "title", "url", "published", "start", "end",
                             "quote"}
    passage = body["passages"][0]
    assert set(passage) >= {"article_id", "chunk_id", "title", "start", "end", "text", "score"}
    article = httpx.get(f"{hashing_server.url}/api/articles/{citation['article_id']}").json()
    assert article["text"][citation["start"] : citation["end"]] == citation["quote"]
    for p in body["passages"]:
        text = httpx.get(f"{hashing_server.url}/api/articles/{p['article_id']}").json()["text"]
        assert text[p["start"] : p["end"]] == p["text"]
        assert len(p["text"]) <= 1000


def test_chat_abstains_honestly(hashing_server):
    body = chat(hashing_server, user("Quantum chromodynamics gluon lattice?")).json()
    assert body["grounded"] is False and body["citations"] == []


def test_article_has_the_documented_fields(hashing_server):
    article = httpx.get(hashing_server.url + "/api/articles/flood").json()
    assert article["id"] == "flood"
    assert article["title"] == "Floods Hit the River Town"
    assert (article["url"], article["published"]) == ("https://news.example/flood", "2024-03-02")


def test_health_and_docs(hashing_server):
    assert httpx.get(hashing_server.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(hashing_server.url + "/readyz").json()
    assert ready["status"] == "ready" and ready["index_version"]
    assert httpx.get(hashing_server.url + "/docs").status_code == 200
    assert "/api/chat" in httpx.get(hashing_server.url + "/openapi.json").json()["paths"]


@pytest.mark.parametrize("body, status, fragment", [
    ({}, 422, "messages"),
    ({"messages": []}, 422, "messages"),
    ({"messages": "hello"}, 422, "messages"),
    ({"messages": [{"role": "user"}]}, 422, "content"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, 422, "role"),
    ({"messages": [{"role": "user", "content": 42}]}, 422, "content"),
    ({"messages": [{"role": "user", "content": "   "}]}, 422, "messages.0.content"),
    # Separators Python strips but Unicode's whitespace does not include: still blank.
    ({"messages": [{"role": "user", "content": "\x1f \x1c"}]}, 422, "messages.0.content"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, 400, "user message"),
    ({"messages": [{"role": "user", "content": "x" * 2001}]}, 422, "at most 2000"),
    ({"messages": [{"role": "user", "content": "hi"}], "top_k": 0}, 422, "top_k"),
    ({"messages": [{"role": "user", "content": "hi"}], "top_k": 21}, 422, "top_k"),
    ({"messages": [{"role": "user", "content": "hi"}], "top_k": "five"}, 422, "top_k"),
    ([1, 2, 3], 422, "object"),
])
def test_bad_chat_requests_get_a_clear_4xx(hashing_server, body, status, fragment):
    assert_error(chat(hashing_server, body), status, fragment)


def test_malformed_json_is_a_400(hashing_server):
    response = httpx.post(hashing_server.url + "/api/chat", content=b"{not json",
                          headers={"content-type": "application/json"})
    assert_error(response, 400, "not valid JSON")


def test_huge_body_is_a_413(hashing_server):
    response = httpx.post(hashing_server.url + "/api/chat", content=b"x" * (2 << 20),
                          headers={"content-type": "application/json"})
    assert_error(response, 413, "larger than")


def test_unknown_article_and_route_are_404(hashing_server):
    assert_error(httpx.get(hashing_server.url + "/api/articles/nope"), 404, "nope")
    assert_error(httpx.get(hashing_server.url + "/api/nothing-here"), 404, "Not Found")
    assert_error(httpx.get(hashing_server.url + "/api/chat"), 405, "Method Not Allowed")


def test_no_index_means_not_ready_not_a_crash(tmp_path, hashing):
    with serve(tmp_path / "empty-index", hashing) as server:
        assert httpx.get(server.url + "/healthz").status_code == 200
        ready = httpx.get(server.url + "/readyz")
        assert_error(ready, 503, "no published index")
        assert_error(chat(server, user("anything?")), 503, "not ready")
        assert_error(httpx.get(server.url + "/api/articles/x"), 503, "not ready")


def test_metrics_count_requests_by_route(fresh_server):
    chat(fresh_server, user("How many council seats did the Green Party win?"))
    httpx.get(fresh_server.url + "/api/articles/nope")
    text = httpx.get(fresh_server.url + "/metrics", headers=ADMIN).text
    assert 'qa_http_requests_total{route="/api/chat",status="200"} 1.0' in text
    assert 'route="/api/articles/{article_id:path}",status="404"' in text
    assert "qa_http_request_seconds_bucket" in text
