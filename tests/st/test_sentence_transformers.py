"""The sentence-transformers path end to end, through tiny models the session builds itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sentence_transformers
from typer.testing import CliRunner

from aiqa.cli import app
from aiqa.e5_embedder import NAME as E5_NAME
from aiqa.embedders import choose_embedder
from aiqa.errors import IndexStateError, ModelError
from aiqa.pipeline import Pipeline, build
from aiqa.settings import Settings
from aiqa.st_embedder import Prompts, family_prompts
from aiqa.store import load_index

REPO = Path(__file__).resolve().parents[2]
REAL_CORPUS = REPO / "corpus"
DEV_QUESTIONS = REPO / "eval" / "dev.jsonl"
QUESTION = "南京市雨花台区人工智能发展局是哪一天揭牌成立的？"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("BAAI/bge-m3", Prompts()),
        ("intfloat/multilingual-e5-small", Prompts("query: ", "passage: ")),
        ("BAAI/bge-large-zh-v1.5", Prompts("为这个句子生成表示以用于检索相关文章：", "")),
        (
            "Qwen/Qwen3-Embedding-0.6B",
            Prompts(
                "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:"
            ),
        ),
        ("Qwen/Qwen2.5-7B-Instruct", Prompts()),
        ("/models/my-own-model", Prompts()),
    ],
)
def test_each_model_family_gets_its_own_query_and_passage_prompts(model: str, expected: Prompts) -> None:
    assert family_prompts(model) == expected


def _st_settings(tmp_path: Path, model: Path, **overrides: object) -> Settings:
    corpus = tmp_path / "corpus" if (tmp_path / "corpus").exists() else REAL_CORPUS
    defaults = {"embedder": "sentence-transformers", "embed_model": str(model)}
    return Settings(corpus=corpus, index=tmp_path / "index", **{**defaults, **overrides})


def test_cli_index_ask_and_eval_run_on_a_local_model_directory(
    tiny_models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIQA_EMBEDDER", "auto")
    monkeypatch.setenv("AIQA_EMBED_MODEL", str(tiny_models.embedder))
    places = ["--corpus", str(REAL_CORPUS), "--index", str(tmp_path / "index")]
    runner = CliRunner()
    expected_id = f"sentence-transformers:{tiny_models.embedder.resolve()}"
    expected_name = f"{tiny_models.embedder} (sentence-transformers)"

    indexed = runner.invoke(app, ["index", *places])
    assert indexed.exit_code == 0, indexed.output
    assert f"embedder: {expected_name}" in indexed.stderr
    assert load_index(tmp_path / "index").manifest.embedder.model_dump() == {
        "id": expected_id,
        "name": expected_name,
        "kind": "sentence-transformers",
        "model": str(tiny_models.embedder.resolve()),
        "version": sentence_transformers.__version__,
        "dimension": 32,
    }

    asked = runner.invoke(app, ["ask", "--json", QUESTION, *places])
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.stdout)
    assert answer["embedder"] == expected_name
    assert answer["answerable"] and answer["citations"]
    for citation in answer["citations"]:
        text = (REAL_CORPUS / citation["doc"]).read_text(encoding="utf-8")
        assert citation["text"] == text[citation["start"] : citation["end"]]

    rows_path = tmp_path / "rows.jsonl"
    evaluated = runner.invoke(app, ["eval", str(DEV_QUESTIONS), "--out", str(rows_path), *places])
    assert evaluated.exit_code == 0, evaluated.output
    assert "recall@5" in evaluated.stdout
    rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(DEV_QUESTIONS.read_text(encoding="utf-8").splitlines())
    assert {row["embedder"] for row in rows} == {expected_name}


def test_stored_vectors_are_the_models_normalized_passage_embeddings(tiny_models, tmp_path: Path) -> None:
    settings = _st_settings(tmp_path, tiny_models.embedder)
    build(settings)
    index = load_index(settings.index)
    stored = index.dense.reconstruct_n(0, index.dense.ntotal)

    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(tiny_models.embedder), device="cpu")
    sample = [0, len(index.chunks) // 2, len(index.chunks) - 1]
    expected = model.encode([index.chunks[i].indexed for i in sample], normalize_embeddings=True)
    np.testing.assert_allclose(stored[sample], expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-5)


def test_switching_models_reembeds_and_switching_back_reuses_the_cached_vectors(
    tiny_models, tmp_path: Path
) -> None:
    first = _st_settings(tmp_path, tiny_models.embedder)
    second = _st_settings(tmp_path, tiny_models.other_embedder)

    report = build(first)
    assert report.embedded_chunks == report.chunks > 0
    vectors = load_index(first.index).dense.reconstruct_n(0, report.chunks)

    switched = build(second)
    assert switched.rebuilt and switched.embedded_chunks == switched.chunks
    assert load_index(second.index).manifest.embedder.dimension == 48
    with pytest.raises(
        IndexStateError, match=r"built with embedder sentence-transformers:.*run `aiqa index`"
    ):
        Pipeline.open(first)

    back = build(first)
    assert back.rebuilt and back.embedded_chunks == 0
    np.testing.assert_array_equal(load_index(first.index).dense.reconstruct_n(0, back.chunks), vectors)
    assert Pipeline.open(first).choice.embedder.id.endswith(str(tiny_models.embedder.resolve()))

    assert build(first, rebuild=True).embedded_chunks == 0


def test_an_edited_file_embeds_only_its_new_chunks(tiny_models, tmp_path: Path, corpus_copy: Path) -> None:
    settings = _st_settings(tmp_path, tiny_models.embedder)
    total = build(settings).chunks
    edited = sorted(corpus_copy.iterdir())[1]
    edited.write_text(
        edited.read_text(encoding="utf-8") + "\n\n嘉兴市在2026年新设了数据资源中心。\n", encoding="utf-8"
    )

    report = build(settings)

    assert report.changed == [edited.name]
    chunks_of_file = load_index(settings.index).manifest.files[edited.name].chunks
    assert 1 <= report.embedded_chunks < chunks_of_file < total


def test_a_passage_prompt_setting_is_applied_and_changes_the_embedder_id(tiny_models, tmp_path: Path) -> None:
    plain = choose_embedder(_st_settings(tmp_path, tiny_models.embedder)).embedder
    prompted = choose_embedder(
        _st_settings(
            tmp_path, tiny_models.embedder, embed_query_prompt="问题：", embed_passage_prompt="段落："
        )
    ).embedder

    assert prompted.id.startswith(plain.id + "+passage-prompt-")
    text = ["温州市人工智能局成立"]
    assert not np.allclose(plain.embed(text), prompted.embed(text))
    np.testing.assert_allclose(prompted.embed(text, query=True), plain.embed(["问题：" + text[0]]), atol=1e-5)
    np.testing.assert_allclose(prompted.embed(text), plain.embed(["段落：" + text[0]]), atol=1e-5)


def test_an_explicit_sentence_transformers_choice_with_a_missing_model_fails_with_one_clear_sentence(
    tmp_path: Path,
) -> None:
    settings = _st_settings(tmp_path, tmp_path / "no-such-model")
    with pytest.raises(ModelError) as raised:
        choose_embedder(settings)
    message = str(raised.value)
    assert message == (
        f"The embedding model cannot be loaded: the model directory {tmp_path / 'no-such-model'} does not "
        "exist; set AIQA_EMBED_MODEL to a local model directory, or AIQA_EMBEDDER=offline."
    )


def test_a_directory_that_is_not_a_model_fails_as_a_model_error_or_falls_back_in_auto(tmp_path: Path) -> None:
    not_a_model = tmp_path / "empty-model"
    not_a_model.mkdir()
    with pytest.raises(ModelError, match=r"could not be loaded .*; point the setting at a complete"):
        choose_embedder(_st_settings(tmp_path, not_a_model))

    choice = choose_embedder(_st_settings(tmp_path, not_a_model, embedder="auto"))
    assert choice.embedder.name == E5_NAME
    assert choice.fallback.startswith(f"{not_a_model} could not be loaded (")
    assert choice.fallback.endswith(f"); using {E5_NAME} instead.")
