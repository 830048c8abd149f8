"""An updated index equals one built from scratch; a build tokenizes with the same cache it fills."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aiqa import pipeline
from aiqa.chinese import tokenize
from aiqa.store import load_index


def _contents(index: Path) -> tuple[list[dict], list[str], np.ndarray]:
    loaded = load_index(index)
    return (
        [chunk.model_dump() for chunk in loaded.chunks],
        (index / "tokens.jsonl").read_text(encoding="utf-8").splitlines(),
        loaded.dense.reconstruct_n(0, loaded.dense.ntotal),
    )


def test_update_equals_rebuild(corpus_copy: Path, settings_for, tmp_path: Path) -> None:
    settings = settings_for(corpus_copy)
    pipeline.build(settings)
    names = sorted(p.name for p in corpus_copy.glob("*.txt"))
    with open(corpus_copy / names[2], "a", encoding="utf-8") as handle:
        handle.write("\n苏州市成立了新的数据局。\n")
    (corpus_copy / names[4]).unlink()
    (corpus_copy / "new.txt").write_text("杭州市人工智能局于今年成立。", encoding="utf-8")

    update = pipeline.build(settings)
    assert (update.added, update.changed, update.removed) == (["new.txt"], [names[2]], [names[4]])
    assert update.embedded_chunks < update.chunks

    fresh = settings.model_copy(update={"index": tmp_path / "fresh"})
    pipeline.build(fresh)
    updated_chunks, updated_tokens, updated_vectors = _contents(settings.index)
    fresh_chunks, fresh_tokens, fresh_vectors = _contents(fresh.index)
    assert updated_chunks == fresh_chunks
    assert updated_tokens == fresh_tokens
    assert np.array_equal(updated_vectors, fresh_vectors)


def test_tokenize_returns_a_new_list_each_time() -> None:
    first = tokenize("温州市人工智能局成立")
    first.append("mutated")
    assert tokenize("温州市人工智能局成立") == first[:-1]
