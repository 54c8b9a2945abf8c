"""Spans of time as operators write them: ``30s``, ``15m``, ``1h``, ``7d``, ``2w``."""

from __future__ import annotations

import re

_SPAN = re.compile(r"^\s*(\d{1,9})\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_SECONDS = 100 * 365 * 86400  # longer spans are typos, and overflow date arithmetic


def span_seconds(value: str) -> float | None:
    """The seconds a span names, or None when it is not one (or is 0, or over a century)."""
    match = _SPAN.match(value)
    if not match:
        return None
    seconds = int(match.group(1)) * _UNIT[match.group(2).lower()]
    return float(seconds) if 0 < seconds <= MAX_SECONDS else None
