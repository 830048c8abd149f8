"""The index in Milvus: Milvus Lite in a .db file, or a server (Lite, Standalone, Distributed) by URI.

An index is an alias (named after --index) for a chunk collection, with a meta collection beside it:
  <alias>__<n>        one row per chunk: id, doc, the Chunk record as JSON (verbatim text and offsets,
                      so citations are checked against exactly what the files store keeps), its
                      BM25 tokens, the dense vector (inner product) and a sparse BM25 vector
  <alias>__<n>_meta   key/value rows: the manifest header, one row per corpus file (its FileEntry and
                      its chunk ids), and the BM25 vocabulary with document frequencies

The lexical side is aiqa's own tokens (chinese.tokenize), scored as BM25 with bm25s's formula
(Lucene idf, k1 1.5, b 0.75) split into a document weight stored in the sparse vector and an idf
weight in the query vector, so that their inner product is the files store's BM25 score. Milvus's
own BM25 function with its jieba analyzer was measured against this (benchmarks/milvus_lexical.py,
README "Milvus"): no better on any gold set at recall@5, worse on two, and it would rank differently
from the files store; the extractive answerer's idf and the English lexicon need the vocabulary anyway.

A full build writes new collections and then points the alias at them, so a build that fails or is
killed leaves the old index answering. An update of some files inserts their new chunks, then
writes the meta rows, then deletes their old chunks; a killed update leaves rows that no file row
claims, which the next build deletes before anything else. Document weights use the average chunk
length at the time they were written, so after many updates the BM25 scores drift slightly from a
fresh build's (`aiqa index --rebuild` renews them).
"""

from __future__ import annotations

import bisect
import json
import logging
import math
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from pydantic import BaseModel

from . import __version__
from .chinese import tokenize
from .chunking import ChunkingParams
from .dense_index import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_NEIGHBOURS, DenseKind, dense_kind
from .embedding import Embedder
from .errors import CorpusError, IndexStateError, SettingsError
from .lexicon import build_lexicon
from .loading import corpus_files, sha256
from .models import Chunk
from .store import (
    EMBED_BATCH,
    SCHEMA_VERSION,
    BuildReport,
    EmbedderInfo,
    FileEntry,
    Manifest,
    Progress,
    _shared,
    _spool,
    _stat_or_none,
    _unchanged_report,
    _unspool,
    chunking_dict,
    corpus_changes,
    incompatibility,
    read_corpus,
)

# bm25s's defaults, which the files store builds with.
BM25_K1 = 1.5
BM25_B = 0.75
# Chunk rows per insert, chosen by message size, not swept: as few calls as is safe (each has a
# fixed cost); 2000 rows with 1024-dimension vectors are some 13 MB (6.6 KB a row in the 5 MB
# synthetic corpus), well below gRPC's 64 MB message cap.
INSERT_BATCH = 2000
# Meta rows per upsert: vocabulary pieces are up to META_PIECE bytes, so 500 of them are 30 MB.
META_BATCH = 500
# Milvus caps a VARCHAR at 65,535 bytes; meta values are ASCII JSON cut into pieces below that.
META_PIECE = 60_000
QUERY_BATCH = 1000


class _FileRow(BaseModel):
    entry: FileEntry
    first_id: int
    count: int


class _Header(BaseModel):
    manifest: Manifest  # with files={}: they are rows of their own
    next_id: int
    next_token_id: int
    total_tokens: int
    vocab_pieces: int
    updates: int = 0
    # The collection this one replaced, kept until the next build: a process that loaded it may be
    # answering a question from it right now (a running server reloads before its next one).
    previous: str | None = None


@dataclass
class _State:
    """What the meta collection says about the index an alias points at."""

    collection: str
    header: _Header
    files: dict[str, _FileRow]
    vocab: dict[str, list[int]]  # token → [token id, document frequency]

    @property
    def manifest(self) -> Manifest:
        return self.header.manifest.model_copy(
            update={"files": {name: row.entry for name, row in self.files.items()}}
        )


_clients: dict[tuple[str, str], Any] = {}


