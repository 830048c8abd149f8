"""The index store: one directory of plain files with a manifest, built aside and renamed into place.

index/
  manifest.json   what built it: schema, aiqa version, embedder, chunking, a sha256 per corpus file
  chunks.jsonl    one Chunk per line, in id order
  tokens.jsonl    the BM25 tokens of each chunk (kept so unchanged files are never re-tokenized)
  dense.faiss     inner-product FAISS index over L2-normalized vectors, row i = chunk i (dense_index.py)
  embeddings/     vectors by chunk content hash, one file per embedder (embedding_cache.py)
  bm25/           bm25s's own files
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from pydantic import BaseModel, ValidationError

from . import __version__
from .bm25_scores import Bm25Scores
from .chinese import tokenize
from .chunking import ChunkingParams, chunk_document
from .dense_index import DenseKind, build_dense, dense_kind, stored_vectors
from .embedding import Embedder
from .embedding_cache import EmbeddingCache
from .errors import CorpusError, IndexBusyError, IndexStateError
from .index_guard import absolute, check_index_path, is_ours
from .lexicon import LEXICON_FILE, build_lexicon, load_lexicon, save_lexicon
from .loading import corpus_files, parse_document, read_bytes, relative_name, sha256
from .models import Chunk, Document

log = logging.getLogger(__name__)

# 2: titles, long-sentence cutting and footnote handling changed what a chunk indexes.
# 3: the manifest says how to load the embedder again (EmbedderInfo's kind, model and version).
SCHEMA_VERSION = 3
EMBED_BATCH = 64
# How often a process waiting for another one's build tries the lock again.
LOCK_POLL_SECONDS = 0.1

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as files are read and chunks are embedded. The embedding
total is an estimate until every file is read (chunks to embed so far, scaled to the corpus bytes)."""
STAGES = {"read": "Reading files", "embed": "Embedding chunks"}


class EmbedderInfo(BaseModel):
    """The embedder that built an index: enough to load it again for queries (embedders.py).

    The defaults let an index of schema 2, which had only `id` and `dimension`, be read far enough
    to say that it is outdated."""

    id: str
    name: str = ""
    kind: str = ""
    model: str = ""
    version: str = ""
    dimension: int


class FileEntry(BaseModel):
    sha256: str
    title: str
    chunks: int
    size: int = -1
    mtime_ns: int = -1


class CorpusChanges(BaseModel):
    """How the corpus differs from what the index was built from."""

    added: list[str] = []
    changed: list[str] = []
    removed: list[str] = []

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def describe(self) -> str:
        parts = [
            f"{len(names)} {label}"
            for label, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed))
            if names
        ]
        return ", ".join(parts)


class Manifest(BaseModel):
    schema_version: int
    aiqa_version: str
    embedder: EmbedderInfo
    chunking: dict[str, int]
    files: dict[str, FileEntry]
    skipped: list[str] = []
    # Size and mtime of each skipped file when it was skipped, so that a fixed file shows as new.
    skipped_stats: dict[str, dict[str, int]] = {}
    built_at: str
    dense: DenseKind = "flat"


class BuildReport(BaseModel):
    files: int
    chunks: int
    embedder: str
    seconds: float
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[str]
    embedded_chunks: int
    rebuilt: bool


