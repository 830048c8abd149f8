"""What every hostile-input test checks: one clear sentence and no traceback, or an exact answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aiqa.models import Answer

REPO = Path(__file__).resolve().parent.parent
REAL_CORPUS = REPO / "corpus"
QUESTION = "温州市人工智能局是什么时候成立的？"


def child_env() -> dict[str, str]:
    """The environment of a real `aiqa` process: the offline embedder, this checkout's sources."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIQA_")}
    env.update(PYTHONPATH=str(REPO / "src"), AIQA_EMBEDDER="offline", HF_HUB_OFFLINE="1", COLUMNS="200")
    return env


def aiqa_argv(*args: str | bytes) -> list[str | bytes]:
    return [sys.executable, "-m", "aiqa", *args]


def run_aiqa(
    *args: str | bytes, timeout: float = 120, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**child_env(), **(env_extra or {})}
    return subprocess.run(aiqa_argv(*args), env=env, capture_output=True, timeout=timeout, check=False)


def invoke(*args: str) -> subprocess.CompletedProcess[bytes]:
    """The CLI run in this process (faster than run_aiqa); an exception that escaped it is raised."""
    from typer.testing import CliRunner

    from aiqa.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout_bytes, result.stderr_bytes)


def assert_clear_failure(result: subprocess.CompletedProcess[bytes], *needles: str) -> str:
    """The command failed with one line on stderr that names the problem; returns that line."""
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode != 0, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("embedder:")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], stderr
    return lines[0]


def assert_succeeded(result: subprocess.CompletedProcess[bytes]) -> str:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, stderr
    assert "Traceback" not in stderr
    return stderr


def corpus_texts(corpus: Path) -> dict[str, str]:
    from aiqa.loading import load_corpus

    return {doc.doc: doc.text for doc in load_corpus(corpus)}


def assert_exact(answer: Answer, texts: dict[str, str]) -> None:
    """Every passage shown is verbatim file text at its offsets, and the answer encodes as JSON."""
    for passage in [*answer.citations, *answer.retrieved]:
        assert passage.text == texts[passage.doc][passage.start : passage.end]
    json.dumps(answer.to_json_dict(), ensure_ascii=False).encode("utf-8")


def index_fingerprint(index: Path) -> dict[str, bytes]:
    return {p.relative_to(index).as_posix(): p.read_bytes() for p in sorted(index.rglob("*")) if p.is_file()}
