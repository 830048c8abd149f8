"""Typed records that cross stage boundaries."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Document(BaseModel):
    """A decoded corpus file. `text` is the verbatim decoded content every offset refers to."""

    doc: str = Field(description="path relative to the corpus directory, with / separators")
    title: str
    text: str
    sha256: str = Field(description="hash of the raw file bytes")


class Chunk(BaseModel):
    """A span of a document, packed from whole sentences.

    `text == document.text[start:end]` always; `indexed` is the cleaned, normalized form that is
    tokenized and embedded, and `sentences` are the (start, end) spans of its cleaned sentences.
    """

    id: int
    doc: str
    title: str
    start: int
    end: int
    text: str
    indexed: str
    sentences: list[tuple[int, int]]


class ScoredSpan(BaseModel):
    """A verbatim span of a corpus file: `text == file_text[start:end]`, with its retrieval score."""

    doc: str
    title: str
    start: int
    end: int
    text: str
    score: float


class Passage(ScoredSpan):
    """A retrieved chunk with its score (higher is better)."""

    chunk_id: int = Field(exclude=True)
    sentences: list[tuple[int, int]] = Field(default_factory=list, exclude=True)
    # The two halves' raw evidence, for answerers that weigh it: the embedder's cosine similarity
    # to the question and the BM25 score (None where that half did not rank the passage).
    dense: float | None = Field(None, exclude=True)
    lexical: float | None = Field(None, exclude=True)


class Citation(ScoredSpan):
    """A passage the answer cites as `[n]`; `highlight` is the sentence span the answer used."""

    n: int
    highlight: list[tuple[int, int]] = Field(default_factory=list)


class Answer(BaseModel):
    """The result of `ask`: the answer text with `[n]` markers and the passages behind it."""

    question: str
    # The self-contained question retrieval was run with, when a follow-up was rewritten from the
    # conversation ("理解为：…" under the answer); None when the question was asked as it stands.
    rewritten: str | None = None
    answer: str
    answerable: bool
    citations: list[Citation]
    retrieved: list[Passage]
    embedder: str
    answerer: str
    latency_ms: float
    notices: list[str] = Field(default_factory=list)

    def to_json_dict(self) -> dict:
        data = self.model_dump(exclude={"notices", "rewritten"})
        if self.rewritten:
            data["rewritten"] = self.rewritten
        if self.notices:
            data["notices"] = self.notices
        return data
