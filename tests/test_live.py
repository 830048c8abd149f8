"""A serving pipeline rebuilt while people keep asking: every answer arrives, the swap is whole."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from aiqa.errors import CorpusError
from aiqa.live import LivePipeline
from aiqa.pipeline import Pipeline
from aiqa.store import load_index

QUESTION = "温州市人工智能局是什么时候成立的？"
NEW_FACT = "青田县人工智能实验室于2024年3月15日正式挂牌成立。"
NEW_QUESTION = "青田县人工智能实验室是什么时候挂牌成立的？"
NEW_DATE = "2024年3月15日"  # what only the new file says


@pytest.fixture
def live(corpus_copy, settings_for) -> LivePipeline:
    return LivePipeline(Pipeline.open(settings_for(corpus_copy)))


def test_eight_askers_are_all_answered_while_a_rebuild_runs(live, corpus_copy):
    (corpus_copy / "qingtian.txt").write_text(NEW_FACT, encoding="utf-8")
    old = live.current
    assert live.status().changes.added == ["qingtian.txt"]
    rebuild_started, asks_done = threading.Event(), threading.Event()

    def hold_the_rebuild(stage: str, done: int, total: int) -> None:
        # The build waits here, mid-way, until every asker has its answer: they overlap for certain.
        rebuild_started.set()
        assert asks_done.wait(60), "the askers did not finish"

    def ask(_: int):
        assert rebuild_started.wait(60)
        return live.current.ask(QUESTION)

    with ThreadPoolExecutor(9) as pool:
        rebuild = pool.submit(live.rebuild, progress=hold_the_rebuild)
        answers = list(pool.map(ask, range(8)))
        assert not rebuild.done(), "the askers ran while the rebuild was in progress"
        asks_done.set()
        report = rebuild.result(60)

    assert all(a.answerable and "9月" in a.answer and a.citations[0].n == 1 for a in answers)
    assert len({a.answer for a in answers}) == 1
    assert report.added == ["qingtian.txt"] and report.embedded_chunks == 1
    assert live.current is not old
    assert len(live.current.index.chunks) == len(old.index.chunks) + 1
    assert not live.status().changes.any and live.status().loaded_from_disk is None
    answer = live.current.ask(NEW_QUESTION)
    assert answer.answerable and answer.citations[0].doc == "qingtian.txt"
    assert NEW_DATE in answer.answer
    assert NEW_DATE not in old.ask(NEW_QUESTION).answer, "the old pipeline still answers from the old index"


def test_a_failed_rebuild_keeps_the_working_index(live, corpus_copy, settings_for):
    old = live.current
    before = live.status()
    for path in corpus_copy.iterdir():
        path.unlink()
    with pytest.raises(CorpusError, match="no readable"):
        live.rebuild()
    assert live.current is old
    assert live.current.ask(QUESTION).answerable
    on_disk = load_index(settings_for(corpus_copy).index)
    assert len(on_disk.chunks) == before.chunks
    status = live.status()
    assert status.chunks == before.chunks and len(status.changes.removed) == before.documents


def test_status_reports_a_vanished_corpus_instead_of_failing(corpus_copy, tmp_path) -> None:
    import shutil

    from aiqa.live import LivePipeline
    from aiqa.pipeline import Pipeline
    from aiqa.settings import Settings

    live = LivePipeline(
        Pipeline.open(Settings(corpus=corpus_copy, index=tmp_path / "index", embedder="offline"))
    )
    shutil.rmtree(corpus_copy)
    status = live.status()
    assert status.problem is not None and "does not exist" in status.problem
    assert not status.changes.any and status.chunks > 0


def test_an_index_built_by_another_process_is_loaded_before_the_next_question(live, corpus_copy, tmp_path):
    before = live.current
    assert NEW_DATE not in live.current.ask(NEW_QUESTION).answer
    (corpus_copy / "qingtian.txt").write_text(NEW_FACT, encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AIQA_")}
    environment.update(
        AIQA_EMBEDDER="offline", AIQA_CORPUS=str(corpus_copy), AIQA_INDEX=str(tmp_path / "index")
    )
    built = subprocess.run(
        [sys.executable, "-m", "aiqa", "index"], env=environment, capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr
    answer = live.current.ask(NEW_QUESTION)
    assert live.current is not before
    assert answer.answerable and NEW_DATE in answer.answer
    status = live.status()
    assert status.loaded_from_disk == live.current.index.manifest.built_at
    from aiqa.ui import status_outputs  # gradio: imported only here

    english, chinese = (status_outputs(live, language)[1] for language in ("en", "zh-Hans"))
    assert "UTC by another process, loaded" in english
    assert "由另一进程构建于" in chinese and "已载入" in chinese
    assert not status.changes.any and status.documents == 6
    assert live.current is live.current, "an unchanged index on disk is not loaded again"
