"""The lazily loaded jieba dictionary segments exactly like jieba's own."""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jieba
import pytest

from aiqa.jiebadict import LazyTags, LazyTokenizer, _cache_path

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def plain() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shard cache (and jieba's own) in this test's directory, away from other processes."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "corpus").glob("*.txt"))]
    lines = (REPO / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    texts += [json.loads(line)["question"] for line in lines]
    return texts


def _lazy() -> LazyTokenizer:
    tokenizer = LazyTokenizer()
    tokenizer.initialize()
    return tokenizer


def test_same_words_as_jieba_from_the_cache_and_without_it(plain, private_cache: Path) -> None:
    first = _lazy()  # no cache yet: loads everything, then writes the cache
    assert _cache_path() and _cache_path().exists()
    second = _lazy()  # loads per first character
    assert len(second.FREQ) == 0
    for text in _texts():
        expected = list(plain.cut_for_search(text, HMM=False))
        assert list(first.cut_for_search(text, HMM=False)) == expected
        assert list(second.cut_for_search(text, HMM=False)) == expected
        assert list(second.cut(text)) == list(plain.cut(text))
    assert 0 < len(second.FREQ) < len(plain.FREQ)


def test_a_damaged_cache_falls_back_to_the_full_dictionary(plain, private_cache: Path) -> None:
    _lazy()
    _cache_path().write_bytes(b"\x00garbage")
    tokenizer = _lazy()
    assert len(tokenizer.FREQ) == len(plain.FREQ)
    assert _lazy().FREQ == {}  # and the cache was written again


def test_words_added_before_their_entries_are_loaded(plain, private_cache: Path) -> None:
    _lazy()
    lazy = _lazy()
    reference = jieba.Tokenizer()
    reference.initialize()
    for tokenizer in (lazy, reference):
        tokenizer.add_word("雨花台区人工智能发展局", freq=50_000)
        tokenizer.add_word("人工")  # a word the dictionary has: its frequency is recomputed
    text = "南京市雨花台区人工智能发展局揭牌成立,人工智能产业"
    assert list(lazy.cut_for_search(text, HMM=False)) == list(reference.cut_for_search(text, HMM=False))
    assert lazy.FREQ["人工"] == reference.FREQ["人工"]


def test_concurrent_first_use(plain, private_cache: Path) -> None:
    _lazy()
    lazy = _lazy()
    texts = _texts()
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda t: list(lazy.cut_for_search(t, HMM=False)), texts * 3))
    assert results == [list(plain.cut_for_search(t, HMM=False)) for t in texts * 3]


def test_tags_are_jieba_s_dictionary_tags_from_the_cache_and_without_it(plain, private_cache: Path) -> None:
    import jieba.posseg

    expected = jieba.posseg.POSTokenizer(plain).word_tag_tab
    first = LazyTags()  # no cache yet: reads the dictionary, then writes the cache
    assert _cache_path("tags") and _cache_path("tags").exists()
    second = LazyTags()
    words = {word for text in _texts() for word in plain.cut(text, HMM=False)}
    assert {w: second.get(w) for w in words} == {w: expected.get(w) for w in words}
    assert {w: first.get(w) for w in words} == {w: expected.get(w) for w in words}
    assert any(second.get(w) == "ns" for w in words) and any(second.get(w) == "v" for w in words)
