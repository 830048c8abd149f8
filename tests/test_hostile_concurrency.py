"""Concurrency: parallel asks agree with sequential ones; parallel builds never corrupt the index."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiqa import pipeline
from aiqa.store import build_lock, load_index
from hostile_helpers import (
    QUESTION,
    REPO,
    aiqa_argv,
    assert_clear_failure,
    assert_exact,
    child_env,
    corpus_texts,
    index_fingerprint,
    invoke,
    run_aiqa,
)


def _questions(count: int) -> list[str]:
    lines = (REPO / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    questions += ["🤖？", "'; DROP TABLE chunks; --", "温州市AI局 когда?"]
    return [questions[i % len(questions)] for i in range(count)]


def _comparable(answer) -> dict:
    data = answer.to_json_dict()
    data.pop("latency_ms")
    return data


def test_fifty_concurrent_asks_equal_sequential_ones(real_pipeline) -> None:
    questions = _questions(50)
    sequential = [_comparable(real_pipeline.ask(q)) for q in questions]
    with ThreadPoolExecutor(max_workers=50) as pool:
        concurrent = [_comparable(a) for a in pool.map(real_pipeline.ask, questions)]
    assert concurrent == sequential


def test_a_second_build_while_one_holds_the_lock(corpus_copy: Path, settings_for) -> None:
    settings = settings_for(corpus_copy)
    pipeline.build(settings)
    before = index_fingerprint(settings.index)
    args = ["--corpus", str(corpus_copy), "--index", str(settings.index)]
    with build_lock(settings.index):  # another process building, as far as a second one can tell
        result = run_aiqa("index", "--rebuild", *args)
    assert_clear_failure(result, "Another aiqa process is building the index", "wait for it to finish")
    assert index_fingerprint(settings.index) == before


def test_two_index_processes_at_once(corpus_copy: Path, tmp_path: Path) -> None:
    args = ["--corpus", str(corpus_copy), "--index", str(tmp_path / "index")]
    processes = [
        subprocess.Popen(aiqa_argv("index", "--rebuild", *args), env=child_env(), stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [
        subprocess.CompletedProcess(p.args, p.wait(timeout=120), b"", p.stderr.read()) for p in processes
    ]
    for process in processes:
        process.stderr.close()
    assert any(r.returncode == 0 for r in results)
    for result in results:
        if result.returncode != 0:
            assert_clear_failure(result, "Another aiqa process is building the index")
    load_index(tmp_path / "index")
    answer = json.loads(invoke("ask", "--json", QUESTION, *args).stdout)
    assert answer["answerable"]


NEW_FACT = "新安市人工智能局于2031年5月18日正式挂牌成立,首任局长为周明远。\n"
NEW_QUESTION = "新安市人工智能局是什么时候成立的？"


def _change(corpus: Path) -> None:
    """A file added and a file changed: offsets into the changed one move."""
    (corpus / "zz_xinan.txt").write_text("新安市设立人工智能局\n" + NEW_FACT, encoding="utf-8")
    first = sorted(corpus.glob("*.txt"))[0]
    first.write_text("前言:本文有修订。\n" + first.read_text(encoding="utf-8"), encoding="utf-8")


def test_fifty_parallel_asks_on_a_changed_corpus(corpus_copy: Path, settings_for) -> None:
    settings = settings_for(corpus_copy)
    pipeline.build(settings)
    _change(corpus_copy)
    texts = corpus_texts(corpus_copy)
    env = {**child_env(), "AIQA_UPDATE_WAIT": "240"}  # this test is about waiting, not the fallback
    args = ["--corpus", str(corpus_copy), "--index", str(settings.index)]
    questions = [NEW_QUESTION if i % 2 else QUESTION for i in range(50)]
    processes = [
        subprocess.Popen(
            aiqa_argv("ask", "--json", question, *args),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for question in questions
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode()
        answer = json.loads(stdout)
        assert answer["answerable"] and "notices" not in answer
        for passage in [*answer["citations"], *answer["retrieved"]]:
            assert passage["text"] == texts[passage["doc"]][passage["start"] : passage["end"]]
        if answer["question"] == NEW_QUESTION:
            assert answer["citations"][0]["doc"] == "zz_xinan.txt"
    assert len(load_index(settings.index).manifest.files) == 6


def test_a_reader_answers_from_the_current_index_while_another_process_builds(
    corpus_copy: Path, settings_for
) -> None:
    settings = settings_for(corpus_copy, update_wait=0.5)
    pipeline.build(settings)
    before = index_fingerprint(settings.index)
    (corpus_copy / "zz_xinan.txt").write_text(NEW_FACT, encoding="utf-8")
    with build_lock(settings.index):  # another process is building, as far as a reader can tell
        answer = pipeline.Pipeline.open(settings).ask(QUESTION)
        result = invoke("ask", QUESTION, "--corpus", str(corpus_copy), "--index", str(settings.index))
    assert answer.answerable
    assert_exact(answer, corpus_texts(corpus_copy))
    assert "Another aiqa process is building the index" in answer.notices[0]
    assert "1 added" in answer.notices[0]
    assert result.returncode == 0 and b"notice:" in result.stderr
    assert index_fingerprint(settings.index) == before


def test_ask_fails_only_when_there_is_no_index_at_all(corpus_copy: Path, settings_for) -> None:
    settings = settings_for(corpus_copy)
    args = ["--corpus", str(corpus_copy), "--index", str(settings.index)]
    with build_lock(settings.index):
        result = run_aiqa("ask", QUESTION, *args, env_extra={"AIQA_UPDATE_WAIT": "0.5"})
    assert_clear_failure(result, "Another aiqa process is building the index")
