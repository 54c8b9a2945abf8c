"""The manifest: what built an index, so a reader can refuse what it cannot use."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

FORMAT_VERSION = 3  # 3: chunks.npy, the vector index kind


class IndexError_(Exception):
    """Base of the index's domain errors."""


class IndexNotFound(IndexError_):
    """No published index where one was expected."""


class IndexCorrupt(IndexError_):
    """A build whose files do not agree with each other or with the manifest."""


class IndexMismatch(IndexError_):
    """A build made with another model or format than the one running."""


@dataclass(frozen=True)
class Recipe:
    """Everything the stored vectors and spans depend on: two builds with the same recipe
    give the same vectors for the same article, so one may reuse the other's."""

    model: str
    embedder_backend: str
    chunk_size: int
    chunk_overlap: int
    chunk_template: str
    sentence_splitter: str
    # How sentence vectors were made (index/pooling.py); builds from before the field
    # embedded each sentence on its own.
    sentence_vectors: str = "standalone"

    def differences(self, other: Recipe) -> list[str]:
        """The names of the fields in which two recipes differ."""
        mine, theirs = asdict(self), asdict(other)
        return [name for name in mine if mine[name] != theirs[name]]


@dataclass
class Manifest:
    """Everything needed to check and describe a build."""

    build_id: str
    recipe: Recipe
    dimension: int
    articles: int
    chunks: int
    sentences: int
    created_at: str
    # The FAISS index: its factory string and search parameters (see index/vector_index).
    vector_index: dict = field(default_factory=lambda: {"factory": "Flat", "nprobe": 0})
    format_version: int = FORMAT_VERSION
    # Each build file's size and SHA-256, by name (the manifest itself excepted). Builds
    # published before it was recorded have none: they open, unchecked.
    files: dict = field(default_factory=dict)

    @property
    def model(self) -> str:
        """The embedding model's name."""
        return self.recipe.model

    def write(self, path: Path) -> None:
        """Write the manifest as JSON."""
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read a manifest; raises IndexCorrupt when missing or malformed."""
        try:
            data = json.loads(path.read_text())
            if data.get("format_version") != FORMAT_VERSION:
                return _older(data)
            # Fields a recipe no longer has (the FTS5 tokenizer of earlier builds, whose
            # lexical index is now derived from the stored text) do not block reuse.
            known = {f.name for f in fields(Recipe)}
            recipe = Recipe(**{k: v for k, v in data["recipe"].items() if k in known})
            return cls(**{**data, "recipe": recipe})
        except FileNotFoundError as exc:
            raise IndexCorrupt(f"the manifest of build {path.parent.name} is missing") from exc
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise IndexCorrupt(f"the manifest of build {path.parent.name} is unreadable "
                               f"({type(exc).__name__})") from exc


def _older(data: dict) -> Manifest:
    """A manifest of another format: enough to say so and to refuse reusing it."""
    recipe = Recipe(data.get("model", "?"), "?", 0, 0, "?", "?")
    return Manifest(data.get("build_id", "?"), recipe, data.get("dimension", 0),
                    data.get("articles", 0), data.get("chunks", 0), data.get("sentences", 0),
                    data.get("created_at", ""), format_version=data.get("format_version", 0))
