"""The UI's HTTP server without a browser: what Gradio itself accepts and refuses."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio.utils import get_upload_folder

from aiqa.corpus_admin import MAX_UPLOAD_BYTES
from aiqa.settings import Settings
from aiqa.ui import READ_ONLY_REFUSAL, build_app, launch
from hostile_helpers import index_fingerprint

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
    [landed] = small.json()
    assert Path(landed).read_bytes() == "文字".encode()  # a writable server still takes uploads


def _serve(root: Path, **options: object) -> tuple[Any, str]:
    shutil.copytree(REPO / "corpus", root / "corpus")
    settings = Settings(
        corpus=root / "corpus",
        index=root / "index",
        embedder="offline",
        host="127.0.0.1",
        port=_free_port(),
        **options,
    )
    app = build_app(settings)
    launch(app, settings, prevent_thread_lock=True)
    return app, f"http://127.0.0.1:{settings.port}/"


@pytest.fixture(scope="module")
def read_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("read-only")
    app, address = _serve(root, read_only=True)
    try:
        yield root, address
    finally:
        app.close()


def _hidden(config: dict, elem_id: str) -> bool:
    """Whether the component, or a layout block around it, is invisible."""
    visible = {c["id"]: c["props"].get("visible", True) for c in config["components"]}
    [target] = [c["id"] for c in config["components"] if c["props"].get("elem_id") == elem_id]

    def path_to(node: dict) -> list[int] | None:
        if node["id"] == target:
            return [node["id"]]
        for child in node.get("children", []):
            found = path_to(child)
            if found:
                return [node["id"], *found]
        return None

    return any(visible.get(node) is False for node in path_to(config["layout"]) or [])


def test_read_only_builds_no_uploads_and_hides_rebuilds(read_only: tuple[Path, str]) -> None:
    _, address = read_only
    config = httpx.get(f"{address}config", timeout=30).json()
    assert not [c for c in config["components"] if c["type"] in ("file", "uploadbutton")]
    assert "add_files" not in {d.get("api_name") for d in config["dependencies"]}
    assert _hidden(config, "aiqa-rebuild")
    assert not _hidden(config, "aiqa-files")  # the listing stays


def test_read_only_refuses_gradio_uploads(read_only: tuple[Path, str]) -> None:
    _, address = read_only
    uploads = Path(get_upload_folder())
    before = set(uploads.rglob("*")) if uploads.exists() else set()
    response = httpx.post(
        f"{address}gradio_api/upload", files={"files": ("fill.txt", "填满磁盘".encode())}, timeout=60
    )
    assert response.status_code == 403, response.text
    after = set(uploads.rglob("*")) if uploads.exists() else set()
    assert not {p for p in after - before if p.is_file() and p.read_bytes() == "填满磁盘".encode()}


def test_read_only_refuses_rebuilds_on_the_server(read_only: tuple[Path, str]) -> None:
    from gradio_client import Client

    root, address = read_only
    before_index = index_fingerprint(root / "index")
    before_corpus = index_fingerprint(root / "corpus")
    (root / "corpus" / "zz_new.txt").write_text("新安市人工智能局于2031年成立。", encoding="utf-8")
    client = Client(address, verbose=False)
    rebuilt = client.predict(api_name="/rebuild")
    assert READ_ONLY_REFUSAL.split(":")[0] in rebuilt[0]
    (root / "corpus" / "zz_new.txt").unlink()
    assert index_fingerprint(root / "index") == before_index
    assert index_fingerprint(root / "corpus") == before_corpus


def test_auth_requires_the_login(tmp_path_factory: pytest.TempPathFactory) -> None:
    app, address = _serve(tmp_path_factory.mktemp("auth"), auth="reader:s3cret:with-colon")
    try:
        assert httpx.get(f"{address}config", timeout=30).status_code == 401
        with httpx.Client(base_url=address, timeout=30) as session:
            wrong = session.post("login", data={"username": "reader", "password": "guess"})
            assert wrong.status_code == 400
            assert session.get("config").status_code == 401
            right = session.post("login", data={"username": "reader", "password": "s3cret:with-colon"})
            assert right.status_code == 200
            assert session.get("config").status_code == 200
    finally:
        app.close()
