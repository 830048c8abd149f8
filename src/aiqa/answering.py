"""The answerer interface, and what every answerer shares: refusals and citation numbering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from .chinese import Language
from .models import Citation, Passage, ScoredSpan
from .retrieval import Query

REFUSALS: dict[Language, str] = {
    "zh-Hans": "语料中没有找到这个问题的答案。",
    "zh-Hant": "語料中沒有找到這個問題的答案。",
    "en": "The corpus does not say.",
}


@dataclass
class Draft:
    """What an answerer returns; the pipeline adds the question, timings and retrieval list."""

    answer: str
    answerable: bool
    citations: list[Citation] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    answerer: str | None = None  # who composed it, when not the answerer asked (a fallback)


class Answerer(Protocol):
    name: str

    def answer(self, query: Query, passages: list[Passage]) -> Draft: ...

    def stream(self, query: Query, passages: list[Passage]) -> Iterator[str | Draft]:
        """Text deltas of the answer as it is composed, then the final (checked) Draft."""
        ...


def stream_whole(draft: Draft) -> Iterator[str | Draft]:
    """A stream for answerers that compose all at once: one delta per sentence, then the draft."""
    for piece in draft.answer.split(" "):
        yield piece + " "
    yield draft


def refusal(query: Query, notices: list[str] | None = None) -> Draft:
    return Draft(answer=REFUSALS[query.language], answerable=False, notices=notices or [])


def citation_for(n: int, passage: Passage, highlight: list[tuple[int, int]]) -> Citation:
    span = {name: getattr(passage, name) for name in ScoredSpan.model_fields}
    return Citation(n=n, highlight=highlight, **span)
