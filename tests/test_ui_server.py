"""The UI's HTTP server without a browser: what Gradio itself accepts and refuses."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aiqa.corpus_admin import MAX_UPLOAD_BYTES
from aiqa.settings import Settings
from aiqa.ui import build_app, launch

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("ui-server")
    shutil.copytree(REPO / "corpus", root / "corpus")
    settings = Settings(
        corpus=root / "corpus", index=root / "index", embedder="offline", host="127.0.0.1", port=_free_port()
    )
    app = build_app(settings)
    launch(app, settings, prevent_thread_lock=True)
    try:
        yield f"http://127.0.0.1:{settings.port}/"
    finally:
        app.close()


def test_gradio_refuses_an_oversized_upload_itself(url: str) -> None:
    too_big = b"a" * (MAX_UPLOAD_BYTES + 1)
    response = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.txt", too_big)}, timeout=60)
    assert response.status_code == 413, response.text
    small = httpx.post(f"{url}gradio_api/upload", files={"files": ("ok.txt", "文字".encode())}, timeout=60)
    assert small.status_code == 200, small.text
