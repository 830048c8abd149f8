"""End to end: the chat UI served on a free loopback port, driven by a real headless Chromium.

Screenshots of every step go to test-artifacts/ (ignored by git; CI keeps them as artifacts).
"""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from aiqa.settings import Settings
from aiqa.ui import build_app, launch

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ANSWER_TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, url: str, corpus: Path) -> None:
        self.url = url
        self.corpus = corpus


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("ui")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    settings = Settings(
        corpus=corpus, index=root / "index", embedder="offline", host="127.0.0.1", port=_free_port()
    )
    app = build_app(settings)
    launch(app, settings, prevent_thread_lock=True)
    try:
        yield Server(f"http://127.0.0.1:{settings.port}/", corpus)
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; `bash scripts/bootstrap --dev` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    off_site: list[str] = []

    def only_loopback(route) -> None:
        # The UI must work with no network: any request elsewhere is refused and recorded.
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            off_site.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.goto(server.url)
    expect(page.locator("#aiqa-status")).to_contain_text("documents")
    yield page
    context.close()
    assert not off_site, f"the page tried to reach the network: {off_site}"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _ask(page: Page, question: str) -> None:
    page.locator("#aiqa-question textarea").fill(question)
    page.locator("#aiqa-ask").click()


def _last_answer(page: Page):
    return page.locator("#aiqa-chat .bot").last


def test_an_answer_links_to_its_highlighted_passage(page: Page, server: Server) -> None:
    _shot(page, "01-start")
    _ask(page, "温州市人工智能局是什么时候成立的？")
    source = page.locator("#aiqa-sources #aiqa-src-1")
    expect(source).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    answer = _last_answer(page)
    expect(answer).to_contain_text("[1]")
    expect(answer).to_contain_text("9月")
    expect(answer.locator("a.aiqa-cite[href='#aiqa-src-1']")).to_be_visible()
    expect(source.locator("mark")).to_contain_text("9月")
    expect(source.locator("mark")).to_contain_text("人工智能局成立")
    # The card shows exactly file_text[start:end] of the file and offsets it names.
    meta = re.fullmatch(
        r"(\S+) · chars (\d+)–(\d+) · score [\d.]+", source.locator(".aiqa-meta").inner_text()
    )
    assert meta, source.locator(".aiqa-meta").inner_text()
    document = (server.corpus / meta.group(1)).read_text(encoding="utf-8")
    assert source.locator(".aiqa-text").text_content() == document[int(meta.group(2)) : int(meta.group(3))]
    _shot(page, "02-answer")

    answer.locator("a.aiqa-cite").click()
    expect(page).to_have_url(re.compile(r"#aiqa-src-1$"))
    expect(source).to_be_in_viewport()

    page.locator("#aiqa-sources details summary").click()
    expect(page.locator("#aiqa-sources details .aiqa-card").first).to_be_visible()
    _shot(page, "03-retrieved-not-cited")


