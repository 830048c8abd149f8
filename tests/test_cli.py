"""The command-line contract, run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aiqa.evaluation import METRIC_NAMES

from conftest import DEV_QUESTIONS


def aiqa(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AIQA_")}
    environment.update({"AIQA_EMBEDDER": "offline", "COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "aiqa", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ask_json_builds_the_missing_index_and_prints_one_object(corpus_copy: Path, tmp_path: Path) -> None:
    result = aiqa("ask", "--json", "温州市人工智能局是什么时候成立的？", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON document
    assert result.stdout.count("\n") == 1
    assert data["answerable"] and "2025年9月" in data["answer"]
    for cited in data["citations"]:
        text = (corpus_copy / cited["doc"]).read_text(encoding="utf-8")
        assert text[cited["start"] : cited["end"]] == cited["text"]
    assert any("2025年9月" in cited["text"] for cited in data["citations"])
    assert (tmp_path / "index" / "manifest.json").exists()


def test_index_reports_what_it_did_and_skips_unchanged_files(corpus_copy: Path, tmp_path: Path) -> None:
    first = aiqa("index", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "5 added" in first.stdout and "embedder" in first.stdout
    second = aiqa("index", cwd=tmp_path)
    assert "0 added, 0 changed, 0 removed, 5 unchanged" in second.stdout
    assert "(0 embedded)" in second.stdout
    rebuilt = aiqa("index", "--rebuild", cwd=tmp_path)
    assert "5 added" in rebuilt.stdout


def test_plain_ask_prints_the_answer_then_the_cited_passages(corpus_copy: Path, tmp_path: Path) -> None:
    result = aiqa("ask", "廣州市海珠區人工智能發展局局長是誰？", "--corpus", str(corpus_copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "余丽慧" in lines[0] and lines[0].endswith("[1]")
    assert any(
        line.startswith("[1] ") and "000_62e2ab11a4fd570b.txt" in line and "chars" in line for line in lines
    )
    assert "embedder: hashing embedder" in result.stderr  # which embedder answered


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "The question is empty"),
        (["ask", ""], "The question is empty"),
        (["ask", "问" * 2001], "keep it under 2,000 characters"),
        (["ask", "问题", "--corpus", "no-such-dir"], "Corpus directory no-such-dir does not exist"),
        (["index", "--corpus", "empty"], "has no readable .txt or .md files"),
        (["eval", "no-such-file.jsonl"], "Cannot read the question file"),
        (["eval", str(DEV_QUESTIONS), "--out", "no-such-dir/results.jsonl"], "Cannot write results to"),
    ],
)
def test_user_mistakes_get_one_sentence_and_a_non_zero_exit(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    result = aiqa(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0]


def test_flags_override_environment_settings(corpus_copy: Path, tmp_path: Path) -> None:
    bad = aiqa("ask", "问题", cwd=tmp_path, env={"AIQA_K": "0"})
    assert bad.returncode != 0 and "Setting k is invalid" in bad.stderr
    good = aiqa("ask", "--json", "--k", "2", "温州有多少家制造业主体？", cwd=tmp_path, env={"AIQA_K": "0"})
    assert good.returncode == 0, good.stderr
    moved = aiqa(
        "ask",
        "--json",
        "问题",
        cwd=tmp_path,
        env={"AIQA_CORPUS": str(tmp_path / "missing"), "AIQA_INDEX": str(tmp_path / "other-index")},
    )
    assert "missing does not exist" in moved.stderr


def test_eval_prints_metrics_per_language_and_writes_rows(corpus_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    result = aiqa("eval", str(DEV_QUESTIONS), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert {"recall@1", "MRR@10", "answer hit", "false refusal", "latency p95 ms"} <= set(METRIC_NAMES)
    for label in (*METRIC_NAMES, "zh-Hans", "zh-Hant", "en"):
        assert label in result.stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 36 and rows[0]["id"] == "dev-001" and "citations" in rows[0]


def test_ask_history_rewrites_a_follow_up_and_json_keeps_chinese(corpus_copy: Path, tmp_path: Path) -> None:
    result = aiqa(
        "ask",
        "--json",
        "--history",
        "广州市海珠区人工智能发展局的工作重点是什么？",
        "那它是什么时候成立的？",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["rewritten"] == "广州市海珠区人工智能发展局是什么时候成立的？"
    assert "2025年12月" in data["answer"] and "\\u" not in result.stdout


def test_version_and_flags_in_help(tmp_path: Path) -> None:
    from aiqa import __version__

    assert aiqa("--version", cwd=tmp_path).stdout.strip() == f"aiqa {__version__}"
    for command, flag in (("ask", "--json"), ("index", "--rebuild"), ("serve", "--share / --no-share")):
        shown = aiqa(command, "--help", cwd=tmp_path).stdout
        assert f"  {flag}  " in shown and "bool" not in shown, shown
