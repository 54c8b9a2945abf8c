"""The service's own record: every question with its outcome, and readers' feedback.

A SQLite database in WAL mode under ``QA_DATA_DIR``, never inside an index build, so it
survives rebuilds and restarts. No client address is stored. Rows older than the
retention are deleted as new ones arrive.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from qa.types import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    answer_id TEXT NOT NULL,
    at REAL NOT NULL,              -- unix seconds
    question TEXT NOT NULL,
    grounded INTEGER NOT NULL,
    reason TEXT,
    confidence REAL NOT NULL,
    latency_ms REAL NOT NULL,
    index_version TEXT NOT NULL,
    channel TEXT NOT NULL          -- api, openai, mcp
);
CREATE INDEX IF NOT EXISTS questions_answer ON questions(answer_id);
CREATE INDEX IF NOT EXISTS questions_at ON questions(at);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    answer_id TEXT NOT NULL,
    at REAL NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT
);
CREATE INDEX IF NOT EXISTS feedback_at ON feedback(at);
"""
FILE = "journal.sqlite"
_PRUNE_EVERY = 500  # inserts between two retention sweeps


@dataclass(frozen=True)
class Asked:
    """One recorded question and its outcome."""

    answer_id: str
    at: float
    question: str
    grounded: bool
    reason: str | None
    confidence: float


@dataclass(frozen=True)
class Rated:
    """One feedback entry with the question it was about."""

    answer_id: str
    at: float
    rating: str
    comment: str | None
    question: str


class Journal:
    """Thread-safe writer and reader of the journal database."""

    def __init__(self, data_dir: Path, retention_days: float = 90.0) -> None:
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(data_dir) / FILE
        self.retention_seconds = retention_days * 86400
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a crash of us
        self._conn.executescript(SCHEMA)
        self._inserts = 0
        self.prune()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    def record(self, answer_id: str, question: str, answer: Answer, latency_ms: float,
               channel: str) -> None:
        """Keep a question and its outcome."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO questions (answer_id, at, question, grounded, reason, confidence,"
                " latency_ms, index_version, channel) VALUES (?,?,?,?,?,?,?,?,?)",
                (answer_id, time.time(), question, int(answer.grounded), answer.reason,
                 answer.confidence, round(latency_ms, 2), answer.index_version, channel))
            self._conn.commit()
            self._inserts += 1
            due = self._inserts % _PRUNE_EVERY == 0
        if due:
            self.prune()

    def knows(self, answer_id: str) -> bool:
        """True when an answer with this id was recorded (and not yet expired)."""
        with self._lock:
            return self._conn.execute("SELECT 1 FROM questions WHERE answer_id = ? LIMIT 1",
                                      (answer_id,)).fetchone() is not None

    def rate(self, answer_id: str, rating: str, comment: str | None) -> None:
        """Keep a reader's rating of an answer."""
        with self._lock:
            self._conn.execute("INSERT INTO feedback (answer_id, at, rating, comment) "
                               "VALUES (?,?,?,?)", (answer_id, time.time(), rating, comment))
            self._conn.commit()

    def asked_since(self, since: float) -> list[Asked]:
        """Questions recorded since a unix time, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT answer_id, at, question, grounded, reason, confidence FROM questions"
                " WHERE at >= ? ORDER BY at", (since,)).fetchall()
        return [Asked(r[0], r[1], r[2], bool(r[3]), r[4], r[5]) for r in rows]

    def rated_since(self, since: float, rating: str | None = None) -> list[Rated]:
        """Feedback since a unix time (of one rating, if given), oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT f.answer_id, f.at, f.rating, f.comment, COALESCE((SELECT q.question"
                " FROM questions q WHERE q.answer_id = f.answer_id ORDER BY q.at DESC"
                " LIMIT 1), '') FROM feedback f WHERE f.at >= ? AND (? IS NULL OR"
                " f.rating = ?) ORDER BY f.at", (since, rating, rating)).fetchall()
        return [Rated(*r) for r in rows]

    def prune(self) -> int:
        """Delete rows older than the retention; returns how many went."""
        cutoff = time.time() - self.retention_seconds
        with self._lock:
            gone = self._conn.execute("DELETE FROM questions WHERE at < ?", (cutoff,)).rowcount
            gone += self._conn.execute("DELETE FROM feedback WHERE at < ?", (cutoff,)).rowcount
            self._conn.commit()
        return gone
