"""``qa eval news`` on a small generated news set: the protocol (as of the day after each
quiz), the metrics, and reuse of its index (a second run embeds nothing)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench.news_knobs import config_of, knobs_of
from qa.retriever import RetrievalConfig
from tests.test_cli import run

ARTICLES = [
    {"id": "p1", "title": "Mayor Elected", "url": "https://a.example/p1",
     "published": "2025-01-08",
     "text": "Voters in Elmswick elected Ines Varga as mayor on Tuesday with 61 percent."},
    {"id": "p2", "title": "Mayor Re-elected", "url": "https://a.example/p2",
     "published": "2025-02-20",
     "text": "Voters in Elmswick re-elected Ines Varga as mayor after a recount."},
    {"id": "p3", "title": "Bakery Prize", "url": "https://b.example/p3",
     "published": "2025-01-05",
     "text": "A bakery in Dunmore won the national sourdough prize. It bakes 800 loaves a day."},
]
QUESTIONS = [
    # Asked as of 2025-01-10: the later page p2 must not be used.
    {"id": "20250109_1", "question": "Who did Elmswick voters elect as mayor this week?",
     "question_date": "2025-01-09", "answers": ["Ines Varga"], "choices": [],
     "answer_articles": ["p1"], "retrieved_articles": ["p1", "p2"], "source": "CNN"},
    {"id": "20250109_2", "question": "How many loaves does the Dunmore bakery bake a day?",
     "question_date": "2025-01-09", "answers": ["800"], "choices": [],
     "answer_articles": ["p3"], "retrieved_articles": ["p3"], "source": "CNN"},
    {"id": "20240101_1", "question": "Not in the quick loop?", "question_date": "2024-01-01",
     "answers": ["x"], "choices": [], "answer_articles": [], "retrieved_articles": [],
     "source": "CNN"},
]


def news_set(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n")
    with gzip.open(folder / "quick-articles.jsonl.gz", "wt", encoding="utf-8") as out:
        out.write("\n".join(json.dumps(a) for a in ARTICLES) + "\n")
    return folder


def test_eval_news_scores_and_reuses_its_index(tmp_path):
    folder = news_set(tmp_path / "news")
    args = ("eval", "news", str(folder), "--quick", "--index-dir", str(tmp_path / "ix"))
    first = run(*args, QA_MIN_CONFIDENCE="0")
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["n"] == 2 and result["set"] == "quick"  # the 2024 question is left out
    assert result["index_articles"] == 3 and result["embedded_texts"] > 0
    assert result["hit1"] == 1.0 and result["article_hit5"] == 1.0
    assert 0.0 <= result["answer_accuracy"] <= 1.0 and result["abstention_rate"] == 0.0
    # What the confidence means: calibration error and the surest half's precision.
    assert 0.0 <= result["ece"] <= 1.0 and 0.0 <= result["confident_half_precision"] <= 1.0
    second = run(*args, "--output", str(tmp_path / "out.json"), QA_MIN_CONFIDENCE="0")
    again = json.loads(second.stdout)
    assert again["embedded_texts"] == 0 and "unchanged" in again["build"]
    assert again["index_version"] == result["index_version"]
    assert json.loads((tmp_path / "out.json").read_text())["hit1"] == result["hit1"]


def test_the_protocol_asks_as_of_the_day_after_the_quiz(tmp_path):
    from bench.news import ask_all, load_questions
    from index.embedder import HashingEmbedder
    from tests.conftest import build, engine_for

    folder = news_set(tmp_path / "news")
    embedder = HashingEmbedder(256)
    build(tmp_path / "ix", embedder, folder / "quick-articles.jsonl.gz")
    questions = load_questions(folder, quick=True)
    answers, _ = ask_all(engine_for(tmp_path / "ix", embedder, min_confidence=0.0), questions)
    assert answers[0].as_of == "2025-01-10"
    assert "p2" not in {p.article_id for a in answers for p in a.passages}


def test_eval_news_refuses_a_folder_without_the_set(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run("eval", "news", str(tmp_path / "empty"), "--quick",
               "--index-dir", str(tmp_path / "ix"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "not a news-rtqa folder" in done.stderr


def test_news_knobs_sets_each_knob_where_it_lives():
    config = config_of({"sentence_weight": 2.0, "recent_days": 3, "min_confidence": 0.2})
    assert config.extraction.sentence_weight == 2.0
    assert config.retrieval.recent_days == 3 and config.min_confidence == 0.2
    assert config.retrieval.candidates == RetrievalConfig().candidates  # the rest: defaults
    with pytest.raises(SystemExit, match="no knob named 'sentence_wieght'"):
        config_of({"sentence_wieght": 2.0})
    for spec in ("{sentence_weight: 2}", "[1, 2]"):
        with pytest.raises(SystemExit, match="JSON"):
            knobs_of(spec)
