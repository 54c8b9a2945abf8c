"""The gap report: what readers asked that the archive could not answer well.

Questions the service abstained on or answered with low confidence are grouped by
meaning (the service's own embedder; near-identical questions form one group with a
count), biggest groups first, followed by the answers readers rated down.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np

from index.embedder import Embedder
from service.durations import span_seconds
from service.journal import Asked, Journal

SIMILAR = 0.86  # cosine at or above which two questions count as the same question


def since_time(value: str, now: float | None = None) -> float:
    """A unix time from ``7d``, ``24h``, ``30m``, ``2w`` (ago) or a ``YYYY-MM-DD`` day.

    Raises ValueError with a readable message otherwise.
    """
    now = time.time() if now is None else now
    span = span_seconds(value)
    if span is not None:
        return now - span
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"--since: expected a span like 7d, 24h, 30m, 2w or a day "
                         f"YYYY-MM-DD, got {value!r}") from None
    return day.timestamp()


@dataclass
class Gap:
    """Questions that mean the same thing, none of them answered well."""

    question: str  # the most asked wording
    count: int = 0
    abstained: int = 0
    low_confidence: int = 0
    variants: list[str] = field(default_factory=list)
    last_asked: str = ""


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _key(question: str) -> str:
    return " ".join(question.lower().split())


def group(asked: list[Asked], embedder: Embedder, similar: float = SIMILAR) -> list[Gap]:
    """Group poorly answered questions by meaning; biggest groups first."""
    by_text: dict[str, list[Asked]] = {}
    for a in asked:
        by_text.setdefault(_key(a.question), []).append(a)
    texts = sorted(by_text, key=lambda t: (-len(by_text[t]), t))
    if not texts:
        return []
    vectors = embedder.embed_batch([by_text[t][0].question for t in texts])
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for i in range(len(texts)):
        scores = vectors[leaders] @ vectors[i] if leaders else np.empty(0)
        best = int(np.argmax(scores)) if len(scores) else -1
        if best >= 0 and scores[best] >= similar:
            members[leaders[best]].append(i)
        else:
            leaders.append(i)
            members[i] = [i]
    gaps = []
    for lead in leaders:
        items = [a for i in members[lead] for a in by_text[texts[i]]]
        gaps.append(Gap(
            question=by_text[texts[lead]][0].question, count=len(items),
            abstained=sum(not a.grounded for a in items),
            low_confidence=sum(a.grounded for a in items),
            variants=[by_text[texts[i]][0].question for i in members[lead][1:6]],
            last_asked=_iso(max(a.at for a in items))))
    return sorted(gaps, key=lambda g: (-g.count, g.question))


def gap_report(journal: Journal, embedder: Embedder, since: float,
               low_confidence: float, limit: int = 100) -> dict:
    """The report as JSON-ready data."""
    asked = journal.asked_since(since)
    poor = [a for a in asked if not a.grounded or a.confidence < low_confidence]
    down = journal.rated_since(since, "down")
    return {
        "since": _iso(since), "questions": len(asked),
        "abstained": sum(not a.grounded for a in asked),
        "low_confidence": sum(a.grounded and a.confidence < low_confidence for a in asked),
        "low_confidence_below": low_confidence,
        "gaps": [asdict(g) for g in group(poor, embedder)[:limit]],
        "rated_down": [{"answer_id": r.answer_id, "question": r.question,
                        "comment": r.comment, "at": _iso(r.at)} for r in down[-limit:]],
    }


def render(report: dict) -> str:
    """The report for people."""
    lines = [f"Since {report['since']}: {report['questions']} questions, "
             f"{report['abstained']} abstained, {report['low_confidence']} answered with "
             f"confidence below {report['low_confidence_below']:.2f}.", ""]
    if report["gaps"]:
        lines.append("Questions the archive does not answer well (most asked first):")
        for g in report["gaps"]:
            lines.append(f"  {g['count']:>4}x  {g['question']}  (abstained {g['abstained']},"
                         f" low confidence {g['low_confidence']}; last {g['last_asked']})")
            lines.extend(f"         also: {v}" for v in g["variants"])
    else:
        lines.append("No poorly answered questions.")
    if report["rated_down"]:
        lines += ["", "Answers rated down:"]
        for r in report["rated_down"]:
            note = f" — {r['comment']}" if r["comment"] else ""
            lines.append(f"  {r['at']}  {r['question']}{note}  ({r['answer_id']})")
    return "\n".join(lines)