def test_an_off_topic_question_is_refused(page: Page) -> None:
    _ask(page, "今天北京的天气怎么样？")
    refusal = page.locator("#aiqa-chat .aiqa-refusal")
    expect(refusal).to_contain_text("语料中没有找到这个问题的答案", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#aiqa-sources")).to_contain_text("nothing is cited")
    expect(page.locator("#aiqa-sources .aiqa-n")).to_have_count(0)
    _shot(page, "04-refusal")


def test_an_example_click_asks_it(page: Page) -> None:
    page.get_by_role("button", name="廣州市海珠區人工智能發展局局長是誰？").click()
    expect(_last_answer(page)).to_contain_text("[1]", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#aiqa-sources #aiqa-src-1")).to_be_visible()
    _shot(page, "05-example-traditional")


def test_a_rebuild_picks_up_a_changed_corpus(page: Page, server: Server) -> None:
    (server.corpus / "extra.md").write_text("# 附加说明\n这是一份测试时加入的说明文件。", encoding="utf-8")
    page.reload()
    status = page.locator("#aiqa-status")
    expect(status).to_contain_text("Corpus changed since the index was built (1 added)")
    page.get_by_role("tab", name="Index").click()
    expect(page.locator("#aiqa-files")).to_contain_text("extra.md")
    _shot(page, "06-index-tab-changed")
    page.locator("#aiqa-rebuild").click()
    report = page.locator("#aiqa-report")
    expect(report).to_contain_text("Index rebuilt", timeout=ANSWER_TIMEOUT_MS)
    expect(report).to_contain_text("1 added")
    expect(report).to_contain_text("Added: extra.md")
    expect(status).to_contain_text("Index up to date")
    expect(status).to_contain_text("6 documents")
    _shot(page, "07-rebuilt")


def test_an_uploaded_file_can_be_asked_about(page: Page, server: Server, tmp_path: Path) -> None:
    good = tmp_path / "qingtian.txt"
    # Corpus text is shown as text: markup in a file must never become markup on the page.
    good.write_text(
        "青田县人工智能实验室于2024年3月15日正式挂牌成立。<img src=x onerror=alert(1)>", encoding="utf-8"
    )
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))

    page.get_by_role("tab", name="Index").click()
    page.locator("#aiqa-upload input[type=file]").set_input_files([str(good), str(binary)])
    expect(page.locator("#aiqa-upload").get_by_role("row", name=re.compile("photo.txt"))).to_be_visible()
    page.locator("#aiqa-add").click()
    report = page.locator("#aiqa-report")
    expect(report).to_contain_text("Index rebuilt", timeout=ANSWER_TIMEOUT_MS)
    expect(report.locator(".good")).to_contain_text("qingtian.txt: added to the corpus")
    expect(report.locator(".bad")).to_contain_text("photo.txt was not added: it is not readable text")
    _shot(page, "08-uploaded")
    assert (server.corpus / "qingtian.txt").exists() and not (server.corpus / "photo.txt").exists()

    page.get_by_role("tab", name="Chat").click()
    _ask(page, "青田县人工智能实验室是什么时候挂牌成立的？")
    source = page.locator("#aiqa-sources #aiqa-src-1")
    expect(source).to_contain_text("qingtian.txt", timeout=ANSWER_TIMEOUT_MS)
    expect(_last_answer(page)).to_contain_text("2024年3月15日")
    expect(source).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator("#aiqa-sources img, #aiqa-chat .bot img")).to_have_count(0)
    _shot(page, "09-answer-from-upload")


def test_eight_askers_through_the_queue_are_all_answered_during_a_rebuild(server: Server) -> None:
    from gradio_client import Client

    (server.corpus / "later.md").write_text("# 后来加入\n一份在提问期间加入的文件。", encoding="utf-8")

    def ask(_: int) -> str:
        client = Client(server.url, verbose=False)
        history, _sources, _question = client.predict(
            "温州市人工智能局是什么时候成立的？", [], 5, "extractive", api_name="/ask"
        )
        return str(history[-1]["content"])

    with ThreadPoolExecutor(9) as pool:
        rebuild = pool.submit(lambda: Client(server.url, verbose=False).predict(api_name="/rebuild"))
        answers = list(pool.map(ask, range(8)))
        report = rebuild.result(ANSWER_TIMEOUT_MS / 1000)[0]
    assert all("9月" in answer and 'href="#aiqa-src-1"' in answer for answer in answers)
    assert "Index rebuilt" in report and "later.md" in report


def test_a_failed_rebuild_says_why_and_answers_go_on(page: Page, server: Server, tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    shutil.move(server.corpus, kept)
    server.corpus.mkdir()
    try:
        page.get_by_role("tab", name="Index").click()
        page.locator("#aiqa-rebuild").click()
        report = page.locator("#aiqa-report")
        expect(report.locator(".bad")).to_contain_text(
            "The rebuild failed and the previous index is still in use: The corpus directory",
            timeout=ANSWER_TIMEOUT_MS,
        )
        _shot(page, "10-rebuild-failed")
        page.get_by_role("tab", name="Chat").click()
        _ask(page, "温州市人工智能局是什么时候成立的？")
        expect(page.locator("#aiqa-sources #aiqa-src-1 mark")).to_contain_text(
            "人工智能局成立", timeout=ANSWER_TIMEOUT_MS
        )
    finally:
        server.corpus.rmdir()
        shutil.move(kept, server.corpus)
