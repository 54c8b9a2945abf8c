"""The MCP server end to end with the SDK's own client: Streamable HTTP at /mcp on a real
server, and ``qa mcp`` over stdio."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from service.schemas import ChatResponse
from tests.conftest import build, serve, write_stories
from tests.test_cli import QA

QUESTION = "How many loaves does the bakery bake a day?"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, hashing) -> Path:
    folder = tmp_path_factory.mktemp("mcp")
    build(folder / "index", hashing, write_stories(folder / "corpus"))
    return folder / "index"


async def exercise(client: Client) -> dict:
    """Every tool and the resource, as an assistant would call them."""
    tools = {t.name for t in (await client.list_tools()).tools}
    answered = (await client.call_tool("answer", {"question": QUESTION})).structured_content
    searched = (await client.call_tool("search_articles", {
        "query": "students evacuated", "k": 3,
        "filters": {"published_before": "2024-03-03"}})).structured_content
    citation = answered["citations"][0]
    span = (await client.call_tool("get_article", {
        "id": citation["article_id"], "start": citation["start"],
        "end": citation["end"]})).structured_content
    whole = (await client.call_tool("get_article", {"id": "flood"})).structured_content
    missing = await client.call_tool("get_article", {"id": "no-such-article"})
    # The flood story was published on 2024-03-02: not yet there the day before.
    early = await client.call_tool("get_article", {"id": "flood", "as_of": "2024-03-01"})
    bad_date = await client.call_tool("answer", {"question": QUESTION, "as_of": "2024-02-30"})
    nothing = (await client.call_tool("answer", {
        "question": QUESTION, "filters": {"sources": ["nobody"]}})).structured_content
    sources = await client.read_resource("articles://sources")
    return {"tools": tools, "answered": answered, "searched": searched, "span": span,
            "whole": whole, "missing": missing, "early": early, "bad_date": bad_date,
            "nothing": nothing,
            "sources": json.loads(sources.contents[0].text)}


def check(seen: dict) -> None:
    assert seen["tools"] == {"search_articles", "answer", "get_article"}
    answered = seen["answered"]
    assert answered["grounded"] and "800 loaves" in answered["answer"]
    assert answered["answer_id"].startswith("ans_")
    # The fields of POST /api/chat, by the same names (the passages are search_articles').
    assert set(answered) == set(ChatResponse.model_fields) - {"passages"}
    citation = answered["citations"][0]
    assert seen["span"]["text"] == citation["quote"]  # offsets mean the same characters
    passages = seen["searched"]["passages"]
    assert passages and {p["article_id"] for p in passages} == {"flood"}
    assert all(p["url"] and p["published"] <= "2024-03-03" for p in passages)
    assert seen["whole"]["title"] == "Floods Hit the River Town"
    assert seen["missing"].is_error and "no-such-article" in seen["missing"].content[0].text
    assert seen["early"].is_error and "published by 2024-03-01" in seen["early"].content[0].text
    assert seen["bad_date"].is_error and "as_of" in seen["bad_date"].content[0].text
    assert seen["nothing"]["grounded"] is False
    assert seen["nothing"]["reason"] == "no_matching_articles"
    assert {s["source"]: s["articles"] for s in seen["sources"]} == {"news.example": 3}


def test_mcp_over_streamable_http(index_dir, hashing, tmp_path):
    with serve(index_dir, hashing, min_confidence=0.25, data_dir=tmp_path / "data") as server:
        server.wait_ready()
        check(asyncio.run(_over(server.url + "/mcp")))
        # The MCP answer was kept in the journal like any other question.
        report = httpx.get(server.url + "/metrics").status_code  # /metrics stays guarded
        assert report == 403
    from service.journal import Journal

    journal = Journal(tmp_path / "data")
    assert any(a.question == QUESTION for a in journal.asked_since(0))


async def _over(url: str) -> dict:
    async with Client(url) as client:
        return await exercise(client)


def test_mcp_over_stdio(index_dir, tmp_path):
    env = {**os.environ, "QA_MODEL": "hashing-256", "QA_MIN_CONFIDENCE": "0.25",
           "QA_DATA_DIR": str(tmp_path / "data")}
    params = StdioServerParameters(command=QA, args=["mcp", "--index-dir", str(index_dir)],
                                   env=env)

    async def run() -> dict:
        async with Client(params) as client:
            return await exercise(client)

    check(asyncio.run(run()))
    assert (tmp_path / "data" / "journal.sqlite").is_file()


def test_mcp_over_stdio_serves_a_newly_published_build(tmp_path, hashing):
    stories = write_stories(tmp_path / "corpus")
    build(tmp_path / "index", hashing, stories)
    env = {**os.environ, "QA_MODEL": "hashing-256", "QA_RELOAD_INTERVAL": "0.1",
           "QA_DATA_DIR": str(tmp_path / "data")}
    params = StdioServerParameters(command=QA, args=["mcp", "--index-dir",
                                                     str(tmp_path / "index")], env=env)
    late = {"id": "late", "title": "Late Story", "published": "2024-03-06",
            "text": "A late story arrived after the server had started."}

    async def run() -> tuple[bool, dict]:
        async with Client(params) as client:
            before = await client.call_tool("get_article", {"id": "late"})
            (stories / "late.json").write_text(json.dumps(late))
            build(tmp_path / "index", hashing, stories)  # published while it runs
            for _ in range(100):
                found = await client.call_tool("get_article", {"id": "late"})
                if not found.is_error:
                    return before.is_error, found.structured_content
                await asyncio.sleep(0.1)
            return before.is_error, {}

    missing_before, found = asyncio.run(run())
    assert missing_before
    assert found.get("title") == "Late Story"
