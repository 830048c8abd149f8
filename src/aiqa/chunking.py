"""Chunking: pack whole sentences into passages of about `chunk_chars` characters, with overlap."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .chinese import Sentence, clean, normalize, split_sentences
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


# A "sentence" longer than this many chunks is not prose (a file on one line without end
# punctuation, a table dump); it is cut into pieces, at a comma or space where there is one.
MAX_SENTENCE_CHUNKS = 4
_SOFT_BREAK = re.compile(r"[，、,：:\s]")


def _bounded(sentences: list[Sentence], text: str, limit: int) -> Iterator[Sentence]:
    for sentence in sentences:
        if len(sentence.clean) <= limit:
            yield sentence
            continue
        start = sentence.start
        while start < sentence.end:
            end = min(start + limit, sentence.end)
            if end < sentence.end:
                breaks = [m.end() for m in _SOFT_BREAK.finditer(text, start + limit // 2, end)]
                end = breaks[-1] if breaks else end
            piece = clean(text[start:end])
            if piece.strip():
                yield Sentence(start, end, piece, heading=sentence.heading and start == sentence.start)
            start = end


def chunk_document(document: Document, params: ChunkingParams, first_id: int = 0) -> list[Chunk]:
    limit = MAX_SENTENCE_CHUNKS * params.chunk_chars
    sentences = list(_bounded(split_sentences(document.text), document.text, limit))
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
