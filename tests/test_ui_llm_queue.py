"""The UI's LLM answers have their own concurrency slots: extractive answers never wait for them.

Served on a free loopback port and driven through Gradio's own client (no browser), with an LLM
that drips its reply a chunk at a time until its deadline.
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiqa.settings import Settings
from aiqa.ui import LLM_CONCURRENCY, build_app, launch
from openai_peer import ChatServer, Reply

QUESTION = "温州市人工智能局是什么时候成立的？"
CORPUS = (
    "温州、南京为何接连给人工智能“设局”?\n"
    "这并非温州首次为新兴产业“设局”。去年9月,温州市人工智能局成立,在温州市数据局基础上加挂人工智能局牌子,"
    "这也是全国首个专门的“人工智能局”。\n"
)
LLM_TIMEOUT = 8.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_extractive_answers_do_not_queue_behind_slow_llm_answers(tmp_path: Path) -> None:
    from gradio_client import Client

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "wenzhou.txt").write_text(CORPUS, encoding="utf-8")
    peer = ChatServer().start()
    peer.script.append(Reply("温州市人工智能局", pieces=8, drip=0.3, endless=True))
    settings = Settings(
        corpus=tmp_path / "corpus",
        index=tmp_path / "index",
        embedder="offline",
        port=_free_port(),
        llm_base_url=peer.base_url,
        llm_model="scripted",
        llm_timeout=LLM_TIMEOUT,
    )
    app = build_app(settings)
    launch(app, settings, prevent_thread_lock=True)
    url = f"http://127.0.0.1:{settings.port}/"
    try:

        def ask(endpoint: str, answerer: str) -> tuple[str, float]:
            started = time.monotonic()
            # Inputs: question, the browser's record (none: a new conversation), k, answerer;
            # the first output is the conversation as rendered.
            outputs = Client(url, verbose=False).predict(QUESTION, None, 5, answerer, api_name=endpoint)
            return str(outputs[0]), time.monotonic() - started

        with ThreadPoolExecutor(2 * LLM_CONCURRENCY + 1) as pool:
            slow = [pool.submit(ask, "/ask_llm", "llm") for _ in range(2 * LLM_CONCURRENCY)]
            while len(peer.requests) < LLM_CONCURRENCY:  # the LLM slots are taken
                time.sleep(0.1)
            answer, seconds = pool.submit(ask, "/ask", "extractive").result(LLM_TIMEOUT * 4)
            assert "9月" in answer
            assert seconds < LLM_TIMEOUT / 2
            assert len(peer.requests) == LLM_CONCURRENCY  # the other LLM asks wait for a slot
            # The LLM answers each end at their deadline, in turns of LLM_CONCURRENCY, with the fallback.
            for future in slow:
                llm_answer, _ = future.result(LLM_TIMEOUT * 4)
                assert "9月" in llm_answer
        assert len(peer.requests) == 2 * LLM_CONCURRENCY
    finally:
        app.close()
        peer.stop()
