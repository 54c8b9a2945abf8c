"""Time words resolved against a fixed as_of, and the request scope's parsing."""

from __future__ import annotations

from datetime import date

import pytest

from qa.scope import ScopeError, parse_scope
from qa.timewords import time_window

AS_OF = date(2025, 3, 14)  # a Friday


def window(question: str, as_of: date = AS_OF) -> tuple[str, str] | None:
    found = time_window(question, as_of)
    return (found.start.isoformat(), found.end.isoformat()) if found else None


@pytest.mark.parametrize("question, expected", [
    ("What happened today in Paris?", ("2025-03-14", "2025-03-14")),
    ("Who resigned yesterday?", ("2025-03-13", "2025-03-14")),
    ("Which company this week announced layoffs?", ("2025-03-08", "2025-03-14")),
    ("What did the court rule in the past week?", ("2025-03-08", "2025-03-14")),
    ("Which team won last week?", ("2025-03-01", "2025-03-13")),
    ("What did Congress pass this month?", ("2025-02-12", "2025-03-14")),
    ("What did Congress pass last month?", ("2025-02-01", "2025-02-28")),
    ("What was the biggest story this year?", ("2025-01-01", "2025-03-14")),
    ("Who won the title last year?", ("2024-01-01", "2024-12-31")),
    ("Who won the election in 2023?", ("2023-01-01", "2023-12-31")),
    ("What happened in March?", ("2025-03-01", "2025-03-14")),
    ("What happened in May?", ("2024-05-01", "2024-05-31")),
    ("What did the senator say last March?", ("2024-03-01", "2024-03-31")),
    ("What did the bank announce in March 2024?", ("2024-03-01", "2024-03-31")),
    ("What did the president sign on March 5?", ("2025-03-05", "2025-03-06")),
    ("What did the president sign on 5 March?", ("2025-03-05", "2025-03-06")),
    ("What happened on December 24, 2024?", ("2024-12-24", "2024-12-25")),
    ("What happened on Dec. 24?", ("2024-12-24", "2024-12-25")),
    ("Who spoke on Monday?", ("2025-03-10", "2025-03-11")),
    ("Who spoke on Friday?", ("2025-03-14", "2025-03-14")),
    ("What happened three days ago?", ("2025-03-10", "2025-03-12")),
    ("What happened 2 weeks ago?", ("2025-02-25", "2025-03-03")),
])
def test_time_words_give_windows(question, expected):
    assert window(question) == expected


@pytest.mark.parametrize("question", [
    "Who won the Nobel Prize in physics?",
    "How may I renew a passport?",  # "may" is not the month
    "Why did protesters march on the capital?",  # nor is "march"
    "How many people attended the rally?",
])
def test_questions_without_time_words_have_no_window(question):
    assert window(question) is None


def test_windows_never_end_after_as_of():
    found = time_window("What will happen in 2025?", date(2025, 1, 10))
    assert found and found.end == date(2025, 1, 10)
    assert time_window("What happens in 2031?", AS_OF) is None  # a future year: no window


def test_scope_parses_dates_and_filters():
    scope = parse_scope("2025-03-14", {"published_after": "2025-01-01",
                                       "sources": ["cnn.com"], "article_ids": ["a", " "]})
    assert scope.as_of == AS_OF
    assert scope.filters.published_after == date(2025, 1, 1)
    assert scope.filters.sources == ("cnn.com",) and scope.filters.article_ids == ("a",)


@pytest.mark.parametrize("as_of, filters, param", [
    ("2025-02-30", None, "as_of"),
    ("14/03/2025", None, "as_of"),
    ("2025-3-4", None, "as_of"),
    (None, {"published_after": "yesterday"}, "filters.published_after"),
    (None, {"published_before": 20250101}, "filters.published_before"),
    (None, {"sources": "cnn.com"}, "filters.sources"),
    (None, {"topic": ["x"]}, "filters.topic"),
    (None, {"published_after": "2025-02-01", "published_before": "2025-01-01"},
     "filters.published_after"),
])
def test_bad_scope_names_the_field(as_of, filters, param):
    with pytest.raises(ScopeError) as caught:
        parse_scope(as_of, filters)
    assert caught.value.param == param and param.split(".")[-1] in caught.value.message
