"""Chunking offsets, the index store's round trip, incremental updates and failure safety."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from aiqa.chunking import ChunkingParams, chunk_document
from aiqa.embedding import HashingEmbedder
from aiqa.errors import IndexStateError
from aiqa.loading import load_corpus
from aiqa.pipeline import Pipeline, build
from aiqa.retrieval import HybridRetriever, make_query
from aiqa.settings import Settings
from aiqa.store import build_index, corpus_changes, load_index, read_manifest

from conftest import REAL_CORPUS

PARAMS = ChunkingParams(chunk_chars=160, chunk_overlap=1)


class CountingEmbedder(HashingEmbedder):
    """The offline embedder, recording every text it embeds."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.embedded: list[str] = []
        self.fail_after = fail_after

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not query:
            if self.fail_after is not None and len(self.embedded) >= self.fail_after:
                raise KeyboardInterrupt("simulated interruption")
            self.embedded.extend(texts)
        return super().embed(texts, query=query)


def test_every_chunk_of_the_real_corpus_is_an_exact_span() -> None:
    documents = load_corpus(REAL_CORPUS)
    assert len(documents) == 5
    for document in documents:
        chunks = chunk_document(document, PARAMS)
        assert chunks, document.doc
        for chunk in chunks:
            assert chunk.text == document.text[chunk.start : chunk.end]
            assert chunk.text.strip() == chunk.text
            for start, end in chunk.sentences:
                assert chunk.start <= start < end <= chunk.end
        # Consecutive chunks overlap by at most one sentence and together cover every sentence.
        covered = {span for chunk in chunks for span in chunk.sentences}
        assert len(covered) == len({span for chunk in chunks for span in chunk.sentences})
        assert chunks[-1].end == max(end for chunk in chunks for _, end in chunk.sentences)


def test_chunks_stay_small_enough_for_five_passages_to_fit_in_a_prompt() -> None:
    sizes = [len(c.text) for d in load_corpus(REAL_CORPUS) for c in chunk_document(d, PARAMS)]
    assert np.percentile(sizes, 90) < 300


def test_index_round_trip_keeps_ids_and_scores(corpus_copy: Path, tmp_path: Path) -> None:
    directory = tmp_path / "index"
    embedder = HashingEmbedder()
    build_index(corpus_copy, directory, embedder, PARAMS)
    first = load_index(directory)
    query = make_query("雨花台区贡献了多少产值？")
    before = HybridRetriever(first, embedder, dense_weight=0.5).retrieve(query, 10)
    second = load_index(directory)
    after = HybridRetriever(second, embedder, dense_weight=0.5).retrieve(query, 10)
    assert [(p.chunk_id, p.score) for p in before] == [(p.chunk_id, p.score) for p in after]
    assert [c.model_dump() for c in first.chunks] == [c.model_dump() for c in second.chunks]
    manifest = read_manifest(directory)
    assert manifest is not None
    assert manifest.embedder.id == embedder.id and manifest.embedder.dimension == 1024
    assert manifest.chunking == {"chunk_chars": 160, "chunk_overlap": 1}
    assert set(manifest.files) == {p.name for p in corpus_copy.iterdir()}
    assert all(len(entry.sha256) == 64 for entry in manifest.files.values())


