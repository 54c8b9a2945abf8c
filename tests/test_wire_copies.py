"""Wire copies: the same story on several sites (edited a little) is found at build time,
answered from once, and the citation lists the other copies."""

from __future__ import annotations

import httpx
import pytest

from index.copies import copy_groups
from tests.conftest import build, serve, write_stories

WIRE = ("ELMSWICK (AP) — Rescue crews pulled 14 people from a collapsed parking garage in "
        "Elmswick on Tuesday after part of its upper deck gave way during the morning rush, "
        "officials said. The fire chief, Marta Lund, said nine of the injured were taken to "
        "the regional hospital and that search dogs had checked every level of the building. "
        "Engineers will inspect three other garages built by the same company, the city said, "
        "and the owner faces questions about repairs it postponed last year. Traffic around "
        "the site was diverted for the rest of the day while cranes removed the debris.")
OTHER = ("The Elmswick city council voted on Tuesday to build two new parking garages near "
         "the station, after a long debate about traffic, costs and the future of the old "
         "market square. The mayor said construction would start next spring and that the "
         "garages would have charging points for electric cars and space for bicycles. "
         "Opponents said the money should go to buses instead and promised a petition.")


def copies_of_the_story() -> list[dict]:
    edited = WIRE.replace("ELMSWICK (AP) — ", "").replace("during the morning rush",
                                                           "at about 8 a.m.")
    return [
        {"id": "herald", "title": "Garage collapses in Elmswick", "published": "2025-05-06",
         "url": "https://herald.example/garage", "text": WIRE},
        {"id": "tribune", "title": "14 rescued as garage deck gives way",
         "published": "2025-05-06", "url": "https://tribune.example/news/garage",
         "text": edited + "\n\nRead more: local news from Elmswick and Dunmore."},
        {"id": "gazette", "title": "Garage collapse: crews rescue 14", "published": "2025-05-07",
         "url": "https://www.gazette.example/garage", "text": WIRE + " Copyright AP."},
        {"id": "council", "title": "Council approves garages", "published": "2025-05-01",
         "url": "https://herald.example/council", "text": OTHER},
    ]


def test_edited_copies_group_and_other_stories_do_not():
    stories = copies_of_the_story()
    groups = copy_groups([s["text"] for s in stories])
    assert groups == {0: 0, 1: 0, 2: 0}
    # A stricter threshold keeps the near-identical copy, not the edited one.
    assert copy_groups([s["text"] for s in stories], threshold=0.99) == {0: 0, 2: 0}
    assert copy_groups(["too short to call a copy"] * 3) == {}


@pytest.fixture(scope="module")
def server(tmp_path_factory, hashing):
    folder = tmp_path_factory.mktemp("wire")
    report = build(folder / "ix", hashing, write_stories(folder / "src", copies_of_the_story()))
    assert (report.copies, report.copy_groups) == (2, 1)
    assert "2 wire copies of 1 stories" in report.summary()
    with serve(folder / "ix", hashing, min_confidence=0.0) as live:
        live.wait_ready()
        yield live


def ask(server, question: str, **extra) -> dict:
    return httpx.post(server.url + "/api/chat", timeout=30, json={
        "messages": [{"role": "user", "content": question}], "top_k": 5, **extra}).json()


def test_one_copy_answers_and_the_others_are_listed(server):
    body = ask(server, "How many people did rescue crews pull from the collapsed garage?")
    shown = [p["article_id"] for p in body["passages"]]
    copies = {"herald", "tribune", "gazette"}
    assert len(set(shown) & copies) == 1, shown  # one copy per story in the passages
    citation = body["citations"][0]
    assert citation["article_id"] in copies
    also = {c["id"]: c for c in citation["also_in"]}
    assert set(also) == copies - {citation["article_id"]}
    for ref in also.values():
        assert set(ref) == {"id", "url", "source", "published"} and ref["url"]


def test_copies_published_after_as_of_are_not_listed(server):
    body = ask(server, "How many people did rescue crews pull from the collapsed garage?",
               as_of="2025-05-06")
    citation = body["citations"][0]
    assert "gazette" not in {c["id"] for c in citation["also_in"]}
    assert "gazette" not in {p["article_id"] for p in body["passages"]}
