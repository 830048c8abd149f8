"""The Gradio chat UI: conversations with streamed answers and their passages, and the index.

Here the library's calls (`Pipeline.ask_stream`, `LivePipeline.rebuild`, `corpus_admin`) are wired
to components; what is shown comes from `ui_render` (inert HTML), the words from `ui_text` (the
browser's language) and the conversations from `ui_conversations` (kept in the browser).
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Gradio reads this when it is imported: no usage reports or version checks from a local tool.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr
from gradio.route_utils import API_PREFIX
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .chinese import Language, detect_language
from .corpus_admin import MAX_UPLOAD_BYTES, add_uploads, corpus_listing
from .errors import AiqaError, CorpusError, IndexStateError, LLMError, ModelError, QuestionError
from .exposure import parse_auth
from .live import LivePipeline
from .models import Answer
from .pipeline import Pipeline
from .settings import Settings
from .store import STAGES
from .ui_conversations import Conversations, Turn
from .ui_render import conversation_html, conversation_markdown, header_html, report_html, status_html
from .ui_text import EXAMPLES, STRINGS, i18n, request_language, text

log = logging.getLogger(__name__)

ASK_CONCURRENCY = 8
# LLM answers wait on a remote server for up to AIQA_LLM_TIMEOUT; they have their own slots, so
# extractive answers never queue behind them. Two: a local server rarely serves more in parallel.
LLM_CONCURRENCY = 2
STATUS_REFRESH_SECONDS = 15
STORAGE_KEY = "aiqa-conversations"
READ_ONLY_REFUSAL = STRINGS["read_only"][0]
# Each draft update re-sends the whole conversation; an LLM streams dozens of chunks a second, and
# about seven updates a second read as smooth while a long conversation stays cheap to send.
DRAFT_REFRESH_SECONDS = 0.15

_ERROR_KEYS: list[tuple[type[AiqaError], str]] = [
    (QuestionError, "error_question"),
    (IndexStateError, "error_index"),
    (CorpusError, "error_index"),
    (ModelError, "error_model"),
    (LLMError, "error_llm"),
]

# System fonts only: a theme's web fonts would make every page load wait on the network.
THEME = gr.themes.Soft(
    primary_hue="indigo",
    neutral_hue="slate",
    font=[
        "system-ui",
        "PingFang SC",
        "Noto Sans CJK SC",
        "WenQuanYi Micro Hei",
        "Microsoft YaHei",
        "sans-serif",
    ],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)

# Colours come from the theme's variables, so dark mode (?__theme=dark) gets its own.
CSS = """
#aiqa-top h1 { font-size: 1.35rem; margin: 0; }
#aiqa-top > div > p, #aiqa-top p.tagline { margin: 0.15rem 0 0.4rem; color: var(--body-text-color-subdued); }
.aiqa-status { display: flex; flex-wrap: wrap; gap: 0.4rem; font-size: 0.85rem; }
.aiqa-chip { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 0.15rem 0.7rem;
  background: var(--background-fill-secondary); max-width: 100%; overflow-wrap: anywhere; }
.aiqa-chip.warn { border-color: var(--error-border-color); background: var(--error-background-fill);
  color: var(--error-text-color); }
.aiqa-chip.ok { border-color: var(--color-accent); }
.aiqa-status-details { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-top: 0.3rem; }
.aiqa-status-details p { margin: 0.2rem 0; overflow-wrap: anywhere; }
#aiqa-examples { flex-wrap: wrap; align-items: center; gap: 0.4rem; }
#aiqa-examples > * { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
#aiqa-examples button { white-space: normal; }
.aiqa-log { display: flex; flex-direction: column; gap: 1rem; }
.aiqa-turn { display: flex; flex-direction: column; gap: 0.5rem; }
.aiqa-q { align-self: flex-end; max-width: 85%; background: var(--color-accent-soft); color: var(--body-text-color);
  border-radius: 10px; padding: 0.4rem 0.75rem; }
