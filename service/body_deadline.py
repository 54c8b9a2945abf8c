"""How long a client may take to send a whole request body.

The pause between two parts of a body is bounded by ``QA_BODY_TIMEOUT``, but a client
sending one byte every few seconds never pauses that long and would hold its connection
(and the request's memory) for as long as it liked. The whole body therefore has a
deadline too, proportional to its size: a large legal body on a slow link still fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qa.limits import BODY_DEADLINE_FLOOR, BODY_DEADLINE_PER_64K

SLICE_BYTES = 64 * 1024


@dataclass(frozen=True)
class BodyDeadline:
    """``max(floor, per_64k × ⌈length / 64 KiB⌉)`` seconds for a body of ``length`` bytes."""

    floor: float = BODY_DEADLINE_FLOOR
    per_64k: float = BODY_DEADLINE_PER_64K

    def seconds(self, content_length: int | None, max_body_bytes: int) -> float:
        """The deadline for a body declaring ``content_length`` bytes. A body without a
        length (chunked) may be as large as the body limit, so it gets that size's."""
        size = max_body_bytes if content_length is None else content_length
        return max(self.floor, self.per_64k * math.ceil(size / SLICE_BYTES))


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The request's ``Content-Length``, or None when it has none (or not a number: the
    length limit refuses that before the body is read)."""
    value = dict(headers).get(b"content-length", b"")
    return int(value) if value.isdigit() else None
