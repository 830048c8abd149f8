"""Choosing the embedder: one registry of names, and the reason the active one was chosen."""

from __future__ import annotations

from dataclasses import dataclass

from .embedding import Embedder, HashingEmbedder
from .errors import ModelError
from .hub import Unavailable, locate_model
from .settings import Settings

OFFLINE_HINT = "set AIQA_EMBED_MODEL to a local model directory for semantic search"


@dataclass(frozen=True)
class EmbedderChoice:
    embedder: Embedder
    reason: str  # one sentence for the CLI and the UI: which embedder is active and why

    @property
    def description(self) -> str:
        return f"{self.embedder.id} ({self.reason})"


def choose_embedder(settings: Settings) -> EmbedderChoice:
    """`offline` always works; `sentence-transformers` loads its model or fails with a ModelError;
    `auto` loads the model when it is local, cached or the hub answers, and otherwise goes offline."""
    if settings.embedder == "offline":
        return EmbedderChoice(HashingEmbedder(), "offline embedder: chosen by AIQA_EMBEDDER=offline")
    explicit = settings.embedder == "sentence-transformers"
    source = locate_model(settings.embed_model, settings.hub_timeout)
    if isinstance(source, Unavailable):
        if explicit:
            raise ModelError(
                f"The embedding model cannot be loaded: {source.problem}; set AIQA_EMBED_MODEL to a local "
                "model directory, or AIQA_EMBEDDER=offline."
            )
        return EmbedderChoice(HashingEmbedder(), f"offline embedder: {source.problem}; {OFFLINE_HINT}")

    from .st_embedder import Prompts, SentenceTransformerEmbedder, family_prompts

    family = family_prompts(settings.embed_model)
    prompts = Prompts(
        query=family.query if settings.embed_query_prompt is None else settings.embed_query_prompt,
        passage=family.passage if settings.embed_passage_prompt is None else settings.embed_passage_prompt,
    )
    try:
        embedder = SentenceTransformerEmbedder(source, prompts, settings.embed_batch_size)
    except ModelError as error:
        if explicit:
            raise
        cause = type(error.__cause__ or error).__name__
        return EmbedderChoice(
            HashingEmbedder(),
            f"offline embedder: {settings.embed_model} could not be loaded ({cause}); {OFFLINE_HINT}",
        )
    return EmbedderChoice(
        embedder, f"sentence-transformers embedder: {settings.embed_model} from the {source.where}"
    )