.aiqa-who { font-size: 0.75rem; color: var(--body-text-color-subdued); display: block; }
.aiqa-q-text, .aiqa-answer { overflow-wrap: anywhere; line-height: 1.65; }
.aiqa-a { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 0.6rem 0.8rem;
  background: var(--background-fill-primary); display: flex; flex-direction: column; gap: 0.45rem; min-width: 0; }
.aiqa-draft { color: var(--body-text-color-subdued); }
a.aiqa-cite { text-decoration: none !important; }
a.aiqa-cite sup { font-size: 0.72em; font-weight: 700; color: var(--body-text-color);
  background: var(--color-accent-soft); border: 1px solid var(--color-accent); border-radius: 4px;
  padding: 0 0.25em; margin-left: 1px; }
.aiqa-refusal { border-left: 4px solid var(--color-accent); padding: 0.3rem 0.7rem;
  background: var(--background-fill-secondary); border-radius: 4px; }
.aiqa-error { border-left: 4px solid var(--error-border-color); padding: 0.3rem 0.7rem;
  background: var(--error-background-fill); color: var(--error-text-color); border-radius: 4px; }
.aiqa-rewritten, .aiqa-notices { font-size: 0.82rem; color: var(--body-text-color-subdued); margin: 0; }
.aiqa-notices li { overflow-wrap: anywhere; }
.aiqa-sources { display: flex; flex-direction: column; gap: 0.5rem; }
.aiqa-sources h4 { margin: 0.2rem 0 0; font-size: 0.9rem; }
.aiqa-empty { color: var(--body-text-color-subdued); font-size: 0.9rem; }
.aiqa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.5rem 0.7rem;
  background: var(--background-fill-secondary); scroll-margin-top: 1rem; min-width: 0; }
.aiqa-card:target { box-shadow: 0 0 0 2px var(--color-accent); }
.aiqa-card-head { display: flex; gap: 0.5rem; align-items: baseline; }
.aiqa-n { flex: none; background: var(--color-accent-soft); color: var(--body-text-color);
  border: 1px solid var(--color-accent); border-radius: 4px; padding: 0 0.4rem; font-weight: 700; font-size: 0.85rem; }
.aiqa-title { font-weight: 600; overflow-wrap: anywhere; }
.aiqa-meta { font-size: 0.78rem; color: var(--body-text-color-subdued); margin: 0.15rem 0 0.35rem;
  font-family: var(--font-mono); overflow-wrap: anywhere; }
.aiqa-text { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.6; font-size: 0.92rem; }
.aiqa-text mark { background: var(--primary-100); color: var(--body-text-color); padding: 0 1px;
  border-radius: 2px; box-shadow: inset 0 -2px 0 var(--color-accent); }
