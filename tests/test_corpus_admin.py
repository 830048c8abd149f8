"""Corpus listing and upload checks, on a copy of the real corpus."""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from pathlib import Path

import pytest

from aiqa.corpus_admin import MAX_UPLOAD_BYTES, UploadOutcome, add_uploads, corpus_listing
from aiqa.pipeline import build
from aiqa.store import read_manifest


def _upload(tmp_path: Path, name: str, raw: bytes) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(raw)
    return path


def test_listing_shows_chunk_counts_and_how_each_file_stands(corpus_copy, settings_for, tmp_path):
    settings = settings_for(corpus_copy)
    report = build(settings)
    manifest = read_manifest(settings.index)
    listing = corpus_listing(corpus_copy, manifest)
    assert [f.name for f in listing] == sorted(p.name for p in corpus_copy.iterdir())
    assert {f.status for f in listing} == {"indexed"}
    assert sum(f.chunks for f in listing) == report.chunks
    assert all(f.title for f in listing)

    first, second = sorted(corpus_copy.iterdir())[:2]
    first.write_text(first.read_text(encoding="utf-8") + "\n新增一句。", encoding="utf-8")
    second.unlink()
    (corpus_copy / "new.md").write_text("# 新文件\n内容。", encoding="utf-8")
    status = {f.name: f.status for f in corpus_listing(corpus_copy, manifest)}
    assert status[first.name] == "changed"
    assert status[second.name] == "removed"
    assert status["new.md"] == "new"
    assert list(status.values()).count("indexed") == 3


def test_a_good_upload_is_added_byte_for_byte(corpus_copy, tmp_path):
    raw = "青田县人工智能实验室于2024年3月15日正式挂牌成立。".encode("gb18030")
    [outcome] = add_uploads(corpus_copy, [_upload(tmp_path, "qingtian.txt", raw)])
    assert outcome.added and "added" in outcome.message
    assert (corpus_copy / "qingtian.txt").read_bytes() == raw
    assert not [p for p in corpus_copy.iterdir() if p.name.startswith(".")], "no temporary file left behind"


@pytest.mark.parametrize(
    ("name", "raw", "why"),
    [
        ("report.pdf", b"%PDF-1.4 ...", "only .txt and .md"),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not readable text"),
        ("latin.txt", bytes(range(128, 256)) * 4, "not readable text"),
        ("blank.md", b" \n\t\n", "empty"),
        (".hidden.txt", "文字".encode(), "only .txt and .md"),
        ("huge.txt", b"a" * (MAX_UPLOAD_BYTES + 1), "the limit is 5 MB"),
    ],
)
def test_each_rejected_upload_says_why_and_adds_nothing(corpus_copy, tmp_path, name, raw, why):
    before = sorted(p.name for p in corpus_copy.iterdir())
    [outcome] = add_uploads(corpus_copy, [_upload(tmp_path, name, raw)])
    assert not outcome.added
    assert outcome.message.startswith(f"{name} was not added:")
    assert why in outcome.message
    assert sorted(p.name for p in corpus_copy.iterdir()) == before


def test_an_upload_never_overwrites_silently(corpus_copy, tmp_path):
    existing = sorted(corpus_copy.iterdir())[0]
    original = existing.read_bytes()

    [same] = add_uploads(corpus_copy, [_upload(tmp_path, existing.name, original)])
    assert not same.added and "same content" in same.message

    different = _upload(tmp_path, existing.name, "完全不同的内容。".encode())
    [refused] = add_uploads(corpus_copy, [different])
    assert not refused.added and "already in the corpus" in refused.message
    assert existing.read_bytes() == original

    [replaced] = add_uploads(corpus_copy, [different], replace=True)
    assert replaced.added and "replaced" in replaced.message
    assert existing.read_text(encoding="utf-8") == "完全不同的内容。"


def _add_within(corpus: Path, upload: Path, seconds: float = 10, **options) -> UploadOutcome:
    """add_uploads in a daemon thread, so that a hang fails the test instead of stalling it."""
    outcomes: list[UploadOutcome] = []
    worker = threading.Thread(
        target=lambda: outcomes.extend(add_uploads(corpus, [upload], **options)), daemon=True
    )
    worker.start()
    worker.join(seconds)
    assert outcomes, f"add_uploads did not return within {seconds} s"
    return outcomes[0]


@pytest.mark.parametrize("kind", ["fifo", "directory", "link"])
def test_an_upload_never_replaces_something_that_is_not_a_regular_file(corpus_copy, tmp_path, kind):
    target = corpus_copy / "notes.txt"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
        (target / "inside.md").write_text("# 里面\n内容。", encoding="utf-8")
    else:
        target.symlink_to(sorted(corpus_copy.glob("*.txt"))[0])
    before = os.lstat(target)
    try:
        outcome = _add_within(corpus_copy, _upload(tmp_path, "notes.txt", "新内容。".encode()), replace=True)
    finally:
        if kind == "fifo":  # release a reader the old code left blocked on the FIFO
            with contextlib.suppress(OSError):
                os.close(os.open(target, os.O_WRONLY | os.O_NONBLOCK))
    assert not outcome.added and "not a regular file" in outcome.message
    after = os.lstat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)


@pytest.mark.parametrize(
    "name",
    ["invoice\u202etxt.exe.txt", "a\u2066b.md", "line\nbreak.txt", "bell\x07.txt", "   .txt", "\u3000.md"],
)
def test_names_with_control_direction_or_only_blank_characters_are_refused(corpus_copy, tmp_path, name):
    before = sorted(p.name for p in corpus_copy.iterdir())
    [outcome] = add_uploads(corpus_copy, [_upload(tmp_path, name, "文字内容。".encode())])
    assert not outcome.added and "rename it" in outcome.message
    assert not any(c in outcome.message for c in "\u202e\u2066\n\x07")  # the name is shown escaped
    assert sorted(p.name for p in corpus_copy.iterdir()) == before


def test_uploaded_files_get_the_corpus_file_mode(corpus_copy, tmp_path):
    old_umask = os.umask(0o022)
    try:
        add_uploads(corpus_copy, [_upload(tmp_path, "new.txt", "新文件。".encode())])
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((corpus_copy / "new.txt").stat().st_mode) == 0o644
    existing = sorted(corpus_copy.glob("0*.txt"))[0]
    existing.chmod(0o640)
    [outcome] = add_uploads(corpus_copy, [_upload(tmp_path, existing.name, "替换。".encode())], replace=True)
    assert outcome.added
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640