def _client(uri: str, token: str | None) -> Any:
    """One client per URI and token in a process: a Milvus Lite file can be opened by one client only."""
    key = (uri, token or "")
    if key not in _clients:
        try:
            from pymilvus import MilvusClient
        except ImportError as error:
            raise SettingsError(
                "A Milvus store needs pymilvus and milvus-lite; install them with `pip install 'aiqa[milvus]'`."
            ) from error
        # pymilvus logs every failed call with a traceback; aiqa turns the ones it expects into
        # one-sentence errors of its own.
        logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
        # Embedded Milvus Lite serves gRPC inside this process and logs the optional calls it does
        # not implement (pymilvus then does without them) as server errors.
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        try:
            _clients[key] = MilvusClient(uri=uri, token=token or "")
        except Exception as error:  # pymilvus raises its own and grpc's exceptions
            if uri.endswith(".db"):
                raise IndexStateError(
                    f"Cannot open the Milvus Lite file {uri} ({_reason(error)}); Milvus Lite lets one "
                    "process open a file at a time, so stop the other one, or serve it with `milvus-lite server`."
                ) from error
            raise IndexStateError(
                f"Cannot connect to Milvus at {uri} ({_reason(error)}); start the server, or point "
                "AIQA_STORE (--store) at one that is running."
            ) from error
    return _clients[key]


def _reason(error: Exception) -> str:
    return str(getattr(error, "message", "") or error).strip().splitlines()[0][:200]


