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
    child_env,
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
