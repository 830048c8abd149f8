"""Shared fixtures: real corpora copied or written into temporary directories."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aiqa.pipeline import Pipeline
from aiqa.settings import Settings

REPO = Path(__file__).resolve().parent.parent
REAL_CORPUS = REPO / "corpus"
DEV_QUESTIONS = REPO / "eval" / "dev.jsonl"
# The e5 tests index one file (about 30 chunks, a few seconds) rather than the whole corpus.
E5_CORPUS_FILE = "001_4860eeb1fce788d0.txt"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's AIQA_* settings, and never reach a model hub."""
    import os

    for name in list(os.environ):
        if name.startswith("AIQA_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("AIQA_EMBEDDER", "offline")


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the real corpus that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(REAL_CORPUS, target)
    return target


@pytest.fixture
def settings_for(tmp_path: Path):
    def make(corpus: Path, **overrides: object) -> Settings:
        return Settings(corpus=corpus, index=tmp_path / "index", **overrides)

    return make


@pytest.fixture(scope="session")
def real_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The real corpus, indexed once per session with the offline embedder."""
    index = tmp_path_factory.mktemp("real") / "index"
    return Pipeline.open(Settings(corpus=REAL_CORPUS, index=index, embedder="offline"))


@pytest.fixture(scope="session")
def e5_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """One file of the real corpus, indexed once per session with the bundled multilingual-e5-small
    (the default `auto` picks when no sentence-transformers model is named or cached)."""
    root = tmp_path_factory.mktemp("e5")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(REAL_CORPUS / E5_CORPUS_FILE, corpus)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_HOME", str(root / "hf-home"))  # nothing cached: auto must pick e5
        patch.delenv("AIQA_EMBEDDER", raising=False)
        patch.delenv("AIQA_EMBED_MODEL", raising=False)
        return Pipeline.open(Settings(corpus=corpus, index=root / "index"))
