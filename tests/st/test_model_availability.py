"""How `auto` and explicit choices behave with no hub, a silent hub, a hub without the model, and a
cache that has it: each case runs the real CLI in a fresh process with a temporary HF_HOME.

Builds that fall back to the bundled e5 index a one-file corpus, so that embedding stays quick."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiqa.e5_embedder import NAME as E5_NAME

QUESTION = "温州市人工智能局是什么时候成立的？"


@pytest.fixture
def small_corpus(tmp_path: Path) -> str:
    corpus = tmp_path / "small-corpus"
    corpus.mkdir()
    (corpus / "wenzhou.txt").write_text(
        "温州设立人工智能局\n\n去年9月,温州市人工智能局成立,在温州市数据局基础上加挂人工智能局牌子,"
        "这也是全国首个专门的“人工智能局”。\n",
        encoding="utf-8",
    )
    return str(corpus)


def test_auto_uses_the_bundled_e5_without_asking_the_hub_and_asking_reads_the_manifest(
    run_aiqa, silent_hub, small_corpus: str
) -> None:
    endpoint, accepted = silent_hub
    indexed = run_aiqa("index", AIQA_CORPUS=small_corpus, HF_ENDPOINT=endpoint)  # auto is the default
    assert indexed.returncode == 0, indexed.stderr
    assert indexed.stderr.strip() == f"embedder: {E5_NAME}"  # no warning, no advice

    asked = run_aiqa("ask", "--json", QUESTION, AIQA_CORPUS=small_corpus, HF_ENDPOINT=endpoint)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["embedder"] == E5_NAME
    assert answer["answerable"] and "9月" in answer["answer"]
    assert accepted == []  # neither the build nor the question asked the hub


@pytest.fixture
def silent_hub() -> Iterator[tuple[str, list[socket.socket]]]:
    """A loopback server that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def test_auto_gives_a_silent_hub_one_try_for_a_named_model_and_does_not_wait_for_it(
    run_aiqa, silent_hub, small_corpus: str
) -> None:
    endpoint, accepted = silent_hub
    indexed = run_aiqa(
        "index",
        AIQA_CORPUS=small_corpus,
        AIQA_EMBED_MODEL="aiqa-test/no-such-model",
        AIQA_HUB_TIMEOUT="0.5",
        HF_ENDPOINT=endpoint,
    )

    assert indexed.returncode == 0, indexed.stderr
    assert (
        "warning: aiqa-test/no-such-model is not cached and the model hub is unreachable; "
        f"using {E5_NAME} instead." in indexed.stderr
    )
    assert len(accepted) == 1  # one probe, no retry loop; the hub never answered and aiqa went on


def test_an_explicit_sentence_transformers_choice_fails_fast_with_one_sentence_when_the_hub_is_unreachable(
    run_aiqa,
) -> None:
    asked = run_aiqa("ask", QUESTION, AIQA_EMBEDDER="sentence-transformers")

    assert asked.returncode == 1
    assert asked.stderr.strip() == (
        "error: The embedding model cannot be loaded: BAAI/bge-m3 is not cached and the model hub is "
        "unreachable; set AIQA_EMBED_MODEL to a local model directory, or AIQA_EMBEDDER=offline."
    )
    assert asked.stdout == ""


class _NotFound(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_hub_that_does_not_have_the_model_is_named_in_the_reason(run_aiqa, small_corpus: str) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        indexed = run_aiqa(
            "index",
            AIQA_CORPUS=small_corpus,
            AIQA_EMBED_MODEL="aiqa-test/no-such-model",
            HF_ENDPOINT=f"http://127.0.0.1:{server.server_address[1]}",
        )
    finally:
        server.shutdown()
        server.server_close()
    assert indexed.returncode == 0, indexed.stderr
    assert (
        "aiqa-test/no-such-model is not cached and the model hub does not serve it (HTTP 404); "
        f"using {E5_NAME} instead." in indexed.stderr
    )


def test_auto_uses_a_model_from_the_local_cache_without_the_hub(
    run_aiqa, tiny_models, tmp_path: Path
) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf-home" / "hub" / "models--aiqa-test--tiny-embedder"
    shutil.copytree(tiny_models.embedder, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")

    asked = run_aiqa("ask", QUESTION, AIQA_EMBED_MODEL="aiqa-test/tiny-embedder")

    assert asked.returncode == 0, asked.stderr
    assert "embedder: aiqa-test/tiny-embedder (sentence-transformers)" in asked.stderr
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["embedder"]["id"] == "sentence-transformers:aiqa-test/tiny-embedder"
    assert manifest["embedder"]["kind"] == "sentence-transformers"
    assert manifest["embedder"]["dimension"] == 32
