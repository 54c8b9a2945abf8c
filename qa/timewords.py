"""Time words in a question, resolved against the day it is asked as of.

A window is a preference, not a filter: retrieval favours articles published inside it
and still sees the rest. The rules (``A`` is ``as_of``; when several phrases match, the
first row of the table wins: a named date or year before a relative phrase. Letting the
narrowest window win instead was measured and was no better on the news sets):

| phrase | window |
|---|---|
| "March 5", "5 March", "March 5, 2024" | that day and the next (coverage lags a day); |
| | without a year, the most recent such day up to A |
| "in March 2024", "March of 2024" | that month |
| "in 2023", "of 2023", "since 2023" | that year, up to A |
| "in March", "this March", "last March" | the most recent March up to A |
| | ("last March" in March: the year before) |
| "on Monday", "Monday" (capitalised) | the most recent Monday up to A, and the day after |
| "today", "tonight", "this morning" | A |
| "yesterday" | A-1 and A |
| "N days ago", "N weeks ago" | that day, give or take a day / that week |
| "this week", "past week", "this weekend" | A-6 .. A |
| "last week" | A-13 .. A-1 |
| "this month", "past month" | A-30 .. A |
| "last month" | the previous calendar month |
| "this year", "past year" | January 1 .. A |
| "last year" | the previous calendar year |

Windows never end after A. Without a time word, a news question means the most recent
coverage: the engine prefers the last ``recent_days`` before A (see ``RetrievalConfig``).
Either way the rerank favours articles published near the window, or near A without one
(``ExtractionConfig.age_weight``).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}

_MONTH = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?" \
         r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_YEAR = r"((?:19|20)\d\d)"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?:,?\s+{_YEAR})?")
_DAY_MONTH = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b(?:,?\s+{_YEAR})?")
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+(?:of\s+)?{_YEAR}\b")
_YEAR_ALONE = re.compile(rf"\b(?:in|of|since|during|for|from|throughout)\s+{_YEAR}\b"
                         rf"|\b{_YEAR}\b", re.IGNORECASE)
_IN_MONTH = re.compile(rf"\b(in|this|last|since|during|early|late|mid-?)\s+{_MONTH}\b")
_WEEKDAY = re.compile(r"\b(?:on\s+|this\s+|last\s+)?(Monday|Tuesday|Wednesday|Thursday|Friday"
                      r"|Saturday|Sunday)\b")
_AGO = re.compile(r"\b(\d+|a|one|two|three|four|five|six|seven)\s+(day|week)s?\s+ago\b",
                  re.IGNORECASE)
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7}
_RELATIVE = [
    (re.compile(r"\b(today|tonight|this (?:morning|afternoon|evening))\b", re.I), "today"),
    (re.compile(r"\byesterday\b", re.I), "yesterday"),
    (re.compile(r"\blast week\b", re.I), "last_week"),
    (re.compile(r"\b(this|past|the past) (week|weekend)\b", re.I), "this_week"),
    (re.compile(r"\blast month\b", re.I), "last_month"),
    (re.compile(r"\b(this|past|the past) month\b", re.I), "this_month"),
    (re.compile(r"\blast year\b", re.I), "last_year"),
    (re.compile(r"\b(this|past|the past) year\b", re.I), "this_year"),
]


@dataclass(frozen=True)
class Window:
    """Inclusive days a question points at, and the words that said so."""

    start: date
    end: date
    phrase: str


def time_window(question: str, as_of: date) -> Window | None:
    """The window the question's time words give, or None when it has none."""
    for finder in (_exact_day, _month_of_year, _year, _month, _weekday, _ago, _relative):
        found = finder(question, as_of)
        if found is not None:
            start, end, phrase = found
            end = min(end, as_of)
            if start <= end:
                return Window(start, end, phrase)
    return None


def _month_number(name: str) -> int:
    return MONTHS[name.lower().rstrip(".")]


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _most_recent(month: int, day: int, as_of: date) -> date | None:
    """The latest ``month``/``day`` on or before ``as_of``."""
    for year in (as_of.year, as_of.year - 1):
        found = _safe_date(year, month, day)
        if found and found <= as_of:
            return found
    return None


def _exact_day(q: str, as_of: date):
    for pattern, month_at, day_at in ((_MONTH_DAY, 1, 2), (_DAY_MONTH, 2, 1)):
        m = pattern.search(q)
        if not m:
            continue
        month, day = _month_number(m.group(month_at)), int(m.group(day_at))
        year = m.group(3)
        found = (_safe_date(int(year), month, day) if year
                 else _most_recent(month, day, as_of))
        if found:
            return found, found + timedelta(days=1), m.group(0)
    return None


def _month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _month_of_year(q: str, as_of: date):
    m = _MONTH_YEAR.search(q)
    if not m:
        return None
    return (*_month_span(int(m.group(2)), _month_number(m.group(1))), m.group(0))


def _year(q: str, as_of: date):
    for m in _YEAR_ALONE.finditer(q):
        year = int(m.group(1) or m.group(2))
        if year <= as_of.year:
            return date(year, 1, 1), date(year, 12, 31), m.group(0)
    return None


def _month(q: str, as_of: date):
    m = _IN_MONTH.search(q)
    if not m:
        return None
    month = _month_number(m.group(2))
    year = as_of.year if month <= as_of.month else as_of.year - 1
    if m.group(1) == "last" and month == as_of.month:
        year -= 1
    return (*_month_span(year, month), m.group(0))


def _weekday(q: str, as_of: date):
    m = _WEEKDAY.search(q)
    if not m:
        return None
    back = (as_of.weekday() - WEEKDAYS[m.group(1).lower()]) % 7
    day = as_of - timedelta(days=back)
    return day, day + timedelta(days=1), m.group(0)


def _ago(q: str, as_of: date):
    m = _AGO.search(q)
    if not m:
        return None
    count = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1).lower()]
    if m.group(2).lower() == "day":
        day = as_of - timedelta(days=count)
        return day - timedelta(days=1), day + timedelta(days=1), m.group(0)
    day = as_of - timedelta(weeks=count)
    return day - timedelta(days=3), day + timedelta(days=3), m.group(0)


def _relative(q: str, as_of: date):
    for pattern, kind in _RELATIVE:
        m = pattern.search(q)
        if m:
            return (*_relative_span(kind, as_of), m.group(0))
    return None


def _relative_span(kind: str, a: date) -> tuple[date, date]:
    days = timedelta
    if kind == "today":
        return a, a
    if kind == "yesterday":
        return a - days(1), a
    if kind == "this_week":
        return a - days(6), a
    if kind == "last_week":
        return a - days(13), a - days(1)
    if kind == "this_month":
        return a - days(30), a
    if kind == "last_month":
        first = a.replace(day=1) - days(1)
        return _month_span(first.year, first.month)
    if kind == "this_year":
        return date(a.year, 1, 1), a
    return date(a.year - 1, 1, 1), date(a.year - 1, 12, 31)  # last_year
