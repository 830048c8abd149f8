"""An index path is aiqa's or refused: a build never deletes what it did not write.

Nothing here touches a real system path: the "device" is a FIFO made under the test's own tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from aiqa import pipeline
from aiqa.errors import IndexStateError
from hostile_helpers import QUESTION, aiqa_argv, assert_clear_failure, assert_succeeded, child_env, run_aiqa


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every entry below root (the root included), with file contents, so that any change shows."""
    tree: dict[str, bytes | str] = {}
    for path in [root, *sorted(root.rglob("*"))]:
        name = path.relative_to(root).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            tree[name] = f"special {os.lstat(path).st_mode:o}"
        elif path.is_file():
            tree[name] = path.read_bytes()
        else:
            tree[name] = "dir"
    return tree


def _refused(result: subprocess.CompletedProcess[bytes]) -> None:
    assert_clear_failure(result, "cannot be used as the index directory", "nothing was changed")


@pytest.mark.parametrize("command", [["index"], ["index", "--rebuild"], ["ask", "--json", QUESTION]])
def test_a_folder_of_documents_is_never_replaced(
    corpus_copy: Path, tmp_path: Path, command: list[str]
) -> None:
    important = tmp_path / "important"
    important.mkdir()
    (important / "thesis.docx").write_bytes(b"PK\x03\x04 four years of work")
    before = _tree(tmp_path)
    _refused(run_aiqa(*command, "--corpus", str(corpus_copy), "--index", str(important)))
    assert _tree(tmp_path) == before  # not even a lock file beside it


def test_a_manifest_json_of_another_tool_is_not_an_index(corpus_copy: Path, tmp_path: Path) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "manifest.json").write_text('{"name": "my app", "icons": []}', encoding="utf-8")
    before = _tree(tmp_path)
    _refused(run_aiqa("index", "--corpus", str(corpus_copy), "--index", str(web)))
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("kind", ["file", "fifo"])
def test_a_file_or_device_is_never_replaced(corpus_copy: Path, tmp_path: Path, kind: str) -> None:
    # A FIFO stands in for a device such as /dev/null: neither is a directory, neither may be renamed.
    target = tmp_path / "null"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.write_bytes(b"keep me")
    before = _tree(tmp_path)
    env = {**child_env(), "AIQA_INDEX": str(target), "AIQA_CORPUS": str(corpus_copy)}
    for command in (["index"], ["ask", QUESTION]):
        result = subprocess.run(aiqa_argv(*command), env=env, capture_output=True, timeout=60, check=False)
        _refused(result)
        assert "not a directory" in result.stderr.decode()
    assert _tree(tmp_path) == before


def test_the_corpus_and_its_parents_are_never_replaced(corpus_copy: Path) -> None:
    before = _tree(corpus_copy.parent)
    for index in (corpus_copy, corpus_copy.parent):
        result = run_aiqa("index", "--corpus", str(corpus_copy), "--index", str(index))
        _refused(result)
        assert "corpus directory" in result.stderr.decode()
    assert _tree(corpus_copy.parent) == before


@pytest.mark.parametrize("index", [".", "WORKDIR", ".."])
def test_the_working_directory_is_never_replaced(corpus_copy: Path, tmp_path: Path, index: str) -> None:
    work = tmp_path / "work" / "here"
    work.mkdir(parents=True)
    before = _tree(tmp_path)
    result = subprocess.run(
        aiqa_argv(
            "index", "--corpus", str(corpus_copy), "--index", str(work) if index == "WORKDIR" else index
        ),
        cwd=work,
        env=child_env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    _refused(result)
    assert "working directory" in result.stderr.decode()
    assert _tree(tmp_path) == before


def test_an_empty_directory_and_an_old_index_are_used(corpus_copy: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["--corpus", str(corpus_copy), "--index", str(empty)]
    assert_succeeded(run_aiqa("index", *args))
    assert_succeeded(run_aiqa("index", "--rebuild", *args))
    assert json.loads(run_aiqa("ask", "--json", QUESTION, *args).stdout)["answerable"]


def test_files_that_arrive_during_a_build_are_not_swapped_away(corpus_copy: Path, settings_for) -> None:
    settings = settings_for(corpus_copy)
    pipeline.build(settings)
    arrived = settings.index / "notes.txt"

    def drop_a_file(stage: str, done: int, total: int) -> None:
        arrived.write_text("written by hand while the index was building", encoding="utf-8")

    with pytest.raises(IndexStateError, match="not part of an aiqa index"):
        pipeline.build(settings, rebuild=True, progress=drop_a_file)
    assert arrived.read_text(encoding="utf-8").startswith("written by hand")
    arrived.unlink()
    pipeline.Pipeline.open(settings, build_if_missing=False)  # the old index is whole


def test_a_users_directory_named_like_the_swap_target_is_kept(corpus_copy: Path, settings_for) -> None:
    settings = settings_for(corpus_copy)
    pipeline.build(settings)
    theirs = settings.index.with_name(f".{settings.index.name}.previous")
    theirs.mkdir()
    (theirs / "diary.md").write_text("mine", encoding="utf-8")
    with pytest.raises(IndexStateError, match="not part of an aiqa index"):
        pipeline.build(settings, rebuild=True)
    assert (theirs / "diary.md").read_text(encoding="utf-8") == "mine"
