"""The Gradio chat UI: ask with streamed answers, read the cited passages, manage the index.

Everything here renders library results as HTML and maps clicks onto library calls
(`Pipeline.ask_stream`, `LivePipeline.rebuild`, `corpus_admin`); no retrieval or answering logic.
All corpus text is escaped before it reaches the page.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Gradio reads this when it is imported: no usage reports or version checks from a local tool.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from .corpus_admin import MAX_UPLOAD_BYTES, add_uploads, corpus_listing
from .errors import AiqaError
from .live import IndexStatus, LivePipeline
from .models import Answer, Citation, Passage
from .pipeline import Pipeline
from .settings import Settings
from .store import STAGES, BuildReport, CorpusChanges

log = logging.getLogger(__name__)

EXAMPLES = [
    "温州市人工智能局是什么时候成立的？",
    "廣州市海珠區人工智能發展局局長是誰？",
    "When did the China (Wenzhou) Data Security Port (中国(温州)数安港) officially open?",
]
ASK_CONCURRENCY = 8
STATUS_REFRESH_SECONDS = 15

_MARKER = re.compile(r"\[(\d{1,3})\]")

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

CSS = """
#aiqa-header h1 { font-size: 1.35rem; margin: 0; }
#aiqa-header p { margin: 0.15rem 0 0; color: var(--body-text-color-subdued); }
.aiqa-status { display: flex; flex-wrap: wrap; gap: 0.4rem; font-size: 0.85rem; }
.aiqa-chip { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 0.15rem 0.7rem;
  background: var(--background-fill-secondary); }
.aiqa-chip.warn { border-color: #d97706; background: #fef3c7; color: #78350f; }
.aiqa-chip.ok { border-color: #16a34a; background: #dcfce7; color: #14532d; }
#aiqa-examples { flex-wrap: wrap; align-items: center; gap: 0.4rem; }
#aiqa-examples > * { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
#aiqa-chat a.aiqa-cite { text-decoration: none !important; }
#aiqa-chat a.aiqa-cite sup { font-size: 0.72em; font-weight: 700; color: #4338ca; background: #e0e7ff;
  border-radius: 4px; padding: 0 0.25em; margin-left: 1px; }
#aiqa-chat a.aiqa-cite:hover sup { background: #c7d2fe; }
.aiqa-refusal { border-left: 4px solid #d97706; padding: 0.3rem 0.7rem; background: #fffbeb; color: #78350f;
  border-radius: 4px; }
.aiqa-error { border-left: 4px solid #dc2626; padding: 0.3rem 0.7rem; background: #fef2f2; color: #7f1d1d;
  border-radius: 4px; }
.aiqa-notice { font-size: 0.8rem; color: var(--body-text-color-subdued); margin-top: 0.4rem; }
.aiqa-sources { display: flex; flex-direction: column; gap: 0.6rem; }
.aiqa-sources h3 { margin: 0; font-size: 1rem; }
.aiqa-empty { color: var(--body-text-color-subdued); font-size: 0.9rem; }
.aiqa-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6rem 0.75rem;
  background: var(--background-fill-primary); scroll-margin-top: 1rem; }
.aiqa-card:target { box-shadow: 0 0 0 2px var(--color-accent); }
.aiqa-card-head { display: flex; gap: 0.5rem; align-items: baseline; }
.aiqa-n { flex: none; background: var(--color-accent); color: white; border-radius: 4px; padding: 0 0.4rem;
  font-weight: 700; font-size: 0.85rem; }
.aiqa-title { font-weight: 600; }
.aiqa-meta { font-size: 0.78rem; color: var(--body-text-color-subdued); margin: 0.15rem 0 0.35rem;
  font-family: var(--font-mono); }