class MilvusStore:
    def __init__(self, uri: str, name: str, token: str | None = None) -> None:
        self.uri = str(Path(uri).absolute()) if uri.endswith(".db") else uri
        self.name = name
        self.token = token
        self.description = f"{uri} (collection {name})"

    @property
    def client(self) -> Any:
        return _client(self.uri, self.token)

    def _collection(self) -> str | None:
        from pymilvus import MilvusException

        try:
            return str(self.client.describe_alias(self.name)["collection_name"])
        except MilvusException:
            return None

    def _state(self) -> _State | None:
        collection = self._collection()
        if collection is None:
            return None
        try:
            # A collection is released when its server restarts; loading a loaded one is a no-op.
            self.client.load_collection(collection)
            self.client.load_collection(_meta(collection))
            header = _Header.model_validate_json(self._meta_value(collection, "header"))
            files = {
                row["key"][len("file:") :]: _FileRow.model_validate_json(row["value"])
                for row in self._iterate(_meta(collection), 'key like "file:%"', ["key", "value"])
            }
            vocab: dict[str, list[int]] = json.loads(
                "".join(
                    self._meta_value(collection, f"vocab:{piece}") for piece in range(header.vocab_pieces)
                )
            )
        except Exception as error:
            raise IndexStateError(
                f"The Milvus index {self.description} is damaged ({_reason(error)}); run `aiqa index --rebuild`."
            ) from error
        return _State(collection, header, files, vocab)

    def _meta_value(self, collection: str, key: str) -> str:
        rows = self.client.query(
            _meta(collection), filter=f"key == {json.dumps(key)}", output_fields=["value"]
        )
        if not rows:
            raise ValueError(f"no {key} row")
        return str(rows[0]["value"])

    def _iterate(self, collection: str, expression: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        iterator = self.client.query_iterator(
            collection, batch_size=QUERY_BATCH, filter=expression, output_fields=fields
        )
        try:
            while batch := iterator.next():
                yield from batch
        finally:
            iterator.close()

    def read_manifest(self) -> Manifest | None:
        state = self._state()
        return state.manifest if state else None

    def stamp(self) -> object:
        collection = self._collection()
        if collection is None:
            return None
        try:
            self.client.load_collection(_meta(collection))
            header = json.loads(self._meta_value(collection, "header"))
        except Exception:
            return collection
        return collection, header.get("updates")

    def load(self) -> MilvusIndex:
        state = self._state()
        if state is None:
            raise IndexStateError(f"There is no index in {self.description}; run `aiqa index` to build it.")
        size = sum(row.count for row in state.files.values())
        return MilvusIndex(self.client, state.collection, state.manifest, state.vocab, size)

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
        """Build new collections and switch the alias, or update the current ones file by file.

        `wait` is accepted for the protocol: Milvus takes concurrent writes, and a Milvus Lite file
        admits one process at a time, so there is no builder lock here."""
        started = time.perf_counter()
        paths = list(corpus_files(corpus))
        state = None if rebuild else self._compatible_state(embedder, params)
        if if_changed and state and not corpus_changes(corpus, state.manifest).any:
            return _unchanged_report(state.manifest, started)
        if state is None:
            return self._full_build(corpus, paths, embedder, params, progress, started)
        # Collections of killed builds, and the one a full build replaced. (Like the files store's
        # staging directories; but there is no builder lock here: one builder per index at a time.)
        self._drop_unused()
        return self._update(corpus, paths, state, embedder, params, progress, started)

    def _compatible_state(self, embedder: Embedder, params: ChunkingParams) -> _State | None:
        try:
            state = self._state()
        except IndexStateError:
            return None
        if state is None or incompatibility(state.manifest, embedder, params):
            return None
        return state

    def _full_build(
        self,
        corpus: Path,
        paths: list[Path],
        embedder: Embedder,
        params: ChunkingParams,
        progress: Progress | None,
        started: float,
    ) -> BuildReport:
        old = self._collection()
        collection = f"{self.name}__{time.time_ns()}"
        self._create(collection, embedder.dimension)
        try:
            read = _read_files(corpus, paths, params, embedder, 0, {}, progress)
            if not read.records:
                raise CorpusError(
                    f"The corpus directory {corpus} has no readable .txt or .md files; add some and run again."
                )
            vocab: dict[str, list[int]] = {}
            _count_tokens(vocab, read.tokens, +1)
            average = sum(map(len, read.tokens)) / len(read.records)
            with read.vectors:
                self._insert(collection, read, embedder.dimension, vocab, average, progress)
            kind = dense_kind(len(read.records))
            self._index(collection, kind)
            header = _Header(
                manifest=_manifest(embedder, params, read.skipped, corpus, kind),
                next_id=read.next_id,
                next_token_id=len(vocab),
                total_tokens=sum(map(len, read.tokens)),
                vocab_pieces=0,
                previous=old,
            )
            self._write_meta(collection, header, read.files, [], vocab)
            if old is None:
                self.client.create_alias(collection, self.name)
            else:
                self.client.alter_alias(collection, self.name)
        except BaseException:
            self._drop(collection)
            raise
        self._drop_unused(keep=old)
        return _report(read, embedder, started, [], [], rebuilt=True)

    def _update(
        self,
        corpus: Path,
        paths: list[Path],
        state: _State,
        embedder: Embedder,
        params: ChunkingParams,
        progress: Progress | None,
        started: float,
    ) -> BuildReport:
        collection = state.collection
        self._delete_unclaimed(state)
        read = _read_files(corpus, paths, params, embedder, state.header.next_id, state.files, progress)
        replaced = [row for name, row in state.files.items() if name not in read.unchanged]
        old_tokens = [json.loads(row["tokens"]) for row in self._rows_of(collection, replaced, ["tokens"])]
        vocab = state.vocab
        _count_tokens(vocab, old_tokens, -1)
        _count_tokens(vocab, read.tokens, +1, next_id=state.header.next_token_id)
        total_tokens = state.header.total_tokens - sum(map(len, old_tokens)) + sum(map(len, read.tokens))
        chunk_count = sum(row.count for row in state.files.values())
        average = state.header.total_tokens / max(chunk_count, 1)
        with read.vectors:
            self._insert(collection, read, embedder.dimension, vocab, average, progress)
        files = {
            name: state.files[name].model_copy(update={"entry": entry}) for name, entry in read.kept.items()
        }
        files.update(read.files)
        if not files:
            raise CorpusError(
                f"The corpus directory {corpus} has no readable .txt or .md files; add some and run again."
            )
        removed = sorted(set(state.files) - set(files))
        header = _Header(
            # An update keeps the dense index kind of the build; `aiqa index --rebuild` chooses anew.
            manifest=_manifest(embedder, params, read.skipped, corpus, state.manifest.dense),
            next_id=read.next_id,
            next_token_id=max((entry[0] for entry in vocab.values()), default=-1) + 1,
            total_tokens=total_tokens,
            vocab_pieces=0,
            updates=state.header.updates + 1,
        )
        self._write_meta(collection, header, files, removed, {t: v for t, v in vocab.items() if v[1] > 0})
        self._delete_ids(
            collection, [i for row in replaced for i in range(row.first_id, row.first_id + row.count)]
        )
        added = [name for name in read.files if name not in state.files]
        changed = [name for name in read.files if name in state.files]
        read.files = files
        return _report(read, embedder, started, added, changed, removed=removed, rebuilt=False)

    def _rows_of(self, collection: str, rows: list[_FileRow], fields: list[str]) -> Iterator[dict[str, Any]]:
        for row in rows:
            yield from self._iterate(
                collection, f"id >= {row.first_id} and id < {row.first_id + row.count}", fields
            )

    def _delete_unclaimed(self, state: _State) -> None:
        """Rows a killed update left: inserted past next_id, or of an old version of a file."""
        collection = state.collection
        claimed = sum(row.count for row in state.files.values())
        self.client.delete(collection, filter=f"id >= {state.header.next_id}")
        count = self.client.query(collection, filter="", output_fields=["count(*)"])[0]["count(*)"]
        if count == claimed:
            return
        ranges = sorted((row.first_id, row.first_id + row.count) for row in state.files.values())
        starts = [start for start, _ in ranges]
        stray = []
        for row in self._iterate(collection, "id >= 0", ["id"]):
            at = bisect.bisect_right(starts, row["id"]) - 1
            if at < 0 or row["id"] >= ranges[at][1]:
                stray.append(row["id"])
        self._delete_ids(collection, stray)

    def _delete_ids(self, collection: str, ids: list[int]) -> None:
        for first in range(0, len(ids), QUERY_BATCH):
            self.client.delete(collection, ids=ids[first : first + QUERY_BATCH])

    def _insert(
        self,
        collection: str,
        read: _Read,
        dimension: int,
        vocab: dict[str, list[int]],
        average: float,
        progress: Progress | None,
    ) -> None:
        """Insert the new chunks; progress counts them as "embed", the stage they complete."""
        total = len(read.records)
        vectors = _unspool(read.vectors, total, dimension, rows_per_block=INSERT_BATCH)
        for first, block in zip(range(0, total, INSERT_BATCH), vectors, strict=True):
            self.client.insert(
                collection,
                [
                    {
                        "id": read.first_id + row,
                        "doc": read.docs[row],
                        "record": read.records[row],
                        "tokens": json.dumps(read.tokens[row], ensure_ascii=False),
                        "vector": vector,
                        "sparse": _document_weights(read.tokens[row], vocab, average),
                    }
                    for row, vector in enumerate(block, start=first)
                ],
            )
            if progress:
                progress("embed", first + len(block), total)

    def _write_meta(
        self,
        collection: str,
        header: _Header,
        files: dict[str, _FileRow],
        removed: list[str],
        vocab: dict[str, list[int]],
    ) -> None:
        meta = _meta(collection)
        text = json.dumps(vocab)
        pieces = [text[i : i + META_PIECE] for i in range(0, len(text), META_PIECE)] or ["{}"]
        # Pieces of one JSON object: rejoined before parsing.
        joined = [f"vocab:{n}" for n in range(len(pieces))]
        rows = [{"key": key, "value": piece} for key, piece in zip(joined, pieces, strict=True)]
        rows += [{"key": f"file:{name}", "value": row.model_dump_json()} for name, row in files.items()]
        for first in range(0, len(rows), META_BATCH):
            self.client.upsert(
                meta, [{**row, "dummy": [0.0, 0.0]} for row in rows[first : first + META_BATCH]]
            )
        if removed:
            self.client.delete(meta, ids=[f"file:{name}" for name in removed])
        header = header.model_copy(update={"vocab_pieces": len(pieces)})
        # The header goes last: its piece count and next_id describe rows that are all written.
        self.client.upsert(meta, [{"key": "header", "value": header.model_dump_json(), "dummy": [0.0, 0.0]}])

    def _create(self, collection: str, dimension: int) -> None:
        """The chunk collection without its indexes (see _index), and the meta collection."""
        from pymilvus import DataType

        client = self.client
        schema = client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("doc", DataType.VARCHAR, max_length=4096)
        schema.add_field("record", DataType.VARCHAR, max_length=65535)
        schema.add_field("tokens", DataType.VARCHAR, max_length=65535)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        client.create_collection(collection, schema=schema, consistency_level="Strong")

        meta = client.create_schema(auto_id=False)
        meta.add_field("key", DataType.VARCHAR, is_primary=True, max_length=4096)
        meta.add_field("value", DataType.VARCHAR, max_length=65535)
        meta.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in every collection
        meta_index = client.prepare_index_params()
        meta_index.add_index("dummy", index_type="AUTOINDEX", metric_type="L2")
        client.create_collection(
            _meta(collection), schema=meta, index_params=meta_index, consistency_level="Strong"
        )

    def _index(self, collection: str, kind: DenseKind) -> None:
        """Seal the inserted rows, index them and load the collection for search.

        The dense index is the files store's kind for as many chunks (dense_index.py): an exact
        scan up to EXACT_LIMIT, HNSW with the same parameters above. (AUTOINDEX is HNSW on Milvus
        Lite too, and building it was a third of a 5 MB build.)"""
        client = self.client
        client.flush(collection)
        index = client.prepare_index_params()
        if kind == "flat":
            index.add_index("vector", index_type="FLAT", metric_type="IP")
        else:
            index.add_index(
                "vector",
                index_type="HNSW",
                metric_type="IP",
                params={"M": HNSW_NEIGHBOURS, "efConstruction": HNSW_EF_CONSTRUCTION},
            )
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
        client.create_index(collection, index)
        client.load_collection(collection)

    def _drop(self, collection: str) -> None:
        for name in (collection, _meta(collection)):
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def _drop_unused(self, keep: str | None = None) -> None:
        """Collections of this index that the alias does not point at: replaced or killed builds."""
        current = self._collection()
        for name in self.client.list_collections():
            if (
                name.startswith(f"{self.name}__")
                and not name.endswith("_meta")
                and name not in (current, keep)
            ):
                self._drop(name)


def _meta(collection: str) -> str:
    return f"{collection}_meta"


@dataclass
class _Read:
    """The corpus as read for a build: new chunks to insert, and files kept as they are."""

    first_id: int
    next_id: int
    # The new chunks, in id order: their records as JSON (smaller than Chunk objects), files, BM25
    # tokens, and vectors spooled to a file, so that a build holds no vector in memory.
    records: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    vectors: BinaryIO = field(default_factory=tempfile.TemporaryFile)
    files: dict[str, _FileRow] = field(default_factory=dict)
    kept: dict[str, FileEntry] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _read_files(
    corpus: Path,
    paths: list[Path],
    params: ChunkingParams,
    embedder: Embedder,
    next_id: int,
    old: dict[str, _FileRow],
    progress: Progress | None,
) -> _Read:
    read = _Read(next_id, next_id)
    vocabulary: dict[str, str] = {}
    pending: list[str] = []
    for file in read_corpus(corpus, paths, read.skipped, progress):
        name = file.name
        if name in old and old[name].entry.sha256 == sha256(file.raw):
            read.kept[name] = old[name].entry.model_copy(update=file.stat)
            read.unchanged.append(name)
            continue
        chunked = file.chunks(params, first_id=read.next_id)
        if chunked is None:
            read.skipped.append(name)
            continue
        document, chunks = chunked
        read.files[name] = _FileRow(
            entry=FileEntry(sha256=document.sha256, title=document.title, chunks=len(chunks), **file.stat),
            first_id=read.next_id,
            count=len(chunks),
        )
        read.next_id += len(chunks)
        for chunk in chunks:
            read.records.append(chunk.model_dump_json())
            read.docs.append(name)
            read.tokens.append(_shared(tokenize(chunk.indexed), vocabulary))
            pending.append(chunk.indexed)
        # Embedded as they are read, while chinese.tokenize's cache still holds their tokens (the
        # offline embedder tokenizes too, and jieba is most of a build's time).
        while len(pending) >= EMBED_BATCH:
            _spool(read.vectors, embedder.embed(pending[:EMBED_BATCH]))
            del pending[:EMBED_BATCH]
    if pending:
        _spool(read.vectors, embedder.embed(pending))
    return read


def _count_tokens(
    vocab: dict[str, list[int]], token_lists: Iterable[list[str]], sign: int, next_id: int | None = None
) -> None:
    """Add (or, with sign -1, remove) the chunks' tokens to the document frequencies."""
    new_id = len(vocab) if next_id is None else next_id
    for tokens in token_lists:
        for token in set(tokens):
            entry = vocab.get(token)
            if entry is None:
                entry = vocab[token] = [new_id, 0]
                new_id += 1
            entry[1] += sign


def _document_weights(tokens: list[str], vocab: dict[str, list[int]], average: float) -> dict[int, float]:
    """bm25s's Lucene term weight of each token in a chunk: tf / (tf + k1 (1 - b + b len/avg))."""
    norm = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / max(average, 1e-9))
    return {vocab[token][0]: tf / (tf + norm) for token, tf in Counter(tokens).items()}