@dataclass
class LoadedIndex:
    directory: Path
    manifest: Manifest
    chunks: list[Chunk]
    dense: Any  # faiss.Index (faiss ships no type hints)
    bm25: Bm25Scores
    _document_frequency: np.ndarray | None = field(default=None, repr=False)
    _lexicon: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def lexicon(self) -> dict[str, list[str]]:
        """English → Chinese corpus words, read on first use (only English questions need it)."""
        if self._lexicon is None:
            try:
                self._lexicon = load_lexicon(self.directory)
            except (OSError, ValueError) as error:
                raise IndexStateError(
                    f"The index in {self.directory} has a damaged {LEXICON_FILE} ({type(error).__name__}); "
                    "run `aiqa index --rebuild`."
                ) from error
        return self._lexicon

    @property
    def size(self) -> int:
        return len(self.chunks)

    def dense_candidates(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        scores, ids = self.dense.search(vector, min(depth, self.dense.ntotal))
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}

    def lexical_candidates(self, tokens: list[str], depth: int) -> dict[int, float]:
        scores = self.bm25.get_scores(tokens)
        return {int(chunk_id): float(scores[chunk_id]) for chunk_id in _top(scores, depth)}

    def chunks_by_id(self, ids: list[int]) -> dict[int, Chunk]:
        return {chunk_id: self.chunks[chunk_id] for chunk_id in ids}

    def idf(self, tokens: list[str]) -> np.ndarray:
        """Inverse document frequency of each token over the chunks (unseen tokens get the maximum)."""
        if self._document_frequency is None:
            self._document_frequency = self.bm25.document_frequency()
        vocab = self.bm25.vocab_dict
        total = max(len(self.chunks), 1)
        frequencies = np.array(
            [self._document_frequency[vocab[t]] if t in vocab else 0 for t in tokens], dtype=np.float64
        )
        return np.log((total + 1) / (frequencies + 0.5))


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    """The ids of the `depth` best positive scores, best first (ties by id)."""
    positive = np.flatnonzero(scores > 0)
    if positive.size > depth:
        positive = positive[np.argpartition(-scores[positive], depth)[:depth]]
    return positive[np.argsort(-scores[positive], kind="stable")]


def _manifest_path(directory: Path) -> Path:
    return directory / "manifest.json"


def _previous(directory: Path) -> Path:
    return directory.with_name(f".{directory.name}.previous")


def _recover(directory: Path) -> None:
    """Finish a swap that was interrupted between its two renames (call it holding build_lock)."""
    previous = _previous(directory)
    if not directory.exists() and is_ours(previous):
        previous.rename(directory)


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest of the index in `directory`, or None when there is no index there."""
    directory = absolute(directory)
    if not directory.exists() and _previous(directory).exists():
        # Only when no build is running: a running build is between its renames right now.
        with contextlib.suppress(IndexStateError), build_lock(directory):
            _recover(directory)
    path = _manifest_path(directory)
    if not path.exists():
        return None
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as error:
        raise IndexStateError(
            f"The index in {directory} is damaged ({type(error).__name__}); run `aiqa index --rebuild`."
        ) from error


def chunking_dict(params: ChunkingParams) -> dict[str, int]:
    return {"chunk_chars": params.chunk_chars, "chunk_overlap": params.chunk_overlap}


def outdated(manifest: Manifest) -> str | None:
    """Why an index of another schema cannot be read, or None when it can."""
    if manifest.schema_version != SCHEMA_VERSION:
        return f"it has schema version {manifest.schema_version}, this aiqa reads {SCHEMA_VERSION}"
    return None


def incompatibility(manifest: Manifest, embedder: Embedder, params: ChunkingParams) -> str | None:
    """Why an index cannot serve this embedder and chunking, or None when it can."""
    if reason := outdated(manifest):
        return reason
    if manifest.embedder.id != embedder.id or manifest.embedder.dimension != embedder.dimension:
        return f"it was built with embedder {manifest.embedder.id}, the active embedder is {embedder.id}"
    if manifest.chunking != chunking_dict(params):
        return f"it was built with chunking {manifest.chunking}, settings ask for {chunking_dict(params)}"
    return None


def _read_index_files(directory: Path) -> tuple[list[Chunk], Any, Bm25Scores]:
    import faiss

    with open(directory / "chunks.jsonl", encoding="utf-8") as handle:
        chunks = [Chunk.model_validate_json(line) for line in handle]
    return chunks, faiss.read_index(str(directory / "dense.faiss")), Bm25Scores(directory / "bm25")


def load_index(directory: Path) -> LoadedIndex:
    directory = absolute(directory)
    with swap_lock(directory, exclusive=False):
        manifest = read_manifest(directory)
        if manifest is None:
            raise IndexStateError(f"There is no index in {directory}; run `aiqa index` to build it.")
        try:
            chunks, dense, bm25 = _read_index_files(directory)
        except (OSError, RuntimeError, ValueError, ValidationError, KeyError) as error:
            raise IndexStateError(
                f"The index in {directory} is damaged or incomplete ({type(error).__name__}); "
                "run `aiqa index --rebuild`."
            ) from error
    expected = sum(entry.chunks for entry in manifest.files.values())
    if not (len(chunks) == dense.ntotal == expected) or dense.d != manifest.embedder.dimension:
        raise IndexStateError(f"The index in {directory} is inconsistent; run `aiqa index --rebuild`.")
    return LoadedIndex(directory, manifest, chunks, dense, bm25)


@contextlib.contextmanager
def build_lock(directory: Path, *, wait: float = 0) -> Iterator[None]:
    """One build per index at a time; a second one waits up to `wait` seconds, then fails with a
    clear message (IndexBusyError)."""
    lock_path = directory.with_name(f".{directory.name}.lock")
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115 (closed by the with below)
    except OSError as error:
        raise _unwritable(directory, error) from error
    with handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"Another aiqa process is building the index in {directory}; wait for it to finish."
                    ) from None
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def swap_lock(directory: Path, *, exclusive: bool) -> Iterator[None]:
    """Readers share this lock while they read an index's files; a build takes it alone for its two
    renames, so no reader sees the index missing, or half old and half new."""
    try:
        handle = open(directory.with_name(f".{directory.name}.swap-lock"), "a+")  # noqa: SIM115
    except OSError:  # nowhere to put the lock file: nothing can build, so nothing can swap, there
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _unwritable(directory: Path, error: OSError) -> IndexStateError:
    # mkdir says "File exists" when a file stands where a directory of the path should be.
    if isinstance(error, FileExistsError | NotADirectoryError):
        reason = "part of that path is a file, not a directory"
    else:
        reason = error.strerror or str(error)
    if error.errno in _NO_SPACE:
        advice = "free some disk space, or choose a directory on another disk with --index"
    else:
        advice = "choose a directory you can write to with --index"
    return IndexStateError(f"Cannot write the index in {directory} ({reason}); {advice}.")


_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def _write_faiss(dense: Any, path: Path) -> None:
    """faiss.write_index through a Python file, so that a failed write (a full disk) raises the
    OSError it is: FAISS's own file writer raises RuntimeError and prints to stderr."""
    import faiss

    with open(path, "wb") as handle:
        writer = faiss.PyCallbackIOWriter(handle.write)  # type: ignore[attr-defined]  # SWIG, no stub
        faiss.write_index(dense, writer)
        del writer


