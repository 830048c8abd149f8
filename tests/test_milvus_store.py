"""The Milvus store against a real engine: a Milvus Lite gRPC server on a loopback port (the
protocol a Standalone or Distributed cluster speaks), and Milvus Lite embedded in a .db file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiqa.live import LivePipeline
from aiqa.pipeline import Pipeline, build, store_for
from aiqa.settings import Settings

from conftest import DEV_QUESTIONS, REAL_CORPUS

pytest.importorskip("pymilvus")
SERVER_START_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Milvus Lite server on loopback only, stopped when the module's tests end."""
    port = _free_port()
    data = tmp_path_factory.mktemp("milvus-data")
    server = subprocess.Popen(
        [
            Path(sys.executable).with_name("milvus-lite"),
            "server",
            "--data-dir",
            data,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("the Milvus Lite server did not start")
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def _settings(corpus: Path, store: str, name: str) -> Settings:
    # The index path only names the collection: nothing is written there.
    return Settings(corpus=corpus, index=Path("/nonexistent") / name, store=store, embedder="offline")


def _dev_questions() -> list[dict]:
    return [
        json.loads(line) for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _exact(corpus: Path, answer) -> bool:
    texts = {}
    for passage in [*answer.citations, *answer.retrieved]:
        if passage.doc not in texts:
            texts[passage.doc] = (corpus / passage.doc).read_bytes().decode("utf-8")
        if texts[passage.doc][passage.start : passage.end] != passage.text:
            return False
    return True


def test_the_milvus_server_gives_the_files_stores_retrieval_on_the_dev_set(
    milvus_uri: str, tmp_path: Path
) -> None:
    files = Pipeline.open(Settings(corpus=REAL_CORPUS, index=tmp_path / "index", embedder="offline"))
    milvus = Pipeline.open(_settings(REAL_CORPUS, milvus_uri, "dev"))
    assert milvus.index.size == files.index.size
    # The dense search is exact, as the files store's is at this size (Milvus's AUTOINDEX is HNSW).
    assert milvus.index.manifest.dense == files.index.manifest.dense == "flat"
    vector = milvus.index.client.describe_index(milvus.index.collection, "vector")
    assert vector["index_type"] == "FLAT"
    same_top5 = 0
    questions = _dev_questions()
    for row in questions:
        expected = files.ask(row["question"])
        got = milvus.ask(row["question"])
        assert _exact(REAL_CORPUS, got)
        same_top5 += [(p.doc, p.start) for p in got.retrieved[:5]] == [
            (p.doc, p.start) for p in expected.retrieved[:5]
        ]
        assert got.answerable == expected.answerable
    # Float32 BM25 and inner products in another engine may order exact ties differently.
    assert same_top5 >= len(questions) - 1


def test_one_changed_file_is_replaced_alone_and_its_new_content_answers(
    milvus_uri: str, corpus_copy: Path
) -> None:
    settings = _settings(corpus_copy, milvus_uri, "update")
    first = build(settings, rebuild=True)
    assert first.rebuilt and first.files == 5
    live = LivePipeline(Pipeline.open(settings))
    edited = sorted(corpus_copy.iterdir())[3]
    new_fact = "\n据介绍，雨花台区人工智能发展局首任局长是欧阳明远，他此前担任区科技局副局长。\n"
    edited.write_text(edited.read_text(encoding="utf-8") + new_fact, encoding="utf-8")
    report = build(settings)
    assert report.changed == [edited.name] and not report.added and not report.removed
    assert report.embedded_chunks < first.embedded_chunks / 3
    # A running server follows an update another builder made before its next question.
    assert live.current.index.size == report.chunks
    assert "欧阳明远" in live.current.ask("雨花台区人工智能发展局首任局长是谁？").answer
    answer = Pipeline.open(settings).ask("雨花台区人工智能发展局首任局长是谁？")
    assert "欧阳明远" in answer.answer
    assert answer.citations[0].doc == edited.name and _exact(corpus_copy, answer)

    edited.unlink()
    report = build(settings)
    assert report.removed == [edited.name]
    pipeline = Pipeline.open(settings)
    assert pipeline.index.size == sum(entry.chunks for entry in pipeline.index.manifest.files.values())
    assert all(p.doc != edited.name for p in pipeline.ask("雨花台区人工智能发展局首任局长是谁？").retrieved)


_KILLED_BUILD = """
import os, signal, sys
from pathlib import Path
from aiqa.pipeline import build
from aiqa.settings import Settings

def die(stage, done, total):
    if stage == "embed" and done >= int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)

settings = Settings(corpus=Path(sys.argv[1]), index=Path("/nonexistent/killed"), store=sys.argv[2], embedder="offline")
build(settings, rebuild=sys.argv[4] == "rebuild", progress=die)
"""


def _kill_a_build(corpus: Path, uri: str, *, after_chunks: int, rebuild: bool) -> None:
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLED_BUILD,
            str(corpus),
            uri,
            str(after_chunks),
            "rebuild" if rebuild else "update",
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode(errors="replace")


def test_a_killed_rebuild_leaves_the_old_collection_answering(milvus_uri: str, corpus_copy: Path) -> None:
    settings = _settings(corpus_copy, milvus_uri, "killed")
    build(settings, rebuild=True)
    reader = Pipeline.open(settings)
    build(settings, rebuild=True)  # a reader that loaded the replaced collection still answers
    assert reader.ask("温州市人工智能局是什么时候成立的？").answerable
    before = Pipeline.open(settings).ask("温州市人工智能局是什么时候成立的？")
    _kill_a_build(corpus_copy, milvus_uri, after_chunks=64, rebuild=True)
    after = Pipeline.open(settings).ask("温州市人工智能局是什么时候成立的？")
    assert after.answer == before.answer and after.citations == before.citations
    # The next build finds the index as it was, and clears the half-written collections (and the
    # one the first rebuild kept for readers that had it loaded).
    assert not build(settings).changed
    store = store_for(settings)
    leftovers = [name for name in store.client.list_collections() if name.startswith(f"{store.name}__")]
    assert len(leftovers) == 2  # the index's chunk and meta collections


def test_a_killed_update_is_finished_by_the_next_build(milvus_uri: str, corpus_copy: Path) -> None:
    settings = _settings(corpus_copy, milvus_uri, "killed_update")
    build(settings, rebuild=True)
    edited = sorted(corpus_copy.iterdir())[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n新增的一句话。\n", encoding="utf-8")
    # Killed after the changed file's new chunks were inserted, before the manifest was written.
    _kill_a_build(corpus_copy, milvus_uri, after_chunks=1, rebuild=False)
    report = build(settings)
    assert report.changed == [edited.name]
    pipeline = Pipeline.open(settings)
    store = store_for(settings)
    stored = store.client.query(pipeline.index.collection, filter="", output_fields=["count(*)"])[0][
        "count(*)"
    ]
    assert stored == pipeline.index.size == report.chunks


def test_embedded_milvus_lite_builds_answers_and_updates(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in sorted(os.listdir(REAL_CORPUS))[:2]:
        shutil.copy(REAL_CORPUS / name, corpus)
    settings = _settings(corpus, str(tmp_path / "milvus.db"), "embedded")
    pipeline = Pipeline.open(settings)
    assert pipeline.build_report is not None and pipeline.build_report.files == 2
    answer = pipeline.ask("南京市雨花台区人工智能发展局是哪一天揭牌成立的？")
    assert answer.answerable and "1月27日" in answer.answer and _exact(corpus, answer)
    shutil.copy(sorted(REAL_CORPUS.iterdir())[2], corpus)
    report = build(settings)
    assert len(report.added) == 1 and len(report.unchanged) == 2
