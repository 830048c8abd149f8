"""Configuration: defaults, overridden by `AIQA_*` environment variables, overridden by CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbedderName = Literal["auto", "e5", "offline", "sentence-transformers"]
AnswererChoice = Literal["auto", "extractive", "llm"]


# Characters per chunk by embedder kind (a sentence-transformers model gets e5's). The offline
# embedder scored best at 160 on the aiqa dev set (120 lost recall@5, 250 MRR@10; README "Dev-set
# numbers"), and its answers were tuned there. With the bundled e5, 300 ranked better than 160 on
# all three gold sets (MRR@10 aiqa dev 0.922 -> 0.944, cmrc-trial 0.877 -> 0.947, drcd-dev
# 0.936 -> 0.963; benchmarks/fusion_sweep.py, README "Retrieval tuning"): the Wikipedia sets'
# answers are paragraph-sized, and e5 reads up to 512 tokens.
CHUNK_CHARS = {"offline": 160, "e5": 300}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIQA_", extra="ignore")

    corpus: Path = Path("corpus")
    index: Path = Path("index")
    # Where the index lives: `files` (the --index directory), a Milvus Lite file ending in .db, or
    # a Milvus server URI (http://host:port); a Milvus collection is named after the --index name.
    store: str = "files"
    milvus_token: str | None = None

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
    # carried over. None: the embedder's own size (chunk_size below).
    chunk_chars: int | None = Field(None, ge=20, le=4000)
    chunk_overlap: int = Field(1, ge=0, le=5)

    k: int = Field(5, ge=1, le=50)
    # BM25 counts 1 in the rank fusion and the dense half 0.5. Chosen for the offline embedder on the
    # dev set (it keeps BM25's recall@5 and lifts English recall@1), and still the best RRF weight
    # for the bundled e5 at 300-character chunks: 0.5 / 1 / 2 gave MRR@10 0.944 / 0.930 / 0.932 on
    # the aiqa dev set, 0.947 / 0.943 / 0.913 on cmrc-trial, 0.963 / 0.963 / 0.943 on drcd-dev.
    dense_weight: float = Field(0.5, ge=0, le=10)

    answerer: AnswererChoice = "auto"
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    # Seconds for the whole LLM reply (the answer falls back to extractive after it), and optionally
    # a shorter wait for its first piece, so a dead server is given up on sooner than a slow one.
    llm_timeout: float = Field(30.0, gt=0)
    llm_first_token_timeout: float | None = Field(None, gt=0)
    # The reply is cut here and checked as it stands. The prompt asks for one to three short
    # sentences (a few hundred characters); the caps leave room for a reasoning model's <think>
    # block while keeping a runaway reply's memory and checking time small.
    llm_max_chars: int = Field(8000, ge=1)
    llm_max_tokens: int = Field(2048, ge=1)
    llm_temperature: float = Field(0.1, ge=0, le=2)
    # What the citation check does with a generated sentence its cited passages do not hold.
    llm_unsupported: Literal["drop", "mark"] = "drop"

    reranker: str | None = None

    # Seconds `ask` waits for another process that is building the index before it answers from the
    # current one with a notice. The repo corpus builds in ~1.5 s and a 10 MB one in ~31 s
    # (README, "Performance"), so 30 s covers an update of most corpora without stalling a reader long.
    update_wait: float = Field(30.0, ge=0)

    host: str = "127.0.0.1"
    port: int = Field(7860, ge=0, le=65535)
    share: bool = False
    # Serving beyond loopback: "USER:PASS" for Gradio's login, or no_auth to serve openly on purpose.
    auth: str | None = None
    no_auth: bool = False
    # A shared deployment may forbid corpus uploads and rebuilds from the UI.
    read_only: bool = False
    # The key the UI encrypts the browser's copy of the conversations with; unset, a random key is
    # kept in the user's state directory so conversations survive a restart.
    ui_secret: str | None = None

    def chunk_size(self, embedder_kind: str) -> int:
        """Characters per chunk: AIQA_CHUNK_CHARS, or what was measured best for this embedder."""
        return self.chunk_chars or CHUNK_CHARS.get(embedder_kind, CHUNK_CHARS["e5"])

    @classmethod
    def load(cls, **flags: object) -> Settings:
        """Settings from the environment, with the given non-None flags taking precedence."""
        return cls.model_validate({key: value for key, value in flags.items() if value is not None})

    def with_overrides(self, **overrides: object) -> Settings:
        """A copy with the given non-None values replaced, validated like the original."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return self.model_validate({**self.model_dump(), **given})