@dataclass
class _Reusable:
    dense: Any  # the old faiss index
    chunks: list[Chunk] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)

    def vectors(self) -> np.ndarray:
        """The file's rows of the old index (its chunks are consecutive), read only when needed."""
        return self.dense.reconstruct_n(self.chunks[0].id, len(self.chunks))


def _reusable_by_file(directory: Path, vocabulary: dict[str, str]) -> dict[str, _Reusable]:
    """Chunks, tokens and vectors of the old index, grouped by file."""
    old = load_index(directory)
    by_file: dict[str, _Reusable] = {}
    with open(directory / "tokens.jsonl", encoding="utf-8") as handle:
        for chunk, line in zip(old.chunks, handle, strict=True):
            entry = by_file.setdefault(chunk.doc, _Reusable(old.dense))
            entry.chunks.append(chunk)
            entry.tokens.append(_shared(json.loads(line), vocabulary))
    return by_file


def _shared(tokens: list[str], vocabulary: dict[str, str]) -> list[str]:
    """The tokens, each one the same string object as every equal token before it.

    A 50 MB corpus has some 20 million tokens but only about 100,000 distinct ones; sharing them
    keeps the token lists of a build in a few hundred MB instead of several GB.
    """
    return [vocabulary.setdefault(token, token) for token in tokens]


def build_index(
    corpus: Path,
    directory: Path,
    embedder: Embedder,
    params: ChunkingParams,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    wait: float = 0,
    if_changed: bool = False,
) -> BuildReport:
    """Build or update the index; only files whose hash changed are chunked and embedded again.

    `wait`: seconds to wait for another process's build to end. `if_changed`: do nothing when the
    index (as that build may have left it) already matches the corpus, so that readers who all saw
    the same change update the index once, not once each. A write that fails (a full disk, say)
    raises IndexStateError and leaves the old index as it was.
    """
    directory = absolute(directory)
    check_index_path(directory, corpus)  # before anything, even a lock file, is written beside it
    try:
        return _build(corpus, directory, embedder, params, rebuild, progress, wait, if_changed)
    except OSError as error:  # reading corpus files is handled file by file: this is a write
        raise _unwritable(directory, error) from error


