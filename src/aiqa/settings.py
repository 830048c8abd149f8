"""Configuration: defaults, overridden by `AIQA_*` environment variables, overridden by CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbedderName = Literal["auto", "e5", "offline", "sentence-transformers"]
AnswererChoice = Literal["auto", "extractive", "llm"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIQA_", extra="ignore")

    corpus: Path = Path("corpus")
    index: Path = Path("index")

    embedder: EmbedderName = "auto"
    # A sentence-transformers model name or directory; when set, `auto` uses it (downloading it if
    # need be) instead of the bundled e5 (embedders.py).
    embed_model: str | None = None
    embed_batch_size: int = Field(32, ge=1)
    hub_timeout: float = Field(1.5, gt=0, description="seconds to wait for the model hub for a named model")
    # None means the model family's own convention (see st_embedder.PROMPTS).
    embed_query_prompt: str | None = None
    embed_passage_prompt: str | None = None

    # Chunking: sentences are packed up to chunk_chars characters, with chunk_overlap sentences
    # carried over. 160 characters keeps the top 5 passages well under 1,500 characters and
    # scored best on the dev set (see README, "How it works").
    chunk_chars: int = Field(160, ge=20, le=4000)
    chunk_overlap: int = Field(1, ge=0, le=5)

    k: int = Field(5, ge=1, le=50)
    # BM25 counts 1 in the rank fusion. The offline embedder matches surface n-grams, so it votes
    # with half that: on the dev set this keeps BM25's recall@5 (1.0) and lifts recall@1 on English
    # questions from 0.75 to 1.0 (README, "Dev-set numbers"). A semantic model may deserve more.
    dense_weight: float = Field(0.5, ge=0, le=10)

    answerer: AnswererChoice = "auto"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(30.0, gt=0)
    llm_temperature: float = Field(0.1, ge=0, le=2)
    # What the citation check does with a generated sentence its cited passages do not hold.
    llm_unsupported: Literal["drop", "mark"] = "drop"

    reranker: str | None = None

    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)
    share: bool = False
    # Serving beyond loopback: "USER:PASS" for Gradio's login, or no_auth to serve openly on purpose.
    auth: str | None = None
    no_auth: bool = False
    # A shared deployment may forbid corpus uploads and rebuilds from the UI.
    read_only: bool = False

    @classmethod
    def load(cls, **flags: object) -> Settings:
        """Settings from the environment, with the given non-None flags taking precedence."""
        return cls.model_validate({key: value for key, value in flags.items() if value is not None})

    def with_overrides(self, **overrides: object) -> Settings:
        """A copy with the given non-None values replaced, validated like the original."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return self.model_validate({**self.model_dump(), **given})