.aiqa-text { white-space: pre-wrap; line-height: 1.6; font-size: 0.92rem; }
.aiqa-text mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
.aiqa-sources details summary { cursor: pointer; font-weight: 600; font-size: 0.9rem; }
.aiqa-sources details .aiqa-card { margin-top: 0.5rem; opacity: 0.9; }
/* Gradio pins the step counter to a corner of the progress area, over the bar in a narrow column. */
#aiqa-report .meta-text-center { position: static; transform: none; }
.aiqa-report ul { margin: 0.3rem 0; }
.aiqa-report .bad { color: #b91c1c; }
.aiqa-report .good { color: #15803d; }
"""


def build_app(settings: Settings, pipeline: Pipeline | None = None) -> gr.Blocks:
    """The whole UI over one pipeline (opened here, building the index if it is missing)."""
    live = LivePipeline(pipeline or Pipeline.open(settings))
    answerers = live.current.answerer_names

    with gr.Blocks(title="aiqa", analytics_enabled=False) as app:
        gr.HTML(
            "<h1>aiqa · 问答</h1><p>Ask about the corpus; every claim links to the exact passage it comes from.</p>",
            elem_id="aiqa-header",
        )
        status = gr.HTML(_status_html(live.status()), elem_id="aiqa-status")

        with gr.Tab("Chat", id="chat"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Answers",
                    elem_id="aiqa-chat",
                    height=520,
                    feedback_options=None,
                    buttons=["copy"],
                    placeholder="Ask a question in Chinese (简体 or 繁體) or English, or try an example below.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="例如：温州市人工智能局是什么时候成立的？",
                        elem_id="aiqa-question",
                        scale=5,
                        max_lines=4,
                        submit_btn=False,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="aiqa-ask")
                with gr.Row(elem_id="aiqa-examples"):
                    gr.HTML('<span class="aiqa-empty">Try:</span>')
                    examples = [gr.Button(text, size="sm", variant="secondary", scale=0) for text in EXAMPLES]
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(
                        1, max(20, settings.k), value=settings.k, step=1, label="Passages to answer from (k)"
                    )
                    answerer = gr.Dropdown(
                        answerers,
                        value=answerers[0],
                        label="Answerer",
                        visible=len(answerers) > 1,
                    )
                    clear = gr.Button("Clear conversation", size="sm")
            with gr.Column(scale=2):
                sources = gr.HTML(_sources_html(None), elem_id="aiqa-sources", max_height=720)

        with gr.Tab("Index", id="index"):
            with gr.Row():
                with gr.Column():
                    rebuild = gr.Button("Rebuild index", variant="primary", elem_id="aiqa-rebuild")
                    gr.HTML(
                        '<p class="aiqa-empty">Only new and changed files are read and embedded again; '
                        "questions keep being answered from the current index meanwhile.</p>"
                    )
                    report = gr.HTML(elem_id="aiqa-report", min_height=120)
                with gr.Column():
                    uploads = gr.File(
                        label=f"Add .txt or .md files (UTF-8, UTF-16 or GB18030; up to {MAX_UPLOAD_BYTES // 2**20} MB each)",
                        file_count="multiple",
                        file_types=[".txt", ".md"],
                        elem_id="aiqa-upload",
                    )
                    replace = gr.Checkbox(False, label="Replace corpus files that have the same name")
                    add = gr.Button("Add files and rebuild", elem_id="aiqa-add")
            files = gr.Dataframe(
                _file_rows(live),
                headers=["file", "status", "chunks", "title"],
                interactive=False,
                column_widths=["24%", "10%", "8%", "58%"],
                label="Corpus files",
                max_height=420,
                elem_id="aiqa-files",
            )

        def ask(text: str, history: list[dict], k_value: float, answerer_name: str) -> Iterator[tuple]:
            if not text.strip():
                yield gr.skip(), gr.skip(), gr.skip()
                return
            history = [
                *history,
                {"role": "user", "content": f"<div>{_plain_html(text)}</div>"},
                {"role": "assistant", "content": "…"},
            ]
            yield history, gr.skip(), ""
            draft = ""
            try:
                for event in live.current.ask_stream(text, k=int(k_value), answerer=answerer_name):
                    if isinstance(event, Answer):
                        history[-1]["content"] = _answer_html(event)
                        yield history, _sources_html(event), ""
                    else:
                        draft += event
                        history[-1]["content"] = f"<div>{_plain_html(draft)} …</div>"
                        yield history, gr.skip(), ""
            except AiqaError as error:
                history[-1]["content"] = f'<div class="aiqa-error">{html.escape(str(error))}</div>'
                yield history, gr.skip(), ""

        def run_rebuild(progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008 (Gradio's idiom)
            return _rebuild(live, progress, [])

        def run_add(paths: list[str] | None, replace_existing: bool, progress: gr.Progress = gr.Progress()):  # noqa: B008
            if not paths:
                return (
                    _report_html([], None, "Choose one or more .txt or .md files first."),
                    gr.skip(),
                    gr.skip(),
                )
            outcomes = add_uploads(
                live.current.settings.corpus, [Path(p) for p in paths], replace=replace_existing
            )
            lines = [(outcome.added, outcome.message) for outcome in outcomes]
            if not any(outcome.added for outcome in outcomes):
                return _report_html(
                    lines, None, "Nothing was added, so the index was not rebuilt."
                ), *_refresh(live)
            return _rebuild(live, progress, lines)

        # The API has one endpoint per action (ask, rebuild, add_files); the UI's other wiring is private.
        asking: dict[str, Any] = {"concurrency_limit": ASK_CONCURRENCY, "concurrency_id": "ask"}
        ask_outputs = [chat, sources, question]
        send.click(ask, [question, chat, k, answerer], ask_outputs, api_name="ask", **asking)
        question.submit(ask, [question, chat, k, answerer], ask_outputs, api_visibility="private", **asking)
        for button in examples:
            button.click(ask, [button, chat, k, answerer], ask_outputs, api_visibility="private", **asking)
        private: dict[str, Any] = {"queue": False, "api_visibility": "private"}
        clear.click(lambda: ([], _sources_html(None)), None, [chat, sources], **private)
        # One index change at a time; asks have their own concurrency group and are never blocked by it.
        indexing: dict[str, Any] = {
            "concurrency_limit": 1,
            "concurrency_id": "index",
            "show_progress_on": report,
        }
        rebuild.click(run_rebuild, None, [report, files, status], api_name="rebuild", **indexing)
        add.click(
            run_add, [uploads, replace], [report, files, status], api_name="add_files", **indexing
        ).then(lambda: None, None, uploads, **private)
        # The corpus can change on disk at any time: refresh on every page load and now and then.
        app.load(lambda: _refresh(live), None, [files, status], **private)
        gr.Timer(STATUS_REFRESH_SECONDS).tick(lambda: _refresh(live), None, [files, status], **private)
    return app


def launch(app: gr.Blocks, settings: Settings, *, prevent_thread_lock: bool = False) -> None:
    app.queue(default_concurrency_limit=ASK_CONCURRENCY).launch(
        server_name=settings.host,
        server_port=settings.port,
        share=settings.share,
        theme=THEME,
        css=CSS,
        footer_links=[],
        prevent_thread_lock=prevent_thread_lock,
        quiet=prevent_thread_lock,
    )


def serve(settings: Settings, pipeline: Pipeline | None = None) -> None:
    launch(build_app(settings, pipeline), settings)


def _refresh(live: LivePipeline) -> tuple:
    return _file_rows(live), _status_html(live.status())


def _rebuild(live: LivePipeline, progress: gr.Progress, lines: list[tuple[bool, str]]) -> tuple:
    def report_progress(stage: str, done: int, total: int) -> None:
        progress((done, total), desc=STAGES.get(stage, stage))

    try:
        built = live.rebuild(progress=report_progress)
    except AiqaError as error:
        failure = f"The rebuild failed and the previous index is still in use: {error}"
        return _report_html(lines, None, failure, failed=True), *_refresh(live)
    except Exception as error:  # a bug, but the server keeps answering from the old index
        log.exception("rebuild failed")
        failure = f"The rebuild failed unexpectedly ({type(error).__name__}: {error}); the previous index is still in use."
        return _report_html(lines, None, failure, failed=True), *_refresh(live)
    return _report_html(lines, built, None), *_refresh(live)


def _report_html(
    lines: list[tuple[bool, str]], built: BuildReport | None, note: str | None, *, failed: bool = False
) -> str:
    parts = []
    if lines:
        items = "".join(
            f'<li class="{"good" if ok else "bad"}">{html.escape(message)}</li>' for ok, message in lines
        )
        parts.append(f"<ul>{items}</ul>")
    if built is not None:
        changes = CorpusChanges(added=built.added, changed=built.changed, removed=built.removed)
        what = changes.describe() if changes.any else "no files changed"
        if built.rebuilt:
            what = f"rebuilt from scratch ({what})"
        parts.append(
            f"<p><b>Index rebuilt</b> in {built.seconds:.2f} s: {what}; {built.files} files, {built.chunks} chunks "
            f"({built.embedded_chunks} embedded, {len(built.unchanged)} files unchanged).</p>"
        )
        for label, names in (("Added", built.added), ("Changed", built.changed), ("Removed", built.removed)):
            if names:
                parts.append(f"<p>{label}: {html.escape(_some(names))}</p>")
        if built.skipped:
            parts.append(
                f'<p class="bad">Skipped (unreadable or empty): {html.escape(_some(built.skipped))}</p>'
            )
    if note:
        parts.append(f'<p class="{"bad" if failed else ""}">{html.escape(note)}</p>')
    return f'<div class="aiqa-report">{"".join(parts)}</div>'


def _some(names: list[str], shown: int = 12) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _file_rows(live: LivePipeline) -> list[list[object]]:
    pipeline = live.current
    try:
        listing = corpus_listing(pipeline.settings.corpus, pipeline.index.manifest)
    except AiqaError as error:
        return [["", "error", 0, str(error)]]
    return [[entry.name, entry.status, entry.chunks, entry.title] for entry in listing]


def _status_html(status: IndexStatus) -> str:
    chips = [
        f"<b>Embedder</b> {html.escape(status.embedder)}",
        f"<b>Answerer</b> {html.escape(', '.join(status.answerers))}",
        f"<b>{status.documents}</b> documents · <b>{status.chunks}</b> chunks",
    ]
    if status.reranker:
        chips.insert(2, f"<b>Reranker</b> {html.escape(status.reranker)}")
    rendered = [f'<span class="aiqa-chip">{chip}</span>' for chip in chips]
    if status.problem:
        rendered.append(f'<span class="aiqa-chip warn">{html.escape(status.problem)}</span>')
    elif status.changes.any:
        rendered.append(
            '<span class="aiqa-chip warn">Corpus changed since the index was built '
            f"({html.escape(status.changes.describe())}): rebuild it in the Index tab</span>"
        )
    else:
        built = status.built_at.replace("T", " ").replace("+00:00", " UTC")
        # An index `aiqa index` swapped in beside the server: loaded, and said so.
        loaded = " by another process, loaded" if status.loaded_from_disk else ""
        rendered.append(
            f'<span class="aiqa-chip ok">Index up to date · built {html.escape(built)}{loaded}</span>'
        )
    return f'<div class="aiqa-status">{"".join(rendered)}</div>'


def _answer_html(answer: Answer) -> str:
    """The answer with each [n] linked to its card in the sources panel; refusals set apart."""
    titles = {citation.n: f"{citation.title} — {citation.doc}" for citation in answer.citations}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in titles:
            return match.group(0)
        return (
            f'<a class="aiqa-cite" href="#aiqa-src-{n}" title="{html.escape(titles[n])}"><sup>[{n}]</sup></a>'
        )

    body = _MARKER.sub(link, _plain_html(answer.answer))
    if not answer.answerable:
        body = f'<div class="aiqa-refusal">{body}</div>'
    notices = "".join(f'<div class="aiqa-notice">{html.escape(notice)}</div>' for notice in answer.notices)
    return f"<div>{body}{notices}</div>"


def _plain_html(text: str) -> str:
    """Text as one HTML block: escaped, and with no blank line, so the chat's Markdown leaves it alone."""
    return html.escape(text, quote=False).replace("\n", "<br>")


def _sources_html(answer: Answer | None) -> str:
    if answer is None:
        return (
            '<div class="aiqa-sources"><h3>Sources</h3><p class="aiqa-empty">'
            "The passages an answer cites appear here, with the sentence it used highlighted.</p></div>"
        )
    cited = {(c.doc, c.start, c.end) for c in answer.citations}
    others = [p for p in answer.retrieved if (p.doc, p.start, p.end) not in cited]
    parts = ['<div class="aiqa-sources"><h3>Sources</h3>']
    if answer.citations:
        parts.extend(_card(citation) for citation in answer.citations)
    else:
        parts.append('<p class="aiqa-empty">No passage answers this question, so nothing is cited.</p>')
    if others:
        inner = "".join(_card(passage) for passage in others)
        parts.append(f"<details><summary>Retrieved but not cited ({len(others)})</summary>{inner}</details>")
    parts.append("</div>")
    return "".join(parts)


def _card(passage: Citation | Passage) -> str:
    if isinstance(passage, Citation):
        number = f'<span class="aiqa-n">{passage.n}</span>'
        anchor = f' id="aiqa-src-{passage.n}"'
        text = _highlighted(passage.text, passage.start, passage.highlight)
    else:
        number, anchor, text = "", "", html.escape(passage.text)
    return (
        f'<div class="aiqa-card"{anchor}><div class="aiqa-card-head">{number}'
        f'<span class="aiqa-title">{html.escape(passage.title)}</span></div>'
        f'<div class="aiqa-meta">{html.escape(passage.doc)} · chars {passage.start}–{passage.end} · '
        f"score {passage.score:.2f}</div>"
        f'<div class="aiqa-text">{text}</div></div>'
    )


def _highlighted(text: str, offset: int, spans: list[tuple[int, int]]) -> str:
    """Passage text with the given document spans marked; spans are clipped to the passage."""
    parts, position = [], 0
    for start, end in sorted(spans):
        start, end = max(start - offset, position), min(end - offset, len(text))
        if start >= end:
            continue
        parts += [html.escape(text[position:start]), f"<mark>{html.escape(text[start:end])}</mark>"]
        position = end
    parts.append(html.escape(text[position:]))
    return "".join(parts)
