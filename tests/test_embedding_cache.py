"""The embedding cache lives in the index directory, survives the atomic swap, and is only a cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from aiqa.embedding_cache import DIRECTORY
from aiqa.pipeline import build


def test_a_rebuild_reuses_cached_vectors_and_a_damaged_cache_only_costs_a_re_embed(
    corpus_copy: Path, settings_for, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(corpus_copy)
    first = build(settings)
    assert first.embedded_chunks == first.chunks
    assert build(settings, rebuild=True).embedded_chunks == 0

    (cache_file,) = (settings.index / DIRECTORY).glob("*.npz")
    cache_file.write_bytes(b"not a zip file")
    with caplog.at_level(logging.WARNING):
        damaged = build(settings, rebuild=True)
    assert damaged.embedded_chunks == damaged.chunks
    assert "ignoring the damaged embedding cache" in caplog.text

    assert build(settings, rebuild=True).embedded_chunks == 0
