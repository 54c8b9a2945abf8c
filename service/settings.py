"""The one place configuration is read: ``QA_`` environment variables (and ``.env``).

Only the edges (the CLI and the HTTP app) create Settings; they pass plain values down.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, TypeAdapter, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.chunking import ChunkerConfig
from index.copies import THRESHOLD as WIRE_THRESHOLD
from index.embedder import (
    BACKENDS,
    DEFAULT_BACKEND,
    DEFAULT_MODEL,
    EmbedderSpec,
    default_cache_dir,
)
from index.pooling import POOLED, SENTENCE_VECTOR_METHODS
from index.readers import MAX_ARTICLE_CHARS
from index.vector_index import KINDS
from index.web import FetchSettings
from qa.engine import AnswerConfig
from qa.limits import (
    BODY_DEADLINE_FLOOR,
    BODY_DEADLINE_PER_64K,
    MAX_BODY_BYTES,
    MAX_QUESTION_CHARS,
    TOP_K_DEFAULT,
    TOP_K_MAX,
    TOP_K_MIN,
)

# The one pair of bounds on top_k, for the setting, the HTTP schemas and the CLI.
TopK = Annotated[int, Field(ge=TOP_K_MIN, le=TOP_K_MAX)]
TOP_K = TypeAdapter(TopK)
MIN_ADMIN_KEY_CHARS = 16


def _default_index_dir() -> Path:
    return Path.home() / ".local" / "share" / "grounded-qa" / "index"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "grounded-qa" / "data"


class Settings(BaseSettings):
    """Service and CLI configuration; every field can be set as ``QA_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_file=".env", extra="ignore")

    index_dir: Path = Field(default_factory=_default_index_dir)
    # State that is not the index (evaluation indexes, feedback, logs): survives rebuilds.
    data_dir: Path = Field(default_factory=_default_data_dir)
    # Files, folders, feed/sitemap/page URLs and URL-list files (comma-separated).
    sources: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["seeds"])
    model: str = DEFAULT_MODEL
    embedder: Literal[BACKENDS] = DEFAULT_BACKEND  # type: ignore[valid-type]
    model_cache: Path = Field(default_factory=default_cache_dir)  # ONNX exports
    # ONNX Runtime threads per embedding call; 0: every core. Every core answers one
    # client fastest (news quick loop p50 22 ms against 29 ms with one thread) for ~10%
    # less throughput under 8 concurrent clients (docs/configuration.md).
    embed_threads: int = Field(0, ge=0, le=256)
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    top_k: TopK = TOP_K_DEFAULT
    # None: the answer scorer's own threshold (or the hand-set rules' with another model)
    min_confidence: float | None = Field(None, ge=0.0, le=1.0)
    chunk_size: int = Field(ChunkerConfig.chunk_size, ge=100, le=4000)
    chunk_overlap: int = Field(ChunkerConfig.chunk_overlap, ge=0, le=1000)
    keep_builds: int = Field(3, ge=1)
    vector_index: Literal[KINDS] = "auto"  # type: ignore[valid-type]
    # pooled-1: sentence vectors from the chunk pass (one pass, half the model time);
    # standalone: each sentence through the model on its own.
    sentence_vectors: Literal[SENTENCE_VECTOR_METHODS] = POOLED  # type: ignore[valid-type]
    # Pages this similar (Jaccard of word 5-shingles) are copies of one story; 1: never.
    wire_threshold: float = Field(WIRE_THRESHOLD, gt=0.0, le=1.0)
    # The Ray cluster of `qa index build --ray` / `qa serve --ray` given without an
    # address (HOST:PORT, auto or ray://...); unset: a local Ray instance is started.
    ray_address: str | None = None
    max_question_chars: int = Field(MAX_QUESTION_CHARS, ge=1)
    # A file's article longer than this is left out of a build with one line.
    max_article_chars: int = Field(MAX_ARTICLE_CHARS, ge=1)
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    admin_key: SecretStr | None = None
    metrics_public: bool = False  # False: /metrics needs the admin key
    reload_interval: float = Field(2.0, ge=0.0)  # seconds between checks of CURRENT; 0: never
    max_body_bytes: int = Field(MAX_BODY_BYTES, ge=1024)
    header_timeout: float = Field(10.0, gt=0)  # seconds to send a request's headers
    body_timeout: float = Field(10.0, gt=0)  # seconds between two parts of a body
    # The whole body's deadline: max(body_deadline, body_deadline_per_64k per 64 KiB).
    body_deadline: float = Field(BODY_DEADLINE_FLOOR, gt=0)
    body_deadline_per_64k: float = Field(BODY_DEADLINE_PER_64K, gt=0)
    keep_alive_timeout: float = Field(5.0, gt=0)  # idle seconds before a connection closes
    retention_days: float = Field(90.0, gt=0)  # how long the journal keeps questions, feedback
    log_questions: bool = False  # put question text in the access log
    log_json: bool | None = None  # JSON log lines (default: unless stderr is a terminal)
    # Bearer keys required on the public endpoints when set (the widget's allowed origins
    # need none); the rate limit per key, else per client address, e.g. "60/minute".
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    rate_limit: str | None = None
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    report_low_confidence: float = Field(0.5, ge=0.0, le=1.0)  # below: in the gap report
    # Fetching feeds, sitemaps and pages: who we are, and how politely we ask.
    contact: str = "https://github.com/grounded-qa"  # a URL or e-mail for site owners
    fetch_timeout: float = Field(20.0, gt=0)
    fetch_max_bytes: int = Field(5 << 20, ge=1024)
    fetch_delay: float = Field(1.0, ge=0)  # seconds between two requests to one host
    fetch_concurrency: int = Field(4, ge=1, le=64)
    fetch_max_pages: int = Field(10_000, ge=1)

    @field_validator("admin_key", mode="before")
    @classmethod
    def _empty_key_is_unset(cls, value: object) -> object:
        # An empty QA_ADMIN_KEY must not become a key that an empty bearer token matches.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("admin_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_ADMIN_KEY_CHARS:
            raise ValueError(f"the admin key must have at least {MIN_ADMIN_KEY_CHARS} characters")
        return value

    @field_validator("rate_limit")
    @classmethod
    def _a_rate(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '60/minute': {value!r}") from exc
        return value.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # raises ValueError on a bad address
        return value

    @field_validator("sources", "allowed_origins", "api_keys", "trusted_proxies",
                     mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def embedder_spec(self) -> EmbedderSpec:
        """The embedder these settings name, as the server and the CLI load it."""
        return EmbedderSpec(self.model, self.embedder, self.model_cache, self.embed_threads)

    def fetch_settings(self) -> FetchSettings:
        """How the fetcher of web sources behaves."""
        return FetchSettings(user_agent=f"grounded-qa/0.1 (+{self.contact})",
                             timeout=self.fetch_timeout, max_bytes=self.fetch_max_bytes,
                             delay=self.fetch_delay, concurrency=self.fetch_concurrency,
                             max_pages=self.fetch_max_pages)

    def chunker(self) -> ChunkerConfig:
        """The chunking settings as the index builder takes them."""
        return ChunkerConfig(self.chunk_size, self.chunk_overlap)

    def answer_config(self) -> AnswerConfig:
        """The answering settings as the engine takes them."""
        return AnswerConfig(top_k=self.top_k, min_confidence=self.min_confidence,
                            max_question_chars=self.max_question_chars)
