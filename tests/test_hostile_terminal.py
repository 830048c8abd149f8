"""Corpus text with terminal escape sequences: shown inert by the CLI, exact in --json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hostile_helpers import REAL_CORPUS, assert_succeeded, corpus_texts, invoke

# Enough plain text around the sequences that the loader takes the file for text (under 1% controls).
HOSTILE = (
    "新安市设立人工智能局。\n" * 40
    + "新安市人工智能局于\x1b]0;pwned\x07\x1b[2J2031年5月18日正式挂牌成立,\x9b31m首任局长为周明远\u202e。\n"
)
HOSTILE_NAME = "zz_\x1b[31mred.txt"
QUESTION = "新安市人工智能局什么时候挂牌？"
# What a terminal would obey: C0 controls other than line breaks and tabs, DEL, C1, bidi overrides.
OBEYED = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]] + ["\u202e"]


@pytest.fixture
def args(tmp_path: Path) -> list[str]:
    corpus = tmp_path / "corpus"
    shutil.copytree(REAL_CORPUS, corpus)
    (corpus / HOSTILE_NAME).write_text(HOSTILE, encoding="utf-8")
    return ["--corpus", str(corpus), "--index", str(tmp_path / "index")]


def test_plain_ask_prints_no_escape_sequence(args: list[str]) -> None:
    result = invoke("ask", QUESTION, *args)
    assert_succeeded(result)
    shown = result.stdout.decode("utf-8") + result.stderr.decode("utf-8")
    assert "2031年5月18日" in shown and "red.txt" in shown  # the answer and its source are there
    assert not [c for c in OBEYED if c in shown]
    assert "[2J" not in shown and "[31m" not in shown  # whole sequences go, not only their ESC


def test_json_stays_exact_and_escapes_what_a_terminal_obeys(args: list[str], tmp_path: Path) -> None:
    result = invoke("ask", "--json", QUESTION, *args)
    assert_succeeded(result)
    raw = result.stdout.decode("utf-8")
    assert not [c for c in OBEYED if c in raw]
    answer = json.loads(raw)
    # An answer may quote companion sentences from more than one passage of the file.
    cited = [c for c in answer["citations"] if c["doc"] == HOSTILE_NAME]
    texts = corpus_texts(tmp_path / "corpus")
    assert cited and all(c["text"] == texts[HOSTILE_NAME][c["start"] : c["end"]] for c in cited)
    assert any("\x1b]0;pwned\x07" in c["text"] for c in cited)
