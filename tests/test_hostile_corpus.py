"""Hostile corpora: odd files are skipped with one warning each, and the rest is indexed exactly."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest

from aiqa import pipeline
from aiqa.pipeline import Pipeline
from aiqa.store import corpus_changes, load_index
from hostile_helpers import QUESTION, REAL_CORPUS, assert_exact, assert_succeeded, corpus_texts, run_aiqa


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def _long_line(megabytes: float, keep_punctuation: bool) -> str:
    """Real corpus text, repeated to the size, with every line break (and maybe every sentence end) gone."""
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(REAL_CORPUS.glob("*.txt")))
    # Footnote blocks are dropped: the cleaner removes a "<sup>n</sup>来源：" block to the end of
    # its line, which on a one-line file is the rest of the file (reported to the lead, chinese.py).
    text = re.sub(r"<sup>\s*\d+\s*</sup>", "", text).replace("\n", "")
    if not keep_punctuation:
        text = "".join(ch for ch in text if ch not in "。！？；!?;…")
    size = int(megabytes * 2**20)
    return (text * (size // len(text.encode()) + 1)).encode()[:size].decode("utf-8", "ignore")


@pytest.mark.parametrize("keep_punctuation", [True, False], ids=["sentences", "no sentence ends"])
def test_a_two_megabyte_file_on_one_line(tmp_path: Path, settings_for, keep_punctuation: bool) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one_line.txt").write_text(_long_line(2, keep_punctuation), encoding="utf-8")
    assert (corpus / "one_line.txt").stat().st_size >= 2_000_000
    settings = settings_for(corpus)
    report = pipeline.build(settings)
    assert report.files == 1 and report.chunks > 100
    index = load_index(settings.index)
    # No passage is the whole line: a citation stays readable.
    assert max(len(chunk.text) for chunk in index.chunks) <= 4 * index.manifest.chunking["chunk_chars"] + 10
    answer = Pipeline.open(settings).ask(QUESTION)
    assert_exact(answer, corpus_texts(corpus))


def test_five_thousand_tiny_files(tmp_path: Path, settings_for) -> None:
    corpus = tmp_path / "corpus"
    for number in range(5000):
        folder = corpus / f"{number // 500:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number:04d}.txt").write_text(
            f"第{number}号通知。城市{number}设立数据局。", encoding="utf-8"
        )
    settings = settings_for(corpus)
    report = pipeline.build(settings)
    assert report.files == 5000 and report.chunks == 5000 and not report.skipped
    answer = Pipeline.open(settings).ask("第4321号通知")
    assert answer.retrieved[0].doc == "08/4321.txt"
    assert_exact(answer, corpus_texts(corpus))


def test_symlink_loops(corpus_copy: Path, settings_for) -> None:
    (corpus_copy / "again").symlink_to(corpus_copy, target_is_directory=True)  # a directory loop
    (corpus_copy / "deeper").mkdir()
    (corpus_copy / "deeper" / "up").symlink_to("..", target_is_directory=True)
    (corpus_copy / "ping.txt").symlink_to("pong.txt")  # a file loop
    (corpus_copy / "pong.txt").symlink_to("ping.txt")
    report = pipeline.build(settings_for(corpus_copy))
    # Each real file is indexed once, not once per way of reaching it.
    assert report.files == 5
    assert sorted(report.skipped) == ["ping.txt", "pong.txt"]


def test_unreadable_entries_are_skipped_with_one_warning_each(corpus_copy: Path, tmp_path: Path) -> None:
    # Tests run as root, where file permissions stop nothing; these entries cannot be read by anyone:
    # a link to nowhere, and a FIFO with no writer (reading it would block for ever).
    (corpus_copy / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(corpus_copy / "fifo.txt")
    result = run_aiqa("index", "--corpus", str(corpus_copy), "--index", str(tmp_path / "index"), timeout=60)
    warnings = _warnings(assert_succeeded(result))
    assert any("dangling.txt: cannot read it" in w for w in warnings)
    assert any("fifo.txt: cannot read it (not a regular file)" in w for w in warnings)
    assert b"5 (5 added" in result.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file without read permission")
def test_a_file_without_read_permission(corpus_copy: Path, settings_for) -> None:
    secret = corpus_copy / "secret.txt"
    secret.write_text("机密。", encoding="utf-8")
    secret.chmod(0)
    report = pipeline.build(settings_for(corpus_copy))
    assert report.skipped == ["secret.txt"] and report.files == 5


def test_files_that_change_or_disappear_during_the_build(corpus_copy: Path, settings_for) -> None:
    names = sorted(p.name for p in corpus_copy.glob("*.txt"))

    def meddle(stage: str, done: int, total: int) -> None:
        # Called before the third file is read: the first is already indexed, the fifth is not yet.
        if stage == "read" and done == 3:
            with open(corpus_copy / names[0], "a", encoding="utf-8") as handle:
                handle.write("\n温州市新增了一段话。\n")
            (corpus_copy / names[4]).unlink()

    settings = settings_for(corpus_copy)
    report = pipeline.build(settings, progress=meddle)
    assert report.skipped == [names[4]] and report.files == 4
    index = load_index(settings.index)  # consistent: what was read is what was indexed
    texts = corpus_texts(corpus_copy)
    assert all(chunk.text == texts[chunk.doc][chunk.start : chunk.end] for chunk in index.chunks[:50])
    assert corpus_changes(corpus_copy, index.manifest).changed == [names[0]]
    again = pipeline.build(settings)
    assert again.changed == [names[0]] and len(again.unchanged) == 3


def test_a_file_name_that_is_not_utf8(corpus_copy: Path, tmp_path: Path) -> None:
    bad = os.fsencode(corpus_copy) + b"/\xff\xfe\xb0\xa1.txt"  # GBK bytes, as Windows archives leave them
    with open(bad, "wb") as handle:
        handle.write("温州市人工智能局成立。".encode())
    index = str(tmp_path / "index")
    warnings = _warnings(assert_succeeded(run_aiqa("index", "--corpus", str(corpus_copy), "--index", index)))
    assert warnings == [r"warning: skipped \xff\xfe\xb0\xa1.txt: its file name is not valid UTF-8; rename it"]
    result = run_aiqa("ask", "--json", QUESTION, "--corpus", str(corpus_copy), "--index", index)
    assert_succeeded(result)
    assert json.loads(result.stdout)["answerable"]


def test_a_txt_that_is_really_a_pdf_or_a_zip(corpus_copy: Path, settings_for) -> None:
    (corpus_copy / "report.txt").write_bytes(
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("inside.txt", "温州市人工智能局" * 100)
    (corpus_copy / "archive.txt").write_bytes(archive.getvalue())
    report = pipeline.build(settings_for(corpus_copy))
    assert sorted(report.skipped) == ["archive.txt", "report.txt"] and report.files == 5
