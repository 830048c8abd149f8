"""Choosing the embedder: one registry of names, and the reason the active one was chosen."""

from __future__ import annotations

from dataclasses import dataclass

from .embedding import Embedder, HashingEmbedder
from .settings import Settings


@dataclass(frozen=True)
class EmbedderChoice:
    embedder: Embedder
    reason: str  # one sentence for the CLI and the UI: which embedder is active and why

    @property
    def description(self) -> str:
        return f"{self.embedder.id} ({self.reason})"


def choose_embedder(settings: Settings) -> EmbedderChoice:
    return EmbedderChoice(
        HashingEmbedder(), "offline embedder: the built-in default, no model weights needed"
    )
