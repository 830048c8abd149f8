"""What the rest of aiqa asks of an index store, and the store a setting names.

Two stores implement it: plain files in a directory (store.py, the default) and a Milvus collection
(milvus_store.py: Milvus Lite in a .db file, or a server at http(s)://host:port). Retrieval,
answering and the front ends see only these protocols.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from .chunking import ChunkingParams
from .embedding import Embedder
from .errors import SettingsError
from .models import Chunk
from .store import BuildReport, Manifest, Progress, build_index, load_index, read_manifest


class SearchIndex(Protocol):
    """A loaded index: candidates by id, and the records behind them."""

    manifest: Manifest

    @property
    def size(self) -> int:
        """How many chunks it holds."""
        ...

    @property
    def lexicon(self) -> dict[str, list[str]]:
        """English → Chinese corpus words (lexicon.py)."""
        ...

    def dense_candidates(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        """Up to `depth` chunk ids by inner product with the (1, dimension) vector, best first."""
        ...

    def lexical_candidates(self, tokens: list[str], depth: int) -> dict[int, float]:
        """Up to `depth` chunk ids with a positive BM25 score for the tokens, best first."""
        ...

    def chunks_by_id(self, ids: list[int]) -> dict[int, Chunk]:
        """The chunk records of the given ids, exactly as they were built (verbatim text, offsets)."""
        ...

    def idf(self, tokens: list[str]) -> np.ndarray:
        """Inverse document frequency of each token over the chunks (unseen tokens get the maximum)."""
        ...


class Store(Protocol):
    description: str

    def read_manifest(self) -> Manifest | None:
        """What built the index, or None when there is none."""
        ...

    def build(
        self,
        corpus: Path,
        embedder: Embedder,
        params: ChunkingParams,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        wait: float = 0,
        if_changed: bool = False,
    ) -> BuildReport:
        """Build, or update file by file; a build that fails leaves the index answering as before."""
        ...

    def load(self) -> SearchIndex: ...

    def stamp(self) -> object:
        """Cheap to read; changes whenever a build (in any process) replaces or updates the index."""
        ...


class FilesStore:
    """The index as a directory of plain files (store.py)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.description = str(directory)

    def read_manifest(self) -> Manifest | None:
        return read_manifest(self.directory)

    def build(
        self,
        corpus: Path,
        embedder: Embedder,
        params: ChunkingParams,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        wait: float = 0,
        if_changed: bool = False,
    ) -> BuildReport:
        return build_index(
            corpus,
            self.directory,
            embedder,
            params,
            rebuild=rebuild,
            progress=progress,
            wait=wait,
            if_changed=if_changed,
        )

    def load(self) -> SearchIndex:
        return load_index(self.directory)

    def stamp(self) -> object:
        # A build renames a new directory into place, so the manifest's inode or mtime changes.
        try:
            stat = (self.directory / "manifest.json").stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns


def open_store(store: str, index: Path, token: str | None = None) -> Store:
    """`files` (the directory `index`), a Milvus Lite file ending in .db, or a Milvus server URI."""
    if store == "files":
        return FilesStore(index)
    if store.endswith(".db") or store.startswith(("http://", "https://")):
        from .milvus_store import MilvusStore  # pymilvus is an optional extra: imported only here

        return MilvusStore(store, collection_name(index), token)
    raise SettingsError(
        f"AIQA_STORE={store!r} is not a store; use `files`, a Milvus Lite file ending in .db, "
        "or a Milvus server URI such as http://127.0.0.1:19530."
    )


def collection_name(index: Path) -> str:
    """The Milvus collection for an index: its directory name, in the characters Milvus allows."""
    name = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in index.name or "index")
    return f"aiqa_{name}"
