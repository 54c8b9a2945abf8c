"""What a confidence means: calibration error and the precision of the surest answers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ece(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Expected calibration error: over equal-width confidence bins, the gap between the
    mean confidence and the share right, weighted by the bin's size."""
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=float)
    if not len(conf):
        return 0.0
    which = np.clip(np.digitize(conf, np.linspace(0, 1, bins + 1)[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.sum() * abs(conf[inside].mean() - right[inside].mean())
    return float(total / len(conf))


def confident_half_precision(confidence: Sequence[float], correct: Sequence[bool]) -> float:
    """The share right among the more confident half of the answers (ties in given order)."""
    conf = np.asarray(confidence, dtype=float)
    if not len(conf):
        return 0.0
    half = np.argsort(-conf, kind="stable")[: max(len(conf) // 2, 1)]
    return float(np.asarray(correct, dtype=float)[half].mean())


def ece_floor(confidence: Sequence[float], draws: int = 2000, seed: int = 0,
              bins: int = 10) -> tuple[float, float, float]:
    """The ECE a perfectly calibrated scorer would show with these confidences: each
    answer right with exactly its confidence, drawn ``draws`` times. Its mean, and the 5th
    and 95th percentiles. On a few hundred questions it is far from 0: an ECE near it
    is all the data can show."""
    conf = np.asarray(confidence, dtype=float)
    if not len(conf):
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    seen = np.array([ece(conf, rng.random(len(conf)) < conf, bins) for _ in range(draws)])
    low, high = np.percentile(seen, [5, 95])
    return float(seen.mean()), float(low), float(high)
