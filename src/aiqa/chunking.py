"""Chunking: pack whole sentences into passages of about `chunk_chars` characters, with overlap."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .chinese import Sentence, normalize, split_sentences
from .models import Chunk, Document


@dataclass(frozen=True)
class ChunkingParams:
    chunk_chars: int
    chunk_overlap: int


def _packs(sentences: list[Sentence], params: ChunkingParams) -> Iterator[list[Sentence]]:
    """Consecutive runs of sentences, each at most chunk_chars long unless one sentence is longer.

    A heading always opens a run: it belongs to the section below it, not to the one above.
    """
    first = 0
    while first < len(sentences):
        last = first
        size = len(sentences[first].clean)
        while (
            last + 1 < len(sentences)
            and not sentences[last + 1].heading
            and size + len(sentences[last + 1].clean) <= params.chunk_chars
        ):
            last += 1
            size += len(sentences[last].clean)
        yield sentences[first : last + 1]
        if last + 1 >= len(sentences):
            return
        # Overlap by whole sentences, but always move forward and never carry text across a heading.
        first = last + 1 if sentences[last + 1].heading else max(first + 1, last + 1 - params.chunk_overlap)


def chunk_document(document: Document, params: ChunkingParams, first_id: int = 0) -> list[Chunk]:
    sentences = split_sentences(document.text)
    title = normalize(document.title)
    chunks = []
    for offset, pack in enumerate(_packs(sentences, params)):
        start, end = pack[0].start, pack[-1].end
        body = normalize("".join(sentence.clean for sentence in pack))
        chunks.append(
            Chunk(
                id=first_id + offset,
                doc=document.doc,
                title=document.title,
                start=start,
                end=end,
                text=document.text[start:end],
                # The title is prepended so that a passage is found by what its document is about.
                indexed=f"{title}\n{body}" if title not in body else body,
                sentences=[(sentence.start, sentence.end) for sentence in pack],
            )
        )
    return chunks
