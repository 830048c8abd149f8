"""Retrieval: dense (FAISS) and lexical (BM25) candidates fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .chinese import Language, detect_language, normalize, tokenize
from .embedding import Embedder
from .models import Passage
from .store import LoadedIndex

RRF_K = 60
CANDIDATES = 50


@dataclass(frozen=True)
class Query:
    text: str
    normalized: str
    tokens: list[str]
    language: Language


def make_query(question: str) -> Query:
    normalized = normalize(question)
    return Query(question, normalized, tokenize(normalized), detect_language(question))


class Retriever(Protocol):
    def retrieve(self, query: Query, k: int) -> list[Passage]: ...


class HybridRetriever:
    """BM25 over jieba tokens plus dense inner product, fused with reciprocal rank fusion.

    Scores are the fused value scaled so that a passage ranked first by both halves scores 1.0.
    """

    def __init__(self, index: LoadedIndex, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder

    def lexical_ranking(self, query: Query, depth: int) -> np.ndarray:
        if not query.tokens:
            return np.zeros(0, dtype=np.int64)
        scores = self.index.bm25.get_scores(query.tokens)
        return _top(scores, depth)

    def dense_ranking(self, query: Query, depth: int) -> np.ndarray:
        vector = self.embedder.embed([query.normalized], query=True)
        if not np.any(vector):
            return np.zeros(0, dtype=np.int64)
        _, ids = self.index.dense.search(vector, min(depth, self.index.dense.ntotal))
        return ids[0][ids[0] >= 0]

    def retrieve(self, query: Query, k: int) -> list[Passage]:
        depth = max(CANDIDATES, k)
        fused: dict[int, float] = {}
        for ranking in (self.lexical_ranking(query, depth), self.dense_ranking(query, depth)):
            for rank, chunk_id in enumerate(ranking.tolist()):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        scale = 2.0 / (RRF_K + 1)
        return [self._passage(chunk_id, score / scale) for chunk_id, score in best]

    def _passage(self, chunk_id: int, score: float) -> Passage:
        chunk = self.index.chunks[chunk_id]
        return Passage(
            doc=chunk.doc,
            title=chunk.title,
            start=chunk.start,
            end=chunk.end,
            text=chunk.text,
            score=round(float(score), 4),
            chunk_id=chunk_id,
            sentences=chunk.sentences,
        )


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    positive = np.flatnonzero(scores > 0)
    if positive.size > depth:
        positive = positive[np.argpartition(-scores[positive], depth)[:depth]]
    return positive[np.argsort(-scores[positive], kind="stable")]