def _manifest(
    embedder: Embedder, params: ChunkingParams, skipped: list[str], corpus: Path, dense: DenseKind
) -> Manifest:
    return Manifest(
        schema_version=SCHEMA_VERSION,
        aiqa_version=__version__,
        embedder=EmbedderInfo(
            id=embedder.id, name=embedder.name, dimension=embedder.dimension, **embedder.spec.model_dump()
        ),
        chunking=chunking_dict(params),
        files={},
        skipped=skipped,
        skipped_stats={name: stats for name in skipped if (stats := _stat_or_none(corpus / name))},
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dense=dense,
    )


def _report(
    read: _Read,
    embedder: Embedder,
    started: float,
    added: list[str],
    changed: list[str],
    *,
    removed: list[str] | None = None,
    rebuilt: bool,
) -> BuildReport:
    files = {**read.kept, **{name: row.entry for name, row in read.files.items()}}
    return BuildReport(
        files=len(files),
        chunks=sum(entry.chunks for entry in files.values()),
        embedder=embedder.id,
        seconds=round(time.perf_counter() - started, 3),
        added=added if not rebuilt else sorted(files),
        changed=changed,
        removed=removed or [],
        unchanged=read.unchanged,
        skipped=read.skipped,
        embedded_chunks=len(read.records),
        rebuilt=rebuilt,
    )


