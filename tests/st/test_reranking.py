"""The optional CrossEncoder reranker, with a tiny cross-encoder the session builds itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aiqa.live import LivePipeline
from aiqa.pipeline import Pipeline
from aiqa.reranking import RERANK_DEPTH
from aiqa.retrieval import HybridRetriever, make_query
from aiqa.settings import Settings

REAL_CORPUS = Path(__file__).resolve().parents[2] / "corpus"
QUESTION = "南京的人工智能产业规模有多大？"


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(corpus=REAL_CORPUS, index=tmp_path / "index", embedder="offline", **overrides)


def test_the_reranker_reorders_the_fused_top_20_by_cross_encoder_score(tiny_models, tmp_path: Path) -> None:
    pipeline = Pipeline.open(_settings(tmp_path, reranker=str(tiny_models.cross_encoder)))
    assert pipeline.reranker is not None and pipeline.reranker.reranker is not None
    assert pipeline.reranker.description == (
        f"cross-encoder:{tiny_models.cross_encoder.resolve()} (cross-encoder reranker: "
        f"{tiny_models.cross_encoder} from the local directory)"
    )

    answer = pipeline.ask(QUESTION)

    fused = HybridRetriever(
        pipeline.index, pipeline.choice.embedder, pipeline.settings.dense_weight
    ).retrieve(make_query(QUESTION), RERANK_DEPTH)
    from sentence_transformers import CrossEncoder

    scores = CrossEncoder(str(tiny_models.cross_encoder), device="cpu").predict(
        [(QUESTION, passage.text) for passage in fused]
    )
    expected = [fused[i] for i in sorted(range(len(fused)), key=lambda i: (-scores[i], i))][:10]
    assert [p.chunk_id for p in expected] != [p.chunk_id for p in fused[:10]]  # reranking shows
    assert [(p.doc, p.start) for p in answer.retrieved] == [(p.doc, p.start) for p in expected]
    np.testing.assert_allclose(
        [p.score for p in answer.retrieved], sorted(scores, reverse=True)[:10], atol=1e-4
    )


def test_an_unavailable_reranker_is_skipped_with_the_reason(tmp_path: Path) -> None:
    missing = tmp_path / "no-reranker"
    plain = Pipeline.open(_settings(tmp_path))
    pipeline = Pipeline.open(_settings(tmp_path, reranker=str(missing)))

    assert pipeline.reranker is not None and pipeline.reranker.reranker is None
    assert pipeline.reranker.description == (
        f"off (the model directory {missing} does not exist; "
        "set AIQA_RERANKER to a local model directory to rerank)"
    )
    assert pipeline.ask(QUESTION).retrieved == plain.ask(QUESTION).retrieved


def test_a_server_rebuild_keeps_the_reranker_and_its_status_names_it(tiny_models, tmp_path: Path) -> None:
    live = LivePipeline(Pipeline.open(_settings(tmp_path, reranker=str(tiny_models.cross_encoder))))
    before = live.current.reranker

    live.rebuild()

    assert live.current.reranker is before
    assert live.status().reranker == before.description
    assert LivePipeline(Pipeline.open(_settings(tmp_path))).status().reranker is None
