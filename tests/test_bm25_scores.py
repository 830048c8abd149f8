"""The query-time BM25 reader scores exactly as bm25s does on the index it saved."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np
import pytest

from aiqa.bm25_scores import Bm25Scores
from aiqa.chinese import normalize, tokenize
from aiqa.pipeline import build
from aiqa.settings import Settings

from conftest import REAL_CORPUS


@pytest.mark.parametrize("method", ["lucene", "bm25+"])
def test_scores_equal_bm25s(tmp_path: Path, method: str) -> None:
    corpus = [
        tokenize(normalize(text))
        for text in ("温州市人工智能局成立。", "南京雨花台区人工智能发展局。", "数据产业集群。", "")
    ]
    reference = bm25s.BM25(method=method)
    reference.index(corpus, show_progress=False)
    reference.save(str(tmp_path / "bm25"), show_progress=False)
    ours = Bm25Scores(tmp_path / "bm25")
    for query in (["人工智能", "温州"], ["数据", "数据"], ["没有的词"], ["南京", "发展局", "人工"]):
        known = [t for t in query if t in reference.vocab_dict]
        expected = reference.get_scores(known) if known else np.zeros(4, dtype=np.float32)
        np.testing.assert_allclose(ours.get_scores(query), expected, rtol=1e-6)


def test_real_index_scores_equal_bm25s(tmp_path: Path) -> None:
    settings = Settings(corpus=REAL_CORPUS, index=tmp_path / "index", embedder="offline")
    build(settings)
    reference = bm25s.BM25.load(str(settings.index / "bm25"), load_vocab=True, show_progress=False)
    ours = Bm25Scores(settings.index / "bm25")
    query = tokenize(normalize("温州市人工智能局是什么时候成立的？"))
    np.testing.assert_allclose(ours.get_scores(query), reference.get_scores(query), rtol=1e-6)
    assert np.array_equal(ours.document_frequency(), np.diff(reference.scores["indptr"]))
