"""The OpenAI-compatible endpoint, driven by the real ``openai`` client, and native SSE."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.conftest import LiveServer, build, serve

QUESTION = "How many loaves does the Dunmore bakery bake a day?"


def client(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)


def test_models_lists_one_model(hashing_server):
    assert [m.id for m in client(hashing_server).models.list()] == ["qa"]


def test_plain_completion_keeps_citations(hashing_server):
    completion = client(hashing_server).chat.completions.create(
        model="qa", messages=[{"role": "system", "content": "Be brief."},
                              {"role": "user", "content": QUESTION}],
        temperature=0.2, max_tokens=50, top_p=0.9, user="someone")
    choice = completion.choices[0]
    assert completion.object == "chat.completion"
    assert choice.finish_reason == "stop"
    assert "800 loaves" in choice.message.content and "[1]" in choice.message.content
    citations = choice.message.model_extra["citations"]
    assert citations[0]["article_id"] == "bakery"
    assert set(citations[0]) == {"n", "article_id", "title", "url", "published", "start",
                                 "end", "quote", "source", "link", "also_in"}
    native = httpx.post(hashing_server.url + "/api/chat",
                        json={"messages": [{"role": "user", "content": QUESTION}]}).json()
    assert citations == native["citations"]
    assert completion.usage.total_tokens == (completion.usage.prompt_tokens
                                             + completion.usage.completion_tokens)


def test_streaming_completion(hashing_server):
    stream = client(hashing_server).chat.completions.create(
        model="qa", messages=[{"role": "user", "content": QUESTION}], stream=True)
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    citations = chunks[-1].model_extra["citations"]
    plain = client(hashing_server).chat.completions.create(
        model="qa", messages=[{"role": "user", "content": QUESTION}])
    assert text == plain.choices[0].message.content
    assert citations == plain.choices[0].message.model_extra["citations"]


def test_stream_ends_with_done(hashing_server):
    with httpx.stream("POST", hashing_server.url + "/v1/chat/completions", json={
            "model": "qa", "stream": True,
            "messages": [{"role": "user", "content": QUESTION}]}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert "citations" in json.loads(lines[-2].removeprefix("data: "))


def test_same_messages_same_bytes(hashing_server):
    body = {"model": "qa", "messages": [{"role": "user", "content": QUESTION}]}
    first = httpx.post(hashing_server.url + "/v1/chat/completions", json=body)
    second = httpx.post(hashing_server.url + "/v1/chat/completions", json=body)
    assert first.content == second.content
    assert first.json()["index_version"]


def test_content_parts_are_accepted(hashing_server):
    completion = client(hashing_server).chat.completions.create(
        model="qa", messages=[{"role": "user", "content": [{"type": "text", "text": QUESTION}]}])
    assert "800 loaves" in completion.choices[0].message.content


@pytest.mark.parametrize("messages, param", [
    ([{"role": "tool", "content": "x", "tool_call_id": "1"}], "messages.0.role"),
    ([{"role": "user", "content": ""}], "messages.0.content"),
    ([{"role": "system", "content": "be brief"}, {"role": "user", "content": "   "}],
     "messages.1.content"),
    ([{"role": "assistant", "content": "hi"}], "messages"),
    ([{"role": "user", "content": "x" * 2001}], "messages.0.content"),
])
def test_bad_requests_get_openai_errors(hashing_server, messages, param):
    with pytest.raises(openai.BadRequestError) as exc:
        client(hashing_server).chat.completions.create(model="qa", messages=messages)
    error = exc.value.response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param and error["type"] == "invalid_request_error"


def test_schema_errors_are_400_in_openai_shape(hashing_server):
    for body in ({}, {"messages": []}, {"messages": "x"}, {"messages": [{"content": "x"}]}):
        response = httpx.post(hashing_server.url + "/v1/chat/completions", json=body)
        assert response.status_code == 400, body
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    response = httpx.post(hashing_server.url + "/v1/chat/completions", content=b"{oops",
                          headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_native_stream_events(hashing_server):
    with httpx.stream("POST", hashing_server.url + "/api/chat", json={
            "stream": True, "messages": [{"role": "user", "content": QUESTION}]}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()
    events = []
    for block in raw.strip().split("\n\n"):
        name, data = block.split("\n", 1)
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    names = [n for n, _ in events]
    assert names[0] == "passages" and names[-2:] == ["citations", "done"]
    assert set(names[1:-2]) == {"delta"}
    done = events[-1][1]
    assert "".join(d["text"] for n, d in events if n == "delta") == done["answer"]
    assert events[-2][1]["citations"] == done["citations"]
    assert events[0][1]["passages"] == done["passages"]


@pytest.mark.model
def test_follow_up_with_the_real_model_through_openai(tmp_path, corpus_dir, real_model):
    build(tmp_path / "ix", real_model, corpus_dir)
    # "How many of them were students?" fits two stories (300 evacuated students, 5,000
    # registered ones) about equally well alone; after a question about one of them, it
    # must be answered from that one.
    openers = {"election": ("How many council seats did the Green Party win in Harlow?",
                            "14 of the 40", "5,000"),
               "flood": ("How many residents were evacuated from Elmswick?", "1,200", "300")}
    with serve(tmp_path / "ix", real_model) as server:
        server.wait_ready()
        api = client(server)
        for story, (question, first_fact, follow_fact) in openers.items():
            first = [{"role": "user", "content": question}]
            answer = api.chat.completions.create(model="qa", messages=first).choices[0].message
            assert first_fact in answer.content
            follow = api.chat.completions.create(model="qa", messages=[
                *first, {"role": "assistant", "content": answer.content},
                {"role": "user", "content": "How many of them were students?"}]).choices[0].message
            assert follow.model_extra["citations"][0]["article_id"] == story
            assert follow_fact in follow.content
