"""Decoding, titles and cleaning, on corpora the tests write and on the real corpus."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from aiqa.chinese import clean, detect_language, normalize, split_sentences, tokenize
from aiqa.errors import CorpusError
from aiqa.loading import load_corpus, title_of

from conftest import REAL_CORPUS

TEXT = "温州市人工智能局成立于2025年9月。它是全国首个专门的人工智能局！"


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_every_supported_encoding_decodes_to_the_same_text(tmp_path: Path) -> None:
    write(tmp_path, "utf8.txt", TEXT.encode("utf-8"))
    write(tmp_path, "bom.txt", codecs.BOM_UTF8 + TEXT.encode("utf-8"))
    write(tmp_path, "utf16.txt", TEXT.encode("utf-16"))
    write(tmp_path, "utf16be.md", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"))
    write(tmp_path, "gbk.txt", TEXT.encode("gbk"))
    write(tmp_path, "nested/deeper/gb18030.md", TEXT.encode("gb18030"))
    documents = {doc.doc: doc.text for doc in load_corpus(tmp_path)}
    assert documents == {
        name: TEXT
        for name in ("bom.txt", "gbk.txt", "nested/deeper/gb18030.md", "utf16.txt", "utf16be.md", "utf8.txt")
    }


def test_binary_empty_and_foreign_files_are_skipped_with_one_warning_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "good.txt", TEXT.encode())
    write(tmp_path, "empty.txt", b"")
    write(tmp_path, "blank.md", b"  \n\n\t")
    write(tmp_path, "report.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    write(tmp_path, "noise.txt", bytes(range(256)) * 20)
    write(tmp_path, "image.png", b"\x89PNG\r\n")  # not a corpus suffix: not even looked at
    with caplog.at_level("WARNING"):
        documents = load_corpus(tmp_path)
    assert [doc.doc for doc in documents] == ["good.txt"]
    skipped = sorted(record.getMessage().split(":")[0] for record in caplog.records)
    assert skipped == ["skipped blank.md", "skipped empty.txt", "skipped noise.txt", "skipped report.txt"]


def test_missing_corpus_directory_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("\n\n# 因地制宜推动数据产业\n正文。", "因地制宜推动数据产业"),
        ("![]()\n原标题:《温州为何设局》\n正文。", "温州为何设局"),
        ("![]()\n![]()\n\n  第一行是标题  \n第二行。", "第一行是标题"),
        ("开头的一段话。\n\n### 小节标题\n正文。", "开头的一段话。"),
    ],
)
def test_titles(text: str, title: str) -> None:
    assert title_of(text, fallback="file") == title


def test_real_corpus_titles() -> None:
    titles = {doc.doc: doc.title for doc in load_corpus(REAL_CORPUS)}
    assert titles["003_d2ef5cc44fbb30db.txt"] == "因地制宜推动我区数据产业集群化发展的思考建议"
    assert titles["001_4860eeb1fce788d0.txt"] == "温州、南京为何接连给人工智能“设局”?"


def test_cleaning_drops_noise_but_keeps_prose() -> None:
    raw = "![]()\n核心抓手<sup>3</sup>方面。\n京公网安备 11011402013531号數據顯示,長三角。Notice: The content above is posted.同时"
    cleaned = clean(raw)
    assert cleaned == "\n核心抓手方面。\n數據顯示,長三角。同时"


def test_footnote_block_that_cuts_a_sentence_in_half_is_joined() -> None:
    text = (REAL_CORPUS / "003_d2ef5cc44fbb30db.txt").read_text(encoding="utf-8")
    sentences = split_sentences(text)
    joined = [s for s in sentences if "以试验区为抓手" in s.clean]
    assert len(joined) == 1
    sentence = joined[0]
    assert "在北京、浙江、山东等10个省份布局国家数据要素综合试验区，以试验区为抓手" in sentence.clean
    # The verbatim span still holds the footnote block between the halves.
    assert "<sup>1</sup> 来源" in text[sentence.start : sentence.end]


def test_sentence_splitting_handles_both_scripts_and_widths() -> None:
    text = "第一句。第二句！「第三句？」第四句;第五句…\n第六句!第七句?"
    assert [s.clean for s in split_sentences(text)] == [
        "第一句。",
        "第二句！",
        "「第三句？」",
        "第四句;",
        "第五句…",
        "第六句!",
        "第七句?",
    ]


def test_traditional_and_full_width_normalize_to_the_same_form() -> None:
    assert (
        normalize("溫州市人工智能局ＡＩ２０２５年")
        == normalize("温州市人工智能局AI2025年")
        == "温州市人工智能局ai2025年"
    )
    assert tokenize(normalize("雨花臺區人工智能發展局")) == tokenize(normalize("雨花台区人工智能发展局"))


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("温州市人工智能局是什么时候成立的？", "zh-Hans"),
        ("廣州市海珠區人工智能發展局局長是誰？", "zh-Hant"),
        ("When did the 数安港 open?", "en"),
        # English grammar around a long Chinese name; a Chinese question around an English title.
        ("Who is the head of 泸州江阳数据科技(四川)有限公司?", "en"),
        ("《How It Was Done In The Old Days》是哪个乐队的专辑？", "zh-Hans"),
        ("OpenAI的CEO是谁？", "zh-Hans"),
        ("The Art of War的作者是谁？", "zh-Hans"),
    ],
)
def test_question_language(question: str, language: str) -> None:
    assert detect_language(question) == language


def test_a_footnote_source_inside_a_line_loses_only_its_marker() -> None:
    text = "正文第一句<sup>1</sup>。<sup>1</sup> 来源：某报告。正文第二句仍然要被索引。"
    assert clean(text) == "正文第一句。 来源：某报告。正文第二句仍然要被索引。"