def _build(
    corpus: Path,
    directory: Path,
    embedder: Embedder,
    params: ChunkingParams,
    rebuild: bool,
    progress: Progress | None,
    wait: float,
    if_changed: bool,
) -> BuildReport:
    started = time.perf_counter()
    with build_lock(directory, wait=wait), contextlib.ExitStack() as stack:
        _recover(directory)
        # Staging directories of builds that were killed; no build can be using them now.
        for stale in directory.parent.glob(f".{glob.escape(directory.name)}.building-*"):
            if is_ours(stale):
                shutil.rmtree(stale, ignore_errors=True)
        paths = list(corpus_files(corpus))
        old_manifest = None if rebuild else _compatible_manifest(directory, embedder, params)
        if if_changed and old_manifest and not corpus_changes(corpus, old_manifest).any:
            return _unchanged_report(old_manifest, started)
        vocabulary: dict[str, str] = {}
        reusable: dict[str, _Reusable] = {}
        if old_manifest is not None:
            try:
                reusable = _reusable_by_file(directory, vocabulary)
            except (IndexStateError, OSError, ValueError) as error:
                log.warning("rebuilding everything: %s", error)
                old_manifest = None
        cache = EmbeddingCache.load(directory, embedder.id, embedder.dimension)

        chunks: list[Chunk] = []
        tokens: list[list[str]] = []
        # Vectors in chunk order go to a file, not a list of arrays: at the end they are read back
        # block by block into the dense index, which then holds the only copy of them in memory.
        spool = stack.enter_context(tempfile.TemporaryFile(dir=directory.parent))
        # New chunks are embedded in batches as they are read, so that the offline embedder finds
        # their tokens still in chinese.tokenize's cache.
        pending: list[Chunk] = []
        embedded = 0
        # For the progress estimate: chunks found that need embedding, and corpus bytes read so far.
        needed = 0
        bytes_total = sum(stat["size"] for path in paths if (stat := _stat_or_none(path)))
        bytes_read = 0
        files: dict[str, FileEntry] = {}
        added: list[str] = []
        changed: list[str] = []
        unchanged: list[str] = []
        skipped: list[str] = []

        def embed_pending() -> None:
            """Spool the pending chunks' vectors, embedding only texts the cache does not hold."""
            nonlocal embedded
            if not pending:
                return
            batch = np.empty((len(pending), embedder.dimension), dtype=np.float32)
            missing = []
            for row, chunk in enumerate(pending):
                cached = cache.get(chunk.indexed)
                if cached is None:
                    missing.append(row)
                else:
                    batch[row] = cached
            if missing:
                batch[missing] = embedder.embed([pending[row].indexed for row in missing])
                embedded += len(missing)
                if progress:
                    estimate = round(needed * bytes_total / bytes_read) if bytes_read else needed
                    progress("embed", embedded, max(embedded, estimate))
            _spool(spool, batch)
            pending.clear()

        for file in read_corpus(corpus, paths, skipped, progress):
            name, stat_fields = file.name, file.stat
            old_entry = old_manifest.files.get(name) if old_manifest else None
            bytes_read += len(file.raw)
            if old_entry and old_entry.sha256 == sha256(file.raw) and name in reusable:
                kept = reusable.pop(name)
                embed_pending()
                first_id = len(chunks)
                chunks.extend(
                    chunk.model_copy(update={"id": first_id + i}) for i, chunk in enumerate(kept.chunks)
                )
                tokens.extend(kept.tokens)
                _spool(spool, kept.vectors())
                del kept  # it holds the old FAISS index, which must be gone before the new one is made
                files[name] = old_entry.model_copy(update=stat_fields)
                unchanged.append(name)
                continue
            chunked = file.chunks(params, first_id=len(chunks))
            if chunked is None:
                skipped.append(name)
                continue
            document, new_chunks = chunked
            chunks.extend(new_chunks)
            for chunk in new_chunks:
                tokens.append(_shared(tokenize(chunk.indexed), vocabulary))
                pending.append(chunk)
                needed += cache.get(chunk.indexed) is None
                if len(pending) >= EMBED_BATCH:
                    embed_pending()
            files[name] = FileEntry(
                sha256=document.sha256, title=document.title, chunks=len(new_chunks), **stat_fields
            )
            (changed if old_entry else added).append(name)
        bytes_total = bytes_read  # every file is read (or skipped): the last total is exact
        embed_pending()
        reusable.clear()
        # Saving the cache needs only its embedder and the old index's files, not the vectors it
        # loaded (as much memory as the new vectors); drop them before the dense index is built.
        cache = EmbeddingCache(embedder.id, embedder.dimension)

        if not chunks:
            raise CorpusError(
                f"The corpus directory {corpus} has no readable .txt or .md files; add some and run again."
            )
        removed = sorted(set(old_manifest.files) - set(files)) if old_manifest else []
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            aiqa_version=__version__,
            embedder=EmbedderInfo(
                id=embedder.id, name=embedder.name, dimension=embedder.dimension, **embedder.spec.model_dump()
            ),
            chunking=chunking_dict(params),
            files=files,
            skipped=skipped,
            skipped_stats={name: stats for name in skipped if (stats := _stat_or_none(corpus / name))},
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            dense=dense_kind(len(chunks)),
        )
        if old_manifest is not None and not (added or changed or removed) and _lexicon_readable(directory):
            # Same content: only file times may have moved, and only the manifest records them.
            _write_manifest_atomically(
                directory, manifest.model_copy(update={"built_at": old_manifest.built_at})
            )
        else:
            _write_atomically(directory, manifest, chunks, tokens, spool, cache)
        return BuildReport(
            files=len(files),
            chunks=len(chunks),
            embedder=embedder.id,
            seconds=round(time.perf_counter() - started, 3),
            added=added,
            changed=changed,
            removed=removed,
            unchanged=unchanged,
            skipped=skipped,
            embedded_chunks=embedded,
            rebuilt=old_manifest is None,
        )


