"""Corpus listing and upload checks, on a copy of the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiqa.corpus_admin import MAX_UPLOAD_BYTES, add_uploads, corpus_listing
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
