"""End to end with the real model: the seed article over a real uvicorn server."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SEEDS, build, serve

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def server(tmp_path_factory, real_model):
    index_dir = tmp_path_factory.mktemp("e2e") / "index"
    build(index_dir, real_model, SEEDS)
    with serve(index_dir, real_model) as live:
        live.wait_ready()
        yield live


def ask(server, question: str) -> dict:
    response = httpx.post(server.url + "/api/chat", timeout=30,
                          json={"messages": [{"role": "user", "content": question}]})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("question, fact", [
    ("How much humanitarian aid was sent?", "36 metric tons"),
    ("How many people will the returning planes carry?", "380"),
    ("Who is the Russian ambassador in Kabul?", "Dmitry Zhirnov"),
    ("How many Afghan students signed up for the evacuation?", "900"),
])
def test_seed_facts_are_answered_and_cited_exactly(server, question, fact):
    body = ask(server, question)
    assert body["grounded"] is True
    assert fact in body["answer"]
    assert body["citations"], body
    for citation in body["citations"]:
        article = httpx.get(f"{server.url}/api/articles/{citation['article_id']}").json()
        assert article["text"][citation["start"] : citation["end"]] == citation["quote"]
        assert citation["published"] == "2021-11-18"
        assert fact in citation["quote"]
    for passage in body["passages"]:
        article = httpx.get(f"{server.url}/api/articles/{passage['article_id']}").json()
        assert article["text"][passage["start"] : passage["end"]] == passage["text"]


@pytest.mark.parametrize("question", [
    "What is the capital of France?",
    "Who won the 2018 football World Cup?",
    "How do I bake sourdough bread?",
])
def test_unrelated_questions_abstain(server, question):
    body = ask(server, question)
    assert body["grounded"] is False
    assert body["citations"] == []
    assert body["confidence"] < 0.5