@dataclass
class CorpusFile:
    """A corpus file as a build reads it."""

    path: Path
    name: str
    stat: dict[str, int]  # taken before the bytes were read
    raw: bytes

    def chunks(self, params: ChunkingParams, first_id: int) -> tuple[Document, list[Chunk]] | None:
        """Its document and chunks (ids from `first_id`), or None when it holds no usable text."""
        document = parse_document(self.raw, self.name, fallback_title=self.path.stem)
        chunks = chunk_document(document, params, first_id=first_id) if document else []
        return (document, chunks) if document and chunks else None


def read_corpus(
    corpus: Path, paths: list[Path], skipped: list[str], progress: Progress | None
) -> Iterator[CorpusFile]:
    """The corpus files that can be read, in order; the others are logged and added to `skipped`."""
    for number, path in enumerate(paths, start=1):
        if progress:
            progress("read", number, len(paths))
        name = relative_name(path, corpus)
        try:
            # Stat first: a file that changes after it is read then shows as changed next time.
            stat_fields = _stat_fields(path)
            raw = read_bytes(path)
        except OSError as error:
            log.warning("skipped %s: cannot read it (%s)", name, error.strerror or error)
            skipped.append(name)
            continue
        yield CorpusFile(path, name, stat_fields, raw)


def _unchanged_report(manifest: Manifest, started: float) -> BuildReport:
    return BuildReport(
        files=len(manifest.files),
        chunks=sum(entry.chunks for entry in manifest.files.values()),
        embedder=manifest.embedder.id,
        seconds=round(time.perf_counter() - started, 3),
        added=[],
        changed=[],
        removed=[],
        unchanged=sorted(manifest.files),
        skipped=manifest.skipped,
        embedded_chunks=0,
        rebuilt=False,
    )


