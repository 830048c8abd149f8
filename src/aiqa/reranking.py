"""Optional reranking: a sentence-transformers CrossEncoder rescores the fused top passages.

Off unless `AIQA_RERANKER` names a model. The model is found by the same rules as the embedder
(local directory, local cache, or a hub that answers in time); when it cannot be had, answering goes
on without it and the reason is shown, as for the embedder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .errors import ModelError
from .hub import ModelSource, Unavailable, locate_model
from .models import Passage
from .retrieval import Query, Retriever
from .settings import Settings

RERANK_DEPTH = 20


class Reranker(Protocol):
    @property
    def id(self) -> str: ...

    def rerank(self, query: Query, passages: list[Passage]) -> list[Passage]: ...


class CrossEncoderReranker:
    """Scores (question, passage) pairs jointly; a passage's score becomes the model's relevance."""

    def __init__(self, source: ModelSource, batch_size: int = 32) -> None:
        from .st_embedder import load_model

        self._model = load_model("CrossEncoder", source)
        self._batch_size = batch_size
        self.id = f"cross-encoder:{source.model_id}"

    def rerank(self, query: Query, passages: list[Passage]) -> list[Passage]:
        if not passages:
            return []
        scores = self._model.predict(
            [(query.text, passage.text) for passage in passages],
            batch_size=self._batch_size,
            show_progress_bar=False,
        )
        order = sorted(range(len(passages)), key=lambda i: (-float(scores[i]), i))
        return [passages[i].model_copy(update={"score": round(float(scores[i]), 4)}) for i in order]


@dataclass(frozen=True)
class RerankerChoice:
    reranker: Reranker | None
    reason: str  # one sentence for the CLI and the UI, shown beside the embedder's name

    @property
    def description(self) -> str:
        return f"{self.reranker.id if self.reranker else 'off'} ({self.reason})"


def choose_reranker(settings: Settings) -> RerankerChoice:
    if not settings.reranker:
        return RerankerChoice(None, "AIQA_RERANKER is not set")
    source = locate_model(settings.reranker, settings.hub_timeout)
    if isinstance(source, Unavailable):
        return RerankerChoice(
            None, f"{source.problem}; set AIQA_RERANKER to a local model directory to rerank"
        )
    try:
        reranker = CrossEncoderReranker(source, settings.embed_batch_size)
    except ModelError as error:
        cause = type(error.__cause__ or error).__name__
        return RerankerChoice(None, f"{settings.reranker} could not be loaded ({cause})")
    return RerankerChoice(reranker, f"cross-encoder reranker: {settings.reranker} from the {source.where}")


@dataclass(frozen=True)
class RerankingRetriever:
    """Takes the inner retriever's top RERANK_DEPTH and returns them in the reranker's order."""

    inner: Retriever
    reranker: Reranker
    depth: int = RERANK_DEPTH

    def retrieve(self, query: Query, k: int) -> list[Passage]:
        candidates = self.inner.retrieve(query, max(k, self.depth))
        return self.reranker.rerank(query, candidates[: max(k, self.depth)])[:k]