.dark .aiqa-text mark { background: var(--primary-800); }
.aiqa-sources details summary, .aiqa-a details summary { cursor: pointer; font-size: 0.85rem; }
.aiqa-uncited .aiqa-card { margin-top: 0.5rem; }
.aiqa-actions { display: flex; justify-content: flex-end; }
.aiqa-copy { font-size: 0.8rem; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: 0.1rem 0.6rem; background: var(--background-fill-secondary); color: var(--body-text-color); cursor: pointer; }
/* The conversation list sits beside the chat on wide screens and below it on a phone. */
@media (min-width: 760px) { #aiqa-side { order: -1; } }
#aiqa-main { flex-wrap: wrap; }
#aiqa-chat-column { min-width: min(100%, 320px) !important; }
/* Gradio pins the step counter to a corner of the progress area, over the bar in a narrow column. */
#aiqa-report .meta-text-center { position: static; transform: none; }
.aiqa-report ul { margin: 0.3rem 0; }
.aiqa-report .bad { color: var(--error-text-color); }
"""

# Runs once when the conversation element mounts; its content is replaced on every update, so the
# handlers listen on the element itself. A cited [n] opens the passage even if its list is folded;
# Copy puts the turn's plain text (written by the server) on the clipboard.
CONVERSATION_JS = """
element.addEventListener('click', (event) => {
  const cite = event.target.closest('a.aiqa-cite');
  if (cite) {
    const card = element.querySelector(cite.getAttribute('href'));
    if (card) card.closest('details')?.setAttribute('open', '');
    return;
  }
  const copy = event.target.closest('.aiqa-copy');
  if (!copy) return;
  const plain = copy.closest('.aiqa-turn').querySelector('.aiqa-plain').textContent;
  navigator.clipboard.writeText(plain).then(() => { copy.textContent = copy.dataset.done; });
});
"""


def build_app(settings: Settings, pipeline: Pipeline | None = None) -> gr.Blocks:
    """The whole UI over one pipeline (opened here, building the index if it is missing)."""
    live = LivePipeline(pipeline or Pipeline.open(settings))
    answerers = live.current.answerer_names
    # Read-only builds no upload components at all (so no endpoint takes a file), hides the rebuild
    # button and refuses its call below.
    writable = not settings.read_only
    words = i18n()
    exports = Path(tempfile.mkdtemp(prefix="aiqa-export-"))

    with gr.Blocks(title="aiqa", analytics_enabled=False) as app:
        store = gr.BrowserState(None, storage_key=STORAGE_KEY, secret=browser_secret(settings))
        top = gr.HTML(elem_id="aiqa-top")
        status = gr.HTML(elem_id="aiqa-status")

        with gr.Tab(words("tab_chat"), id="chat"), gr.Row(elem_id="aiqa-main"):
            with gr.Column(scale=4, elem_id="aiqa-chat-column"):
                conversation = gr.HTML(
                    elem_id="aiqa-chat", js_on_load=CONVERSATION_JS, autoscroll=True, max_height=640
                )
                with gr.Row():
                    question = gr.Textbox(
                        label=words("ask"),
                        show_label=False,
                        placeholder=words("question_placeholder"),
                        elem_id="aiqa-question",
                        scale=5,
                        max_lines=4,
                        submit_btn=False,
                    )
                    send = gr.Button(
                        words("ask"), variant="primary", scale=1, min_width=80, elem_id="aiqa-ask"
                    )
                with gr.Row(elem_id="aiqa-examples"):
                    examples = [
                        gr.Button(size="sm", variant="secondary", scale=0, elem_classes="aiqa-example")
                        for _ in range(3)
                    ]
                with gr.Accordion(words("settings"), open=False):
                    k = gr.Slider(1, max(20, settings.k), value=settings.k, step=1, label=words("k_label"))
                    answerer = gr.Dropdown(
                        answerers,
                        value=answerers[0],
                        label=words("answerer_label"),
                        visible=len(answerers) > 1,
                    )
            with gr.Column(scale=1, min_width=220, elem_id="aiqa-side"):
                start = gr.Button(words("new_conversation"), size="sm", elem_id="aiqa-new")
                picker = gr.Radio([], label=words("conversations"), elem_id="aiqa-conversations")
                export = gr.DownloadButton(str(words("export")), size="sm", elem_id="aiqa-export")
                with gr.Accordion(words("manage"), open=False, elem_id="aiqa-manage"):
                    title = gr.Textbox(label=words("rename_label"), max_lines=1, elem_id="aiqa-rename-text")
                    rename = gr.Button(words("rename"), size="sm", elem_id="aiqa-rename")
                    delete = gr.Button(words("delete"), size="sm", variant="stop", elem_id="aiqa-delete")

        with gr.Tab(words("tab_index"), id="index"):
            with gr.Row():
                with gr.Column():
                    rebuild = gr.Button(
                        words("rebuild"), variant="primary", elem_id="aiqa-rebuild", visible=writable
                    )
                    rebuild_note = gr.HTML()
                    report = gr.HTML(elem_id="aiqa-report", min_height=120)
                if writable:
                    with gr.Column():
                        uploads = gr.File(
                            label=words("upload_label"),
                            file_count="multiple",
                            file_types=[".txt", ".md"],
                            elem_id="aiqa-upload",
                        )
                        replace = gr.Checkbox(False, label=words("replace_label"))
                        add = gr.Button(words("add_files"), elem_id="aiqa-add")
            files = gr.Dataframe(
                interactive=False,
                buttons=[],
                column_widths=["24%", "10%", "8%", "58%"],
                label=words("files_label"),
                max_height=420,
                elem_id="aiqa-files",
            )

        def shown(record: Conversations, language: Language) -> tuple:
            """The outputs that follow the record: the conversation, the list, the export, the store."""
            active = record.active()
            untitled = text(language, "untitled")
            path = exports / f"aiqa-{active.id}.md"
            path.write_text(conversation_markdown(active, language), encoding="utf-8")
            return (
                conversation_html(active, language),
                gr.update(choices=record.choices(untitled), value=active.id),
                gr.update(value=str(path)),
                gr.update(value=active.title or active.name(untitled)),
                record.model_dump(mode="json"),
            )

        record_outputs = [conversation, picker, export, title, store]

        def ask(
            text_value: str, stored: Any, k_value: float, answerer_name: str, request: gr.Request
        ) -> Iterator[tuple]:
            language = request_language(request)
            if not text_value.strip():
                yield (gr.skip(),) * (len(record_outputs) + 1)
                return
            record = Conversations.load(stored)
            active = record.active()
            pending = Turn(question=text_value)
            skip_record = (gr.skip(),) * (len(record_outputs) - 1)
            yield conversation_html(active, language, pending=pending), *skip_record, ""
            draft, shown_at = "", 0.0
            try:
                answering = live.current.ask_stream(
                    text_value, k=int(k_value), answerer=answerer_name, history=active.questions
                )
                for event in answering:
                    if isinstance(event, Answer):
                        turn = Turn.from_answer(event)
                    elif (draft := draft + event) and time.monotonic() - shown_at >= DRAFT_REFRESH_SECONDS:
                        shown_at = time.monotonic()
                        yield (
                            conversation_html(active, language, pending=pending, draft=draft),
                            *skip_record,
                            "",
                        )
            except AiqaError as error:
                turn = error_turn(text_value, error, language)
            record.record(turn)
            yield *shown(record, language), ""

        def on_load(stored: Any, request: gr.Request) -> tuple:
            language = request_language(request)
            record = Conversations.load(stored)
            return (
                header_html(language),
                *status_outputs(live, language),
                *[gr.update(value=example) for example in EXAMPLES[language]],
                gr.update(choices=answerer_choices(answerers, language)),
                f'<p class="aiqa-empty">{text(language, "rebuild_note" if writable else "read_only")}</p>',
                *shown(record, language),
            )

        def change(action: Callable[..., object]) -> tuple[Callable[..., tuple], Callable[..., tuple]]:
            """Handlers that apply a Conversations method, without and with one value from a component."""

            def plain(stored: Any, request: gr.Request) -> tuple:
                record = Conversations.load(stored)
                action(record)
                return shown(record, request_language(request))

            def given(stored: Any, value: Any, request: gr.Request) -> tuple:
                record = Conversations.load(stored)
                action(record, value)
                return shown(record, request_language(request))

            return plain, given

        def refused(language: Language) -> tuple:
            return report_html([], None, text(language, "read_only"), language, failed=True), *status_outputs(
                live, language
            )

        def run_rebuild(request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008 (Gradio's idiom)
            if not writable:
                return refused(request_language(request))
            return _rebuild(live, progress, [], request_language(request))

        def run_add(
            paths: list[str] | None,
            replace_existing: bool,
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008
        ) -> tuple:
            language = request_language(request)
            if not paths:
                return report_html([], None, text(language, "choose_files"), language), gr.skip(), gr.skip()
            outcomes = add_uploads(
                live.current.settings.corpus, [Path(p) for p in paths], replace=replace_existing
            )
            lines = [
                upload_line(outcome.name, outcome.added, outcome.message, language) for outcome in outcomes
            ]
            if not any(outcome.added for outcome in outcomes):
                note = text(language, "nothing_added")
                return report_html(lines, None, note, language), *status_outputs(live, language)
            return _rebuild(live, progress, lines, language)

        def ask_in(group: str) -> Callable[..., Iterator[tuple]]:
            """`ask` for the answerers of one concurrency group; each trigger starts both groups."""

            def run(
                text_value: str, stored: Any, k_value: float, answerer_name: str, request: gr.Request
            ) -> Iterator[tuple]:
                if (answerer_name == "llm") == (group == "llm"):
                    yield from ask(text_value, stored, k_value, answerer_name, request)
                elif (
                    group == "ask" and text_value.strip()
                ):  # the question shows while it waits for an LLM slot
                    active = Conversations.load(stored).active()
                    waiting = conversation_html(
                        active, request_language(request), pending=Turn(question=text_value)
                    )
                    # The question stays in its box until the LLM group's ask has read it.
                    yield waiting, *(gr.skip(),) * len(record_outputs)
                else:
                    yield (gr.skip(),) * (len(record_outputs) + 1)

            return run

        # The API has one endpoint per action (ask, ask_llm, rebuild, add_files); the UI's other wiring is private.
        asking: dict[str, Any] = {"concurrency_limit": ASK_CONCURRENCY, "concurrency_id": "ask"}
        # Hidden progress: an extractive ask also starts a no-op here, which must not show as pending.
        llm: dict[str, Any] = {
            "concurrency_limit": LLM_CONCURRENCY,
            "concurrency_id": "llm",
            "show_progress": "hidden",
        }
        ask_outputs = [*record_outputs, question]
        send.click(ask_in("ask"), [question, store, k, answerer], ask_outputs, api_name="ask", **asking)
        send.click(ask_in("llm"), [question, store, k, answerer], ask_outputs, api_name="ask_llm", **llm)
        for group, options in (("ask", asking), ("llm", llm)):
            for trigger, source in ((question.submit, question), *((b.click, b) for b in examples)):
                trigger(
                    ask_in(group),
                    [source, store, k, answerer],
                    ask_outputs,
                    api_visibility="private",
                    **options,
                )
        private: dict[str, Any] = {"queue": False, "api_visibility": "private"}
        start.click(change(Conversations.start)[0], store, record_outputs, **private)
        picker.input(change(Conversations.switch)[1], [store, picker], record_outputs, **private)
        rename.click(change(Conversations.rename)[1], [store, title], record_outputs, **private)
        title.submit(change(Conversations.rename)[1], [store, title], record_outputs, **private)
        delete.click(change(Conversations.delete)[0], store, record_outputs, **private)
        # One index change at a time; asks have their own concurrency group and are never blocked by it.
        indexing: dict[str, Any] = {
            "concurrency_limit": 1,
            "concurrency_id": "index",
            "show_progress_on": report,
        }
        rebuild.click(run_rebuild, None, [report, files, status], api_name="rebuild", **indexing)
        if writable:
            add.click(
                run_add, [uploads, replace], [report, files, status], api_name="add_files", **indexing
            ).then(lambda: None, None, uploads, **private)
        load_outputs = [top, files, status, *examples, answerer, rebuild_note, *record_outputs]
        app.load(on_load, store, load_outputs, **private)

        # The corpus can change on disk at any time: refresh on every page load and now and then.
        def refresh(request: gr.Request) -> tuple:
            return status_outputs(live, request_language(request))

        gr.Timer(STATUS_REFRESH_SECONDS).tick(refresh, None, [files, status], **private)
    return app


def launch(app: gr.Blocks, settings: Settings, *, prevent_thread_lock: bool = False) -> None:
    app.queue(default_concurrency_limit=ASK_CONCURRENCY).launch(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        auth=parse_auth(settings.auth) if settings.auth else None,
        # Gradio's own limit, so that an oversized upload is refused before it lands in its temp directory.
        max_file_size=MAX_UPLOAD_BYTES,
        theme=THEME,
        css=CSS,
        i18n=i18n(),
        footer_links=[],
        prevent_thread_lock=prevent_thread_lock,
        quiet=prevent_thread_lock,
        app_kwargs={"middleware": [Middleware(RefuseUploads)]} if settings.read_only else None,
    )


class RefuseUploads:
    """ASGI middleware answering 403 on Gradio's upload route, which every server has whatever its
    components: without it a read-only server still lets anyone fill its temp directory."""

    ROUTE = f"{API_PREFIX}/upload"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith(self.ROUTE):
            refusal = "This aiqa server was started with --read-only, so it takes no uploads; add files to its corpus directory instead."
            await PlainTextResponse(refusal, 403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def serve(settings: Settings, pipeline: Pipeline | None = None) -> None:
    launch(build_app(settings, pipeline), settings)


def browser_secret(settings: Settings) -> str:
    """The key the browser's copy of the conversations is encrypted with. It must outlive the
    server process, or a restart would make every stored conversation unreadable: AIQA_UI_SECRET,
    or a random key kept in the user's state directory."""
    if settings.ui_secret:
        return settings.ui_secret
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "aiqa"
    path = state / "browser-secret"
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        secret = secrets.token_urlsafe(24)
        try:
            state.mkdir(parents=True, exist_ok=True)
            path.write_text(secret, encoding="ascii")
            path.chmod(0o600)
        except OSError:  # a read-only home: conversations then last as long as this process
            log.warning("cannot save the browser-state key in %s", path)
        return secret


def error_turn(question: str, error: AiqaError, interface: Language) -> Turn:
    """An error in the language of a Chinese question, or else of the interface (a question of
    Latin letters may be anything), with the library's exact sentence behind a toggle."""
    asked = detect_language(question)
    language = asked if asked != "en" else interface
    key = next((key for kind, key in _ERROR_KEYS if isinstance(error, kind)), "error_other")
    return Turn(question=question, error=text(language, key), error_detail=str(error))


def answerer_choices(answerers: list[str], language: Language) -> list[tuple[str, str]]:
    return [(text(language, f"answerer_{name}"), name) for name in answerers]


def upload_line(name: str, added: bool, message: str, language: Language) -> tuple[bool, str, str | None]:
    if language == "en":
        return added, message, None
    return added, text(language, "upload_added" if added else "upload_refused", name=name), message


def status_outputs(live: LivePipeline, language: Language) -> tuple:
    """The file table and the status line, in the browser's language."""
    pipeline = live.current
    headers = [
        text(language, key) for key in ("column_file", "column_status", "column_chunks", "column_title")
    ]
    try:
        listing = corpus_listing(pipeline.settings.corpus, pipeline.index.manifest)
        rows = [[e.name, text(language, f"file_{e.status}"), e.chunks, e.title] for e in listing]
    except AiqaError as error:
        rows = [["", text(language, "file_error"), 0, str(error)]]
    choice = pipeline.choice
    status = status_html(
        live.status(), choice.embedder.id, choice.fallback, pipeline.settings.llm_model, language
    )
    return gr.update(value={"headers": headers, "data": rows}, headers=headers), status


def _rebuild(
    live: LivePipeline, progress: gr.Progress, lines: list[tuple[bool, str, str | None]], language: Language
) -> tuple:
    def report_progress(stage: str, done: int, total: int) -> None:
        progress((done, total), desc=text(language, f"stage_{stage}") if stage in STAGES else stage)

    failed = text(language, "rebuild_failed")
    try:
        built = live.rebuild(progress=report_progress)
    except AiqaError as error:
        return report_html(lines, None, failed, language, failed=True, detail=str(error)), *status_outputs(
            live, language
        )
    except Exception as error:  # a bug, but the server keeps answering from the old index
        log.exception("rebuild failed")
        detail = f"{type(error).__name__}: {error}"
        return report_html(lines, None, failed, language, failed=True, detail=detail), *status_outputs(
            live, language
        )
    return report_html(lines, built, None, language), *status_outputs(live, language)
