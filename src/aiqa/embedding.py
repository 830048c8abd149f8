"""Embedding: the narrow `Embedder` interface and the offline default that needs no weights."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import BaseModel

from .chinese import tokenize


class EmbedderSpec(BaseModel):
    """What the manifest needs to load the same embedder again for queries."""

    kind: str  # a name of the registry in embedders.py
    model: str  # what that kind loads: a model name or directory, or the hashing scheme
    version: str  # the version of the package (or scheme) that made the vectors


@runtime_checkable
class Embedder(Protocol):
    """Turns normalized text into L2-normalized float32 vectors of a fixed dimension."""

    @property
    def id(self) -> str:
        """Identity of the vectors: two embedders with one id give interchangeable vectors."""
        ...

    @property
    def name(self) -> str:
        """What the user is shown, e.g. "multilingual-e5-small (bundled, 4-bit)"."""
        ...

    @property
    def dimension(self) -> int: ...

    @property
    def spec(self) -> EmbedderSpec: ...

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray: ...


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))
_WORD_SALT = 0x5BD1E995


@lru_cache(maxsize=200_000)
def _word_hash(word: str) -> int:
    return zlib.crc32(word.encode("utf-8"), _WORD_SALT)


class HashingEmbedder:
    """Deterministic, weight-free embedder: signed feature hashing of character bigrams and
    trigrams plus jieba words, with sublinear term frequency.

    Character n-grams match across word-segmentation differences and partial names; words add
    precision. It needs no download, starts instantly, and is the same on every machine.
    """

    def __init__(self, dimension: int = 1024) -> None:
        self._dimension = dimension

    @property
    def id(self) -> str:
        return f"offline:hashing-ngram-v1-{self._dimension}"

    @property
    def name(self) -> str:
        return "hashing embedder (character n-grams and words, no model)"

    @property
    def spec(self) -> EmbedderSpec:
        return EmbedderSpec(kind="offline", model=f"hashing-ngram-{self._dimension}", version="1")

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            self._embed_into(text, vectors[row])
        return vectors

    def _embed_into(self, text: str, out: np.ndarray) -> None:
        hashes = [_char_ngram_hashes(text, 2), _char_ngram_hashes(text, 3)]
        word_hashes = [_word_hash(word) for word in tokenize(text) if len(word) > 1]
        if word_hashes:
            hashes.append(np.asarray(word_hashes, dtype=np.uint64) * _MIX[2])
        features = np.concatenate(hashes)
        if features.size == 0:
            return
        unique, counts = np.unique(features, return_counts=True)
        weights = (1.0 + np.log(counts)).astype(np.float32)
        signs = np.where((unique >> np.uint64(63)) == 1, -1.0, 1.0).astype(np.float32)
        np.add.at(out, (unique % np.uint64(self._dimension)).astype(np.int64), weights * signs)
        norm = np.linalg.norm(out)
        if norm > 0:
            out /= norm


def _char_ngram_hashes(text: str, n: int) -> np.ndarray:
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if codes.size < n:
        return np.zeros(0, dtype=np.uint64)
    is_word = _word_char_mask(codes)
    hashes = np.full(codes.size - n + 1, np.uint64(n), dtype=np.uint64)
    valid = np.ones(codes.size - n + 1, dtype=bool)
    for position in range(n):
        window = codes[position : codes.size - n + 1 + position]
        hashes = (hashes ^ window) * _MIX[position % 2]
        valid &= is_word[position : codes.size - n + 1 + position]
    return hashes[valid]


def _word_char_mask(codes: np.ndarray) -> np.ndarray:
    return (
        ((codes >= 0x4E00) & (codes <= 0x9FFF))
        | ((codes >= 0x3400) & (codes <= 0x4DBF))
        | ((codes >= ord("0")) & (codes <= ord("9")))
        | ((codes >= ord("a")) & (codes <= ord("z")))
    )