class MilvusIndex:
    """A loaded Milvus index: searches go to Milvus; the manifest and vocabulary are held here."""

    def __init__(
        self, client: Any, collection: str, manifest: Manifest, vocab: dict[str, list[int]], size: int
    ) -> None:
        self.client = client
        self.collection = collection
        self.manifest = manifest
        self.vocab = vocab
        self._size = size
        self._lexicon: dict[str, list[str]] | None = None

    @property
    def size(self) -> int:
        return self._size

    @property
    def lexicon(self) -> dict[str, list[str]]:
        if self._lexicon is None:
            self._lexicon = build_lexicon(self.vocab)
        return self._lexicon

    def dense_candidates(self, vector: np.ndarray, depth: int) -> dict[int, float]:
        hits = self.client.search(
            self.collection,
            data=[np.asarray(vector[0], dtype=np.float32)],
            anns_field="vector",
            limit=depth,
            output_fields=["id"],
            search_params={"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, depth)}},
        )
        return {int(hit["id"]): float(hit["distance"]) for hit in hits[0]}

    def lexical_candidates(self, tokens: list[str], depth: int) -> dict[int, float]:
        weights: dict[int, float] = {}
        for token, idf in zip(tokens, self._bm25_idf(tokens), strict=True):
            if token in self.vocab and self.vocab[token][1] > 0:
                weights[self.vocab[token][0]] = weights.get(self.vocab[token][0], 0.0) + idf
        if not weights:
            return {}
        hits = self.client.search(
            self.collection,
            data=[weights],
            anns_field="sparse",
            limit=depth,
            output_fields=["id"],
            search_params={"metric_type": "IP"},
        )
        ranked = sorted(
            ((float(hit["distance"]), int(hit["id"])) for hit in hits[0]), key=lambda s: (-s[0], s[1])
        )
        return {chunk_id: score for score, chunk_id in ranked if score > 0}

    def _bm25_idf(self, tokens: list[str]) -> list[float]:
        """bm25s's Lucene idf: ln(1 + (N - df + 0.5) / (df + 0.5))."""
        total = self._size
        return [math.log(1 + (total - (df := self._df(token)) + 0.5) / (df + 0.5)) for token in tokens]

    def _df(self, token: str) -> int:
        entry = self.vocab.get(token)
        return entry[1] if entry else 0

    def chunks_by_id(self, ids: list[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        rows = self.client.query(
            self.collection, filter=f"id in {list(map(int, ids))}", output_fields=["record"]
        )
        chunks = {int(row["id"]): Chunk.model_validate_json(row["record"]) for row in rows}
        missing = set(ids) - set(chunks)
        if missing:
            raise IndexStateError(
                f"The Milvus collection {self.collection} lost chunks it just returned; run `aiqa index`."
            )
        return chunks

    def idf(self, tokens: list[str]) -> np.ndarray:
        total = max(self._size, 1)
        frequencies = np.array([self._df(token) for token in tokens], dtype=np.float64)
        return np.log((total + 1) / (frequencies + 0.5))
