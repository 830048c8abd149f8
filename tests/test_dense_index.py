"""FAISS index kind by size: exact search for small indexes, HNSW above EXACT_LIMIT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aiqa import dense_index
from aiqa.dense_index import build_dense
from aiqa.embedding import HashingEmbedder
from aiqa.pipeline import Pipeline, build
from aiqa.store import load_index


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_hnsw_recall_at_10_against_exact_search_is_at_least_095() -> None:
    # Clustered vectors with queries near corpus points look like embedded passages and questions;
    # they are harder for HNSW than uniform noise because neighbours crowd together.
    rng = np.random.default_rng(7)
    count, dimension = 8_000, 128
    centres = rng.normal(size=(count // 40, dimension))
    vectors = _unit(centres[rng.integers(0, len(centres), count)] + 0.6 * rng.normal(size=(count, dimension)))
    queries = _unit(vectors[rng.choice(count, 300, replace=False)] + 0.3 * rng.normal(size=(300, dimension)))

    _, exact = build_dense([vectors], "flat", vectors.shape[1]).search(queries, 10)
    _, approximate = build_dense(np.array_split(vectors, 3), "hnsw", vectors.shape[1]).search(queries, 10)

    recall = np.mean([len(set(e) & set(a)) / 10 for e, a in zip(exact, approximate, strict=True)])
    assert recall >= 0.95


def test_the_kind_follows_the_size() -> None:
    assert dense_index.dense_kind(dense_index.EXACT_LIMIT) == "flat"
    assert dense_index.dense_kind(dense_index.EXACT_LIMIT + 1) == "hnsw"


def test_an_hnsw_index_is_recorded_reused_incrementally_and_answers_like_exact_search(
    corpus_copy: Path, settings_for, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact_limit = dense_index.EXACT_LIMIT
    monkeypatch.setattr(dense_index, "EXACT_LIMIT", 50)
    settings = settings_for(corpus_copy)
    build(settings)
    assert load_index(settings.index).manifest.dense == "hnsw"

    edited = sorted(corpus_copy.iterdir())[0]
    edited.write_text(
        edited.read_text(encoding="utf-8") + "\n\n湖州市发布了新的算力券政策。\n", encoding="utf-8"
    )
    report = build(settings)
    assert report.changed == [edited.name] and len(report.unchanged) == report.files - 1

    index = load_index(settings.index)
    assert type(index.dense).__name__ == "IndexHNSWFlat"
    embedder = HashingEmbedder()
    stored = index.dense.reconstruct_n(0, index.dense.ntotal)
    np.testing.assert_allclose(stored, embedder.embed([c.indexed for c in index.chunks]), atol=1e-6)

    # Not monkeypatch.undo(): that would also drop conftest's AIQA_EMBEDDER=offline.
    monkeypatch.setattr(dense_index, "EXACT_LIMIT", exact_limit)
    flat = settings_for(corpus_copy).with_overrides(index=tmp_path / "flat")
    build(flat)
    assert load_index(flat.index).manifest.dense == "flat"
    question = "杭州市人工智能产业的营收是多少？"
    assert Pipeline.open(settings).ask(question).retrieved == Pipeline.open(flat).ask(question).retrieved