def _stat_fields(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _stat_or_none(path: Path) -> dict[str, int] | None:
    try:
        return _stat_fields(path)
    except OSError:
        return None


def corpus_changes(corpus: Path, manifest: Manifest) -> CorpusChanges:
    """Files added, changed or removed since the index was built; hashes only files whose stat differs."""
    changes = CorpusChanges()
    seen = set()
    for path in corpus_files(corpus):
        name = relative_name(path, corpus)
        seen.add(name)
        entry = manifest.files.get(name)
        if entry is None:
            skipped_as = manifest.skipped_stats.get(name)
            if name not in manifest.skipped or (skipped_as and _stat_or_none(path) != skipped_as):
                changes.added.append(name)
            continue
        try:
            if _stat_fields(path) == {"size": entry.size, "mtime_ns": entry.mtime_ns}:
                continue
            if sha256(read_bytes(path)) != entry.sha256:
                changes.changed.append(name)
        except OSError:
            changes.changed.append(name)
    changes.removed = sorted(set(manifest.files) - seen)
    return changes


def _compatible_manifest(directory: Path, embedder: Embedder, params: ChunkingParams) -> Manifest | None:
    try:
        manifest = read_manifest(directory)
    except IndexStateError as error:
        log.warning("rebuilding everything: %s", error)
        return None
    if manifest is None:
        return None
    reason = incompatibility(manifest, embedder, params)
    if reason:
        log.info("rebuilding everything: %s", reason)
        return None
    return manifest


def _spool(spool: BinaryIO, vectors: np.ndarray) -> None:
    spool.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())


def _unspool(
    spool: BinaryIO, count: int, dimension: int, rows_per_block: int | None = None
) -> Iterator[np.ndarray]:
    """The spooled vectors, block by block, so that only the dense index holds them all."""
    rows_per_block = rows_per_block or max(1, _SPOOL_BLOCK // (dimension * 4))
    spool.seek(0)
    for first in range(0, count, rows_per_block):
        rows = min(rows_per_block, count - first)
        block = spool.read(rows * dimension * 4)
        if len(block) != rows * dimension * 4:
            raise OSError(f"the spooled vectors end before row {first + rows} of {count}")
        yield np.frombuffer(block, dtype=np.float32).reshape(rows, dimension)


_SPOOL_BLOCK = 16 * 2**20


def _write_atomically(
    directory: Path,
    manifest: Manifest,
    chunks: list[Chunk],
    tokens: list[list[str]],
    spool: BinaryIO,
    cache: EmbeddingCache,
) -> None:
    import bm25s

    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.building-", dir=directory.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; an index is as readable as its corpus
    try:
        with open(staging / "chunks.jsonl", "w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(chunk.model_dump_json() + "\n")
        with open(staging / "tokens.jsonl", "w", encoding="utf-8") as handle:
            for chunk_tokens in tokens:
                handle.write(json.dumps(chunk_tokens, ensure_ascii=False) + "\n")
        dimension = manifest.embedder.dimension
        dense = build_dense(_unspool(spool, len(chunks), dimension), manifest.dense, dimension)
        _write_faiss(dense, staging / "dense.faiss")
        cache.save([chunk.indexed for chunk in chunks], stored_vectors(dense), directory, staging)
        del dense
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        bm25.save(str(staging / "bm25"), show_progress=False)
        save_lexicon(build_lexicon(bm25.vocab_dict), staging)
        # Built files never belong in version control, wherever the index directory is.
        (staging / ".gitignore").write_text("*\n", encoding="utf-8")
        # The manifest goes last: a staging directory without one is never mistaken for an index.
        _manifest_path(staging).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        _swap_into_place(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _lexicon_readable(directory: Path) -> bool:
    try:
        load_lexicon(directory)
    except (OSError, ValueError):
        return False
    return True


def _write_manifest_atomically(directory: Path, manifest: Manifest) -> None:
    staging = directory / ".manifest.json.tmp"
    try:
        staging.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        staging.replace(_manifest_path(directory))
    finally:
        staging.unlink(missing_ok=True)


def _swap_into_place(staging: Path, directory: Path) -> None:
    """Rename the old index aside, the new one in, and delete the old one: only paths aiqa made."""
    previous = _previous(directory)
    _ensure_ours(previous)
    shutil.rmtree(previous, ignore_errors=True)
    with swap_lock(directory, exclusive=True):
        if directory.exists():
            _ensure_ours(directory)  # checked again here: files may have arrived since the build began
            directory.rename(previous)
        staging.rename(directory)
    shutil.rmtree(previous, ignore_errors=True)


def _ensure_ours(path: Path) -> None:
    if path.exists() and not is_ours(path):
        raise IndexStateError(
            f"{path} holds files that are not part of an aiqa index; nothing was changed, "
            "move them away or choose another --index."
        )
