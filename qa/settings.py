"""The one place configuration is read: ``QA_`` environment variables (and ``.env``).

Only the edges (the CLI and the HTTP app) create Settings; they pass plain values down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.chunking import ChunkerConfig
from qa.engine import AnswerConfig


def _default_index_dir() -> Path:
    return Path.home() / ".local" / "share" / "grounded-qa" / "index"


class Settings(BaseSettings):
    """Service and CLI configuration; every field can be set as ``QA_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    index_dir: Path = Field(default_factory=_default_index_dir)
    sources: Annotated[list[Path], NoDecode] = Field(default_factory=lambda: [Path("seeds")])
    model: str = "all-MiniLM-L6-v2"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    top_k: int = Field(5, ge=1, le=20)
    min_confidence: float = Field(AnswerConfig.min_confidence, ge=0.0, le=1.0)
    chunk_size: int = Field(ChunkerConfig.chunk_size, ge=100, le=4000)
    chunk_overlap: int = Field(ChunkerConfig.chunk_overlap, ge=0, le=1000)
    keep_builds: int = Field(3, ge=1)
    max_question_chars: int = Field(2000, ge=1)
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    admin_key: SecretStr | None = None
    reload_interval: float = Field(2.0, ge=0.0)  # seconds between checks of CURRENT; 0: never

    @field_validator("sources", "allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def chunker(self) -> ChunkerConfig:
        """The chunking settings as the index builder takes them."""
        return ChunkerConfig(self.chunk_size, self.chunk_overlap)

    def answer_config(self) -> AnswerConfig:
        """The answering settings as the engine takes them."""
        return AnswerConfig(top_k=self.top_k, min_confidence=self.min_confidence)