def test_incremental_update_re_embeds_only_the_changed_file(corpus_copy: Path, tmp_path: Path) -> None:
    directory = tmp_path / "index"
    build_index(corpus_copy, directory, HashingEmbedder(), PARAMS)
    embedded_before = {c.indexed for c in load_index(directory).chunks}
    changed = corpus_copy / "002_52f29b1d0b7c542b.txt"
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n新增的一句话：苏州工业园区设立了算力调度中心。",
        encoding="utf-8",
    )
    (corpus_copy / "004_2ca99f7e88ea3c69.txt").unlink()

    counting = CountingEmbedder()
    report = build_index(corpus_copy, directory, counting, PARAMS)

    assert report.changed == ["002_52f29b1d0b7c542b.txt"]
    assert report.removed == ["004_2ca99f7e88ea3c69.txt"]
    assert sorted(report.unchanged) == [
        "000_62e2ab11a4fd570b.txt",
        "001_4860eeb1fce788d0.txt",
        "003_d2ef5cc44fbb30db.txt",
    ]
    index = load_index(directory)
    changed_chunks = [c for c in index.chunks if c.doc == "002_52f29b1d0b7c542b.txt"]
    # Chunks of the changed file whose text is unchanged come from the embedding cache.
    assert counting.embedded == [c.indexed for c in changed_chunks if c.indexed not in embedded_before]
    assert counting.embedded
    assert not [c for c in index.chunks if c.doc == "004_2ca99f7e88ea3c69.txt"]
    assert [c.id for c in index.chunks] == list(range(len(index.chunks)))
    # Reused vectors are the vectors a full build computes.
    fresh = tmp_path / "fresh"
    build_index(corpus_copy, fresh, HashingEmbedder(), PARAMS, rebuild=True)
    np.testing.assert_allclose(
        index.dense.reconstruct_n(0, index.dense.ntotal),
        load_index(fresh).dense.reconstruct_n(0, index.dense.ntotal),
        atol=1e-6,
    )
    text = changed.read_text(encoding="utf-8")
    hit = next(c for c in changed_chunks if "算力调度中心" in c.text)
    assert text[hit.start : hit.end] == hit.text


def test_an_interrupted_build_keeps_the_old_index(corpus_copy: Path, tmp_path: Path) -> None:
    directory = tmp_path / "index"
    build_index(corpus_copy, directory, HashingEmbedder(), PARAMS)
    before = (directory / "manifest.json").read_text(encoding="utf-8")
    (corpus_copy / "new.txt").write_text("新的文件。" * 200, encoding="utf-8")

    with pytest.raises(KeyboardInterrupt):
        build_index(corpus_copy, directory, CountingEmbedder(fail_after=0), PARAMS, rebuild=True)

    assert (directory / "manifest.json").read_text(encoding="utf-8") == before
    assert load_index(directory).chunks
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".index.building")] == []
    report = build_index(corpus_copy, directory, HashingEmbedder(), PARAMS)
    assert report.added == ["new.txt"]


def test_changed_corpus_is_detected_without_rebuilding(corpus_copy: Path, tmp_path: Path) -> None:
    directory = tmp_path / "index"
    build_index(corpus_copy, directory, HashingEmbedder(), PARAMS)
    manifest = read_manifest(directory)
    assert manifest is not None
    assert not corpus_changes(corpus_copy, manifest).any
    (corpus_copy / "extra.md").write_text("# 新文件\n内容。", encoding="utf-8")
    (corpus_copy / "000_62e2ab11a4fd570b.txt").write_text("改过了。", encoding="utf-8")
    changes = corpus_changes(corpus_copy, manifest)
    assert changes.added == ["extra.md"] and changes.changed == ["000_62e2ab11a4fd570b.txt"]
    assert changes.describe() == "1 added, 1 changed"


def test_an_index_answers_with_its_own_embedder_and_never_silently_with_another(
    corpus_copy: Path, tmp_path: Path
) -> None:
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index", embedder="offline")
    build_index(corpus_copy, settings.index, HashingEmbedder(dimension=256), PARAMS)
    assert Pipeline.open(settings).choice.embedder.id == HashingEmbedder(dimension=256).id

    with pytest.raises(IndexStateError, match=r"built with hashing .*AIQA_EMBEDDER=e5 .*run `aiqa index`"):
        Pipeline.open(settings.with_overrides(embedder="e5"))

    # Another version of the same kind of embedder made the vectors: they are not comparable.
    manifest_path = settings.index / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["embedder"]["id"] = "offline:hashing-ngram-v0-256"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(
        IndexStateError, match=r"built with embedder offline:hashing-ngram-v0-256.*run `aiqa index`"
    ):
        Pipeline.open(settings)

    report = build(settings)  # what the message says to run
    assert report.rebuilt and report.embedder == HashingEmbedder().id
    assert Pipeline.open(settings).ask("温州市人工智能局是什么时候成立的？").answerable


def test_a_damaged_manifest_says_what_to_run(corpus_copy: Path, tmp_path: Path) -> None:
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index", embedder="offline")
    build(settings)
    (settings.index / "manifest.json").write_text(json.dumps({"schema_version": "x"}), encoding="utf-8")
    with pytest.raises(IndexStateError, match="aiqa index --rebuild"):
        Pipeline.open(settings)
    assert build(settings).rebuilt  # a plain `aiqa index` repairs it too


