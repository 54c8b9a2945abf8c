"""The manifest: what built an index, so a reader can refuse what it cannot use."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT_VERSION = 1


class IndexError_(Exception):
    """Base of the index's domain errors."""


class IndexNotFound(IndexError_):
    """No published index where one was expected."""


class IndexCorrupt(IndexError_):
    """A build whose files do not agree with each other or with the manifest."""


class IndexMismatch(IndexError_):
    """A build made with another model or format than the one running."""


@dataclass
class Manifest:
    """Everything needed to check and describe a build."""

    build_id: str
    model: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    articles: int
    chunks: int
    sentences: int
    created_at: str
    format_version: int = FORMAT_VERSION
    article_hashes: dict[str, str] = field(default_factory=dict)

    def write(self, path: Path) -> None:
        """Write the manifest as JSON."""
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read a manifest; raises IndexCorrupt when missing or malformed."""
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except FileNotFoundError as exc:
            raise IndexCorrupt(f"{path} is missing") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorrupt(f"{path} is unreadable: {exc}") from exc
