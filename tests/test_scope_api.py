"""as_of, time windows and filters through the HTTP APIs and the CLI, against a real
server over a real index (hashing embedder)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer, build, engine_for, serve, write_stories
from tests.test_cli import run

# Two budget stories of one town months apart, a later one after every as_of used below,
# a story of another site, and an undated one.
SCOPED = [
    {"id": "budget-jan", "title": "Council Approves Budget", "published": "2025-01-10",
     "url": "https://www.town.example/budget-jan", "source": "Town Herald",
     "text": "The Elmswick council approved a budget of 40 million euros on Thursday. "
             "Most of the money goes to schools and roads."},
    {"id": "budget-mar", "title": "Council Approves Revised Budget", "published": "2025-03-10",
     "url": "https://www.town.example/budget-mar", "source": "Town Herald",
     "text": "The Elmswick council approved a revised budget of 46 million euros on Monday. "
             "Most of the extra money goes to flood defences."},
    {"id": "budget-future", "title": "Council Approves Next Budget", "published": "2025-09-01",
     "url": "https://www.town.example/budget-future", "source": "Town Herald",
     "text": "The Elmswick council approved a budget of 51 million euros for next year. "
             "Most of the money goes to housing."},
    {"id": "ferry", "title": "Ferry Service Resumes", "published": "2025-02-02",
     "url": "https://www.coast.example/ferry",
     "text": "The ferry between Elmswick and Dunmore resumed service after repairs. "
             "Tickets cost 12 euros and the crossing takes 40 minutes."},
    {"id": "undated", "title": "About the Elmswick Budget Office",
     "text": "The Elmswick budget office publishes every council budget and answers "
             "questions from residents about how the money is spent."},
]


def ask(server: LiveServer, question: str, route: str = "/api/chat", **extra) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": question}], **extra}
    return httpx.post(server.url + route, json=body, timeout=30)


def cited_and_shown(body: dict) -> set[str]:
    return ({p["article_id"] for p in body["passages"]}
            | {c["article_id"] for c in body["citations"]})


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, hashing) -> Path:
    folder = tmp_path_factory.mktemp("scoped")
    build(folder / "index", hashing, write_stories(folder / "corpus", SCOPED))
    return folder / "index"


@pytest.fixture(scope="module")
def server(index_dir, hashing) -> Iterator[LiveServer]:
    with serve(index_dir, hashing, min_confidence=0.0) as live:
        live.wait_ready()
        yield live


@pytest.mark.parametrize("as_of", ["2025-01-11", "2025-03-11", "2025-06-30"])
def test_later_articles_are_never_retrieved_cited_or_shown(server, as_of):
    for question in ("How large was the Elmswick council budget?",
                     "Council approves next budget housing 51 million"):
        body = ask(server, question, as_of=as_of, top_k=20).json()
        assert body["as_of"] == as_of
        shown = cited_and_shown(body)
        assert "budget-future" not in shown
        if as_of < "2025-03-10":
            assert "budget-mar" not in shown
        assert "undated" in {p["article_id"] for p in body["passages"]}  # undated stays


def test_without_as_of_everything_up_to_today_is_searched(server):
    body = ask(server, "Council approves next budget housing 51 million", top_k=20).json()
    assert "budget-future" in cited_and_shown(body)


def test_the_time_window_prefers_that_period(server):
    asked = {"as_of": "2025-03-12", "top_k": 3}
    recent = ask(server, "What budget did the Elmswick council approve this week?",
                 **asked).json()
    assert recent["passages"][0]["article_id"] == "budget-mar"
    earlier = ask(server, "What budget did the Elmswick council approve in January?",
                  **asked).json()
    assert earlier["passages"][0]["article_id"] == "budget-jan"


def test_filters_narrow_inside_retrieval(server):
    by_source = ask(server, "How much does the ferry ticket cost?", top_k=20,
                    filters={"sources": ["town herald"]}).json()
    assert by_source["passages"] and cited_and_shown(by_source) <= {
        "budget-jan", "budget-mar", "budget-future"}
    by_site = ask(server, "How much did the budget grow?", top_k=20,
                  filters={"sources": ["coast.example"]}).json()
    assert cited_and_shown(by_site) == {"ferry"}
    # A filter never starves the answer: an article that ranks last unfiltered still fills
    # the passages when it is the only one allowed.
    only = ask(server, "How large was the Elmswick council budget?", top_k=5,
               filters={"article_ids": ["ferry"]}).json()
    assert only["passages"] and cited_and_shown(only) == {"ferry"}


def test_date_filters_are_inclusive_and_exclude_undated(server):
    body = ask(server, "How large was the Elmswick council budget?", top_k=20,
               filters={"published_after": "2025-01-10", "published_before": "2025-03-10"}
               ).json()
    assert cited_and_shown(body) <= {"budget-jan", "budget-mar", "ferry"}
    assert {"budget-jan", "budget-mar"} <= cited_and_shown(body)


@pytest.mark.parametrize("extra", [
    {"filters": {"sources": ["no such paper"]}},
    {"filters": {"article_ids": ["no-such-id"]}},
    {"filters": {"published_after": "2025-03-11", "sources": ["coast.example"]}},
    {"as_of": "2024-12-31", "filters": {"published_after": "2024-01-01"}},
])
def test_a_filter_matching_nothing_abstains_and_says_so(server, extra):
    for route in ("/api/chat", "/v1/chat/completions"):
        body = ask(server, "How large was the Elmswick council budget?", route, **extra).json()
        assert body["grounded"] is False and body["reason"] == "no_matching_articles"
        if route == "/api/chat":
            assert body["passages"] == [] and body["citations"] == []
        else:
            assert body["choices"][0]["message"]["citations"] == []


@pytest.mark.parametrize("extra, param", [
    ({"as_of": "2025-02-30"}, "as_of"),
    ({"as_of": "March 3"}, "as_of"),
    ({"as_of": 20250303}, "as_of"),
    ({"filters": {"published_before": "2025-13-01"}}, "filters.published_before"),
    ({"filters": {"topic": "sports"}}, "filters.topic"),
    ({"filters": {"sources": "cnn.com"}}, "filters.sources"),
])
def test_malformed_dates_and_filters_are_400_naming_the_field(server, extra, param):
    for route in ("/api/chat", "/v1/chat/completions"):
        response = ask(server, "How large was the budget?", route, **extra)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param


def test_openai_endpoint_takes_the_same_fields(server):
    body = ask(server, "Council approves next budget housing 51 million",
               "/v1/chat/completions", as_of="2025-03-11",
               filters={"sources": ["Town Herald"]}).json()
    assert body["as_of"] == "2025-03-11"
    for citation in body["choices"][0]["message"]["citations"]:
        assert citation["article_id"] in {"budget-jan", "budget-mar"}


def test_an_article_by_id_honours_as_of(server):
    url = server.url + "/api/articles/budget-future"
    assert httpx.get(url, timeout=10).status_code == 200  # no as_of: any article by id
    assert httpx.get(url, params={"as_of": "2025-09-01"}, timeout=10).status_code == 200
    later = httpx.get(url, params={"as_of": "2025-08-31"}, timeout=10)
    assert later.status_code == 404 and "published by 2025-08-31" in later.json()["error"][
        "message"]
    undated = httpx.get(server.url + "/api/articles/undated", params={"as_of": "2000-01-01"},
                        timeout=10)
    assert undated.status_code == 200  # undated articles stay visible
    for day in ("2025-02-30", "tomorrow"):
        bad = httpx.get(url, params={"as_of": day}, timeout=10)
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "as_of"


def test_engine_mask_and_lexical_constraint_agree(index_dir, hashing):
    """Dense and lexical candidates both respect the scope (not one of them only)."""
    from qa.scope import parse_scope

    engine = engine_for(index_dir, hashing)
    scope = parse_scope("2025-06-30", {"sources": ["Town Herald"]})
    for question in ("ferry tickets euros crossing", "budget office residents"):
        answer = engine.answer([_user(question)], top_k=20, scope=scope)
        assert {p.article_id for p in answer.passages} <= {"budget-jan", "budget-mar"}


def _user(text: str):
    from qa.types import Message

    return Message("user", text)


def test_cli_ask_takes_as_of_and_filters(index_dir):
    def ask_cli(*args: str) -> subprocess.CompletedProcess:
        return run("ask", *args, "--index-dir", str(index_dir), QA_MIN_CONFIDENCE="0")

    done = ask_cli("Council approves next budget housing 51 million", "--as-of", "2025-03-11",
                   "--source", "Town Herald", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["as_of"] == "2025-03-11"
    assert {p["article_id"] for p in body["passages"]} <= {"budget-jan", "budget-mar"}
    bad = ask_cli("How large?", "--as-of", "2025-02-30")
    assert bad.returncode == 2 and "--as-of" in bad.stderr
    none = ask_cli("How large?", "--article-id", "nope")
    assert none.returncode == 0 and "no article matches" in none.stdout