def test_a_changed_corpus_is_indexed_before_answering(corpus_copy: Path, tmp_path: Path) -> None:
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index", embedder="offline")
    build(settings)
    changed = corpus_copy / "000_62e2ab11a4fd570b.txt"
    text = "新加的第一行,让后面所有的字符位置都移动。\n" + changed.read_text(encoding="utf-8")
    changed.write_text(text, encoding="utf-8")
    with pytest.raises(IndexStateError, match=r"corpus changed since the index was built \(1 changed\)"):
        Pipeline.open(settings, build_if_missing=False)
    pipeline = Pipeline.open(settings)
    assert pipeline.build_report is not None and pipeline.build_report.changed == [changed.name]
    answer = pipeline.ask("2025年南京智算中心的智算规模达到了多少？")
    citation = answer.citations[0]
    assert citation.doc == changed.name and text[citation.start : citation.end] == citation.text


def test_a_damaged_lexicon_says_what_to_run_and_index_repairs_it(corpus_copy: Path, tmp_path: Path) -> None:
    settings = Settings(corpus=corpus_copy, index=tmp_path / "index", embedder="offline")
    build(settings)
    (settings.index / "lexicon.json").write_text("{bad", encoding="utf-8")
    with pytest.raises(IndexStateError, match=r"damaged lexicon.json .*aiqa index --rebuild"):
        Pipeline.open(settings).ask("When did the Wenzhou AI bureau open?")
    build(settings)  # a plain `aiqa index` rewrites it
    assert Pipeline.open(settings).ask("When did the Wenzhou AI bureau open?").retrieved


def test_a_skipped_file_that_gets_content_shows_as_added(corpus_copy: Path, tmp_path: Path) -> None:
    directory = tmp_path / "index"
    empty = corpus_copy / "zz_new.txt"
    empty.write_text("", encoding="utf-8")
    report = build_index(corpus_copy, directory, HashingEmbedder(), PARAMS)
    assert report.skipped == ["zz_new.txt"]
    manifest = read_manifest(directory)
    assert manifest is not None and not corpus_changes(corpus_copy, manifest).any
    empty.write_text("温州湾新区新设了一个数据中心。", encoding="utf-8")
    assert corpus_changes(corpus_copy, manifest).added == ["zz_new.txt"]
    assert build_index(corpus_copy, directory, HashingEmbedder(), PARAMS).added == ["zz_new.txt"]


def test_a_reader_waits_for_a_swap_in_progress(corpus_copy: Path, tmp_path: Path) -> None:
    import threading

    from aiqa.store import swap_lock

    directory = tmp_path / "index"
    build_index(corpus_copy, directory, HashingEmbedder(), PARAMS)
    loaded: list[object] = []
    with swap_lock(directory, exclusive=True):  # what a build holds between its two renames
        reader = threading.Thread(target=lambda: loaded.append(load_index(directory)))
        reader.start()
        reader.join(timeout=0.5)
        assert reader.is_alive() and not loaded
    reader.join(timeout=30)
    assert len(loaded) == 1


def test_embedding_progress_counts_up_to_the_chunks_embedded_with_a_total_that_ends_exact(
    corpus_copy: Path, tmp_path: Path
) -> None:
    reports: list[tuple[str, int, int]] = []
    report = build_index(
        corpus_copy,
        tmp_path / "index",
        HashingEmbedder(),
        PARAMS,
        progress=lambda stage, done, total: reports.append((stage, done, total)),
    )
    embedding = [(done, total) for stage, done, total in reports if stage == "embed"]
    assert [done for done, _ in embedding] == sorted(done for done, _ in embedding)
    assert all(done <= total for done, total in embedding)
    # The total is an estimate from the bytes read so far, within a batch or so of the truth.
    assert all(abs(total - report.embedded_chunks) <= report.embedded_chunks / 2 for _, total in embedding)
    assert embedding[-1] == (report.embedded_chunks, report.embedded_chunks)
    files = [(done, total) for stage, done, total in reports if stage == "read"]
    assert files[-1] == (report.files, report.files)
