"""Retrieval: dense and lexical (BM25) candidates from the store, fused by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .chinese import Language, detect_language, normalize, tokenize
from .embedding import Embedder
from .lexicon import english_terms
from .models import Chunk, Passage
from .stores import SearchIndex

RRF_K = 60
CANDIDATES = 50


@dataclass(frozen=True)
class Term:
    """One thing the question asks about, and the corpus words that count as mentioning it."""

    surface: str
    forms: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    text: str
    normalized: str
    language: Language
    terms: tuple[Term, ...]
    # Rewritten from the conversation (condense.py): its answer must hold the kind of thing it asks
    # for, name the names the follow-up itself typed ("那泸州呢？") and the people carried in.
    follow_up: bool = False
    typed_names: tuple[Term, ...] = ()  # surface: the name as typed; forms: how a sentence names it
    # The people the rewrite carried in for 他/她/he/she (normalized): its quotes' passages must name them.
    carried_people: tuple[str, ...] = ()

    @property
    def tokens(self) -> list[str]:
        """Every form of every term, for BM25."""
        return [form for term in self.terms for form in term.forms]

    @property
    def search_text(self) -> str:
        """The question plus the Chinese renderings of its English words, for the embedder."""
        extra = [form for term in self.terms for form in term.forms[:-1]]
        return " ".join([self.normalized, *extra]) if extra else self.normalized


def make_query(question: str, lexicon: dict[str, list[str]] | None = None) -> Query:
    normalized = normalize(question)
    terms = [Term(token, (token,)) for token in dict.fromkeys(tokenize(normalized)) if not token.isascii()]
    if lexicon is not None:
        terms += [
            Term(surface, tuple(dict.fromkeys(forms))) for surface, forms in english_terms(question, lexicon)
        ]
    else:
        terms += [Term(token, (token,)) for token in dict.fromkeys(tokenize(normalized)) if token.isascii()]
    return Query(question, normalized, detect_language(question), tuple(dict.fromkeys(terms)))


class Retriever(Protocol):
    def retrieve(self, query: Query, k: int) -> list[Passage]: ...


class HybridRetriever:
    """BM25 over jieba tokens plus dense inner product, fused with reciprocal rank fusion.

    Scores are the fused value scaled so that a passage ranked first by both halves scores 1.0.
    """

    def __init__(self, index: SearchIndex, embedder: Embedder, dense_weight: float) -> None:
        self.index = index
        self.embedder = embedder
        self.dense_weight = dense_weight

    def lexical_ranking(self, query: Query, depth: int) -> dict[int, float]:
        """The top chunks by BM25, best first, with their scores."""
        if not query.tokens:
            return {}
        return self.index.lexical_candidates(query.tokens, depth)

    def dense_ranking(self, query: Query, depth: int) -> dict[int, float]:
        """The top chunks by inner product with the question's vector, best first, with their scores."""
        vector = self.embedder.embed([query.search_text], query=True)
        if not np.any(vector):
            return {}
        return self.index.dense_candidates(vector, depth)

    def retrieve(self, query: Query, k: int) -> list[Passage]:
        depth = max(CANDIDATES, k)
        lexical = self.lexical_ranking(query, depth)
        dense = self.dense_ranking(query, depth) if self.dense_weight > 0 else {}
        best = fuse([(1.0, lexical), (self.dense_weight, dense)], k)
        chunks = self.index.chunks_by_id([chunk_id for chunk_id, _ in best])
        return [
            _passage(chunks[chunk_id], chunk_id, score, dense.get(chunk_id), lexical.get(chunk_id))
            for chunk_id, score in best
        ]


def _passage(
    chunk: Chunk, chunk_id: int, score: float, dense: float | None, lexical: float | None
) -> Passage:
    return Passage(
        doc=chunk.doc,
        title=chunk.title,
        start=chunk.start,
        end=chunk.end,
        text=chunk.text,
        score=round(float(score), 4),
        chunk_id=chunk_id,
        sentences=chunk.sentences,
        dense=dense,
        lexical=lexical,
    )


def fuse(
    rankings: list[tuple[float, dict[int, float]]], k: int, rrf_k: int = RRF_K
) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion of rankings (best first): the top `k` chunk ids with their
    fused scores, scaled so that a chunk ranked first by every ranking scores 1.0."""
    fused: dict[int, float] = {}
    for weight, ranking in rankings:
        for rank, chunk_id in enumerate(ranking):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + weight / (rrf_k + rank + 1)
    scale = sum(weight for weight, _ in rankings) / (rrf_k + 1)
    best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [(chunk_id, score / scale) for chunk_id, score in best if score > 0]
