"""Vectors by chunk content, one file per embedder, so text is never embedded twice by one model.

index/embeddings/<sha of embedder id>.npz holds `embedder` (the id), `keys` (sha256 of each embedded
text) and `vectors`. A build reads the active embedder's file from the old index, writes the vectors
of the new index's chunks into the staging directory, and carries every other embedder's file over
unchanged, so switching models back and forth re-embeds nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DIRECTORY = "embeddings"


def content_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def _file_name(embedder_id: str) -> str:
    return hashlib.sha256(embedder_id.encode("utf-8")).hexdigest()[:24] + ".npz"


class EmbeddingCache:
    def __init__(self, embedder_id: str, dimension: int) -> None:
        self.embedder_id = embedder_id
        self.dimension = dimension
        self._vectors: dict[bytes, np.ndarray] = {}

    @classmethod
    def load(cls, index_directory: Path, embedder_id: str, dimension: int) -> EmbeddingCache:
        """The cached vectors of this embedder in the index directory (none when there are none)."""
        cache = cls(embedder_id, dimension)
        path = index_directory / DIRECTORY / _file_name(embedder_id)
        if not path.exists():
            return cache
        try:
            with np.load(path, allow_pickle=False) as data:
                stored_id, keys, vectors = str(data["embedder"]), data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            log.warning("ignoring the damaged embedding cache %s (%s)", path.name, type(error).__name__)
            return cache
        if stored_id == embedder_id and vectors.ndim == 2 and vectors.shape[1] == dimension:
            cache._vectors = {key.tobytes(): vector for key, vector in zip(keys, vectors, strict=True)}
        return cache

    def get(self, text: str) -> np.ndarray | None:
        return self._vectors.get(content_key(text))

    def save(self, texts: Sequence[str], vectors: np.ndarray, old_index: Path, staging: Path) -> None:
        """Write the vectors of `texts` for this embedder into `staging`, carrying the other embedders'
        files over from `old_index`."""
        target = staging / DIRECTORY
        target.mkdir(parents=True, exist_ok=True)
        own = _file_name(self.embedder_id)
        previous = old_index / DIRECTORY
        if previous.is_dir():
            for path in previous.glob("*.npz"):
                if path.name != own:
                    _link_or_copy(path, target / path.name)
        # Raw digests as uint8 rows: numpy's bytes dtype would strip a digest's trailing zero bytes.
        keys = np.frombuffer(b"".join(content_key(text) for text in texts), dtype=np.uint8).reshape(-1, 32)
        np.savez(target / own, embedder=np.array(self.embedder_id), keys=keys, vectors=vectors)


def _link_or_copy(source: Path, target: Path) -> None:
    # Cache files are never modified in place, so the new index may share them with the old one.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
