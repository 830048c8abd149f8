"""Damaged, missing, unwritable and half-built indexes: one clear sentence, and nothing lost."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from aiqa import pipeline
from aiqa.pipeline import Pipeline
from aiqa.store import load_index
from hostile_helpers import (
    QUESTION,
    aiqa_argv,
    assert_clear_failure,
    assert_succeeded,
    child_env,
    index_fingerprint,
    invoke,
    run_aiqa,
)

EXTRA_FILES = 16


@pytest.fixture
def built(corpus_copy: Path, settings_for):
    """A corpus copy with its index built, and the arguments that point the CLI at them."""
    settings = settings_for(corpus_copy)
    pipeline.build(settings)
    return settings, ["--corpus", str(corpus_copy), "--index", str(settings.index)]


def _answer_json(args: list[str]) -> dict:
    result = invoke("ask", "--json", QUESTION, *args)
    assert_succeeded(result)
    return json.loads(result.stdout)


def _damage_then_repair(settings, args: list[str], *needles: str) -> None:
    """`ask` names the damage in one line; a plain `aiqa index` repairs it; `ask` answers again."""
    assert_clear_failure(invoke("ask", "--json", QUESTION, *args), *needles, "aiqa index --rebuild")
    assert_succeeded(invoke("index", *args))
    load_index(settings.index)
    assert _answer_json(args)["answerable"]


def test_truncated_faiss_file(built) -> None:
    settings, args = built
    dense = settings.index / "dense.faiss"
    dense.write_bytes(dense.read_bytes()[: dense.stat().st_size // 2])
    _damage_then_repair(settings, args, "is damaged")


@pytest.mark.parametrize("content", ["{not json", '{"schema_version": "one"}', "null", ""])
def test_invalid_manifest(built, content: str) -> None:
    settings, args = built
    (settings.index / "manifest.json").write_text(content, encoding="utf-8")
    _damage_then_repair(settings, args, "is damaged")


def test_missing_manifest_means_no_index_and_ask_builds_one(built) -> None:
    settings, args = built
    (settings.index / "manifest.json").unlink()
    assert _answer_json(args)["answerable"]
    assert (settings.index / "manifest.json").exists()


def test_missing_chunk_records(built) -> None:
    settings, args = built
    chunks = settings.index / "chunks.jsonl"
    lines = chunks.read_text(encoding="utf-8").splitlines(keepends=True)
    chunks.write_text("".join(lines[:-3]), encoding="utf-8")
    _damage_then_repair(settings, args, "is inconsistent")


def test_garbled_chunk_record(built) -> None:
    settings, args = built
    chunks = settings.index / "chunks.jsonl"
    lines = chunks.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[7] = '{"id": 7, "doc": \n'
    chunks.write_text("".join(lines), encoding="utf-8")
    _damage_then_repair(settings, args, "is damaged")


def test_missing_bm25_and_token_files(built) -> None:
    settings, args = built
    shutil.rmtree(settings.index / "bm25")
    (settings.index / "tokens.jsonl").unlink()
    _damage_then_repair(settings, args, "is damaged")


def test_index_directory_that_cannot_be_written(corpus_copy: Path, tmp_path: Path) -> None:
    # Root writes anywhere permissions allow nothing, so the index goes below a regular file.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    args = ["--corpus", str(corpus_copy), "--index", str(blocker / "index")]
    for command in (["index"], ["ask", "--json", QUESTION]):
        line = assert_clear_failure(run_aiqa(*command, *args), "Cannot write the index", "--index")
        assert "is a file, not a directory" in line
    assert blocker.read_text(encoding="utf-8") == "not a directory"


def _slow_corpus(corpus: Path) -> None:
    """Enough new text that a build takes a few seconds, so it can be killed halfway: the corpus's
    sentences shuffled into new files (so no chunk repeats one that is already tokenized)."""
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(corpus.glob("*.txt")))
    sentences = [s + "。" for s in text.split("。") if s.strip()]
    rng = random.Random(6)
    for number in range(EXTRA_FILES):
        rng.shuffle(sentences)
        (corpus / f"extra_{number:02d}.txt").write_text("".join(sentences), encoding="utf-8")


def test_build_killed_halfway_keeps_the_old_index(built) -> None:
    settings, args = built
    before = _answer_json(args)
    before_chunks = [c.model_dump() for c in load_index(settings.index).chunks]
    fingerprint = index_fingerprint(settings.index)
    _slow_corpus(settings.corpus)
    process = subprocess.Popen(
        aiqa_argv("index", "--rebuild", *args),
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    assert process.poll() is None, "the build finished before it could be killed; make _slow_corpus larger"
    process.send_signal(signal.SIGKILL)
    process.wait()

    # A kill while writing leaves a staging directory; make one as such a kill would.
    stale = settings.index.with_name(f".{settings.index.name}.building-killed")
    shutil.copytree(settings.index, stale)
    (stale / "manifest.json").unlink()

    assert index_fingerprint(settings.index) == fingerprint
    old = load_index(settings.index)  # the old index is whole and loads
    assert len(old.manifest.files) == 5 and [c.model_dump() for c in old.chunks] == before_chunks

    assert_succeeded(run_aiqa("index", *args))
    assert not stale.exists()
    assert len(load_index(settings.index).manifest.files) == 5 + EXTRA_FILES
    after = _answer_json(args)
    # The filler files shift word frequencies, which may change the companion sentences an answer
    # quotes, not the sentence it quotes first.
    assert after["answerable"] and after["answer"].split(" [1]")[0] == before["answer"].split(" [1]")[0]


def test_swap_interrupted_between_its_renames(built) -> None:
    settings, _ = built
    previous = settings.index.with_name(f".{settings.index.name}.previous")
    settings.index.rename(previous)  # killed after moving the old index aside, before the new one
    answer = Pipeline.open(settings, build_if_missing=False).ask(QUESTION)
    assert answer.answerable
    assert settings.index.exists() and not previous.exists()
