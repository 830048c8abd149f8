"""Write errors (a full disk, a file-size limit, a FIFO where a file should be): one sentence, no hang,
and the old index keeps answering.

A full disk is simulated without root tricks: RLIMIT_FSIZE in the child process makes every write
past the limit fail with EFBIG, the way a full disk fails with ENOSPC.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest

from aiqa import pipeline
from hostile_helpers import (
    QUESTION,
    REPO,
    aiqa_argv,
    assert_clear_failure,
    child_env,
    corpus_texts,
    index_fingerprint,
    run_aiqa,
)

DEV = REPO / "eval" / "dev.jsonl"


def _run_with_file_size_limit(limit: int, *args: str) -> subprocess.CompletedProcess[bytes]:
    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        aiqa_argv(*args),
        env=child_env(),
        capture_output=True,
        timeout=120,
        check=False,
        preexec_fn=limit_writes,
    )


def _add_a_file(corpus: Path) -> None:
    (corpus / "zz_new.txt").write_text("新安市人工智能局于2031年5月18日正式挂牌成立。\n", encoding="utf-8")


def _spooled_bytes(corpus: Path, tmp_path: Path) -> tuple[int, int]:
    """The size of the build's vector spool for this corpus, and of the dense.faiss that follows it."""
    scratch = pipeline.build(pipeline.Settings(corpus=corpus, index=tmp_path / "scratch"))
    dense = (tmp_path / "scratch" / "dense.faiss").stat().st_size
    return scratch.chunks * 1024 * 4, dense


@pytest.mark.parametrize("fails_at", ["vector spool", "dense.faiss"])
def test_a_full_disk_during_an_update_keeps_the_old_index_answering(
    corpus_copy: Path, settings_for, tmp_path: Path, fails_at: str
) -> None:
    settings = settings_for(corpus_copy)
    pipeline.build(settings)
    before = index_fingerprint(settings.index)
    _add_a_file(corpus_copy)
    spool, dense = _spooled_bytes(corpus_copy, tmp_path)
    assert dense > spool + 1
    # The spool is the first large write of a build; FAISS (which raises RuntimeError) writes next.
    limit = spool // 2 if fails_at == "vector spool" else spool + 1
    args = ["--corpus", str(corpus_copy), "--index", str(settings.index)]

    line = assert_clear_failure(_run_with_file_size_limit(limit, "index", *args), "Cannot write the index")
    assert "File too large" in line and "free some disk space" in line
    assert index_fingerprint(settings.index) == before
    assert not list(settings.index.parent.glob(".index.building-*"))

    result = _run_with_file_size_limit(limit, "ask", "--json", QUESTION, *args)
    assert result.returncode == 0, result.stderr.decode()
    answer = json.loads(result.stdout)
    assert answer["answerable"]
    assert "could not be updated" in answer["notices"][0] and "File too large" in answer["notices"][0]
    texts = corpus_texts(corpus_copy)
    for passage in answer["citations"]:
        assert passage["text"] == texts[passage["doc"]][passage["start"] : passage["end"]]
    assert index_fingerprint(settings.index) == before


@pytest.fixture
def index_args(corpus_copy: Path, settings_for) -> list[str]:
    settings = settings_for(corpus_copy)
    pipeline.build(settings)
    return ["--corpus", str(corpus_copy), "--index", str(settings.index)]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_eval_out_to_a_full_device(index_args: list[str]) -> None:
    assert_clear_failure(
        run_aiqa("eval", str(DEV), "--out", "/dev/full", *index_args), "Cannot write results to /dev/full"
    )


def test_eval_reads_a_fifo_without_hanging(index_args: list[str], tmp_path: Path) -> None:
    fifo = tmp_path / "questions.jsonl"
    os.mkfifo(fifo)
    assert_clear_failure(run_aiqa("eval", str(fifo), *index_args, timeout=60), "has no questions")


def test_eval_out_to_a_fifo_without_hanging(index_args: list[str], tmp_path: Path) -> None:
    fifo = tmp_path / "results.jsonl"
    os.mkfifo(fifo)
    assert_clear_failure(
        run_aiqa("eval", str(DEV), "--out", str(fifo), *index_args, timeout=60), "Cannot write results to"
    )
