"""The `aiqa` command line: maps options onto library calls and renders the results."""

from __future__ import annotations

import contextlib
import logging
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.live import Live
from rich.markup import escape as escape_markup
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from .errors import AiqaError
from .safe_text import json_line, printable
from .settings import AnswererChoice, Settings

if TYPE_CHECKING:
    from .embedders import EmbedderChoice
    from .models import Answer
    from .pipeline import Pipeline
    from .store import Progress as ProgressCallback

# The line under an answer to a follow-up, in the question's language: what was actually asked.
UNDERSTOOD_AS = {"zh-Hans": "理解为：", "zh-Hant": "理解為：", "en": "Understood as: "}

app = typer.Typer(
    add_completion=False,
    # Plain help: Typer's rich panels label every flag with a value type (`--json <bool>`, even
    # `--help <bool>`), and a flag takes no value.
    rich_markup_mode=None,
    no_args_is_help=True,
    help="aiqa: ask questions about a corpus of Chinese documents and get answers with exact citations.",
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

CorpusOption = Annotated[
    Path | None,
    typer.Option("--corpus", help="Corpus directory of .txt/.md files (env AIQA_CORPUS; default corpus/)."),
]
IndexOption = Annotated[
    Path | None, typer.Option("--index", help="Index directory (env AIQA_INDEX; default index/).")
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Where the index lives: files (the --index directory), a Milvus Lite file ending in .db, "
        "or a Milvus server URI like http://127.0.0.1:19530 (env AIQA_STORE; default files).",
    ),
]
KOption = Annotated[
    int | None, typer.Option("--k", min=1, max=50, help="Passages to answer from (env AIQA_K; default 5).")
]

AnswererOption = Annotated[
    AnswererChoice | None,
    typer.Option(
        "--answerer",
        help="auto (the LLM when AIQA_LLM_BASE_URL and AIQA_LLM_MODEL are set), extractive or llm "
        "(env AIQA_ANSWERER; default auto).",
    ),
]


def escape(text: str) -> str:
    """Text from the corpus, a model or a file name, made inert for the terminal: no Rich markup,
    and no escape sequences or other control characters (a document could retitle or clear it)."""
    return escape_markup(printable(text))


def _version(show: bool) -> None:
    if show:
        from . import __version__

        out.print(f"aiqa {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_version, help="Print the version and exit."),
    ] = False,
) -> None:
    """aiqa: ask questions about a corpus of Chinese documents and get answers with exact citations."""


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"[yellow]warning:[/] {escape(record.getMessage())}")


def _settings(**overrides: object) -> Settings:
    try:
        return Settings.load(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise AiqaError(
            f"Setting {field} is invalid ({first['msg']}); fix AIQA_{field.upper()} or the flag."
        ) from None


class _RateColumn(ProgressColumn):
    """Items per second ("12.3/s"), once there is a rate to show."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "", style="progress.data.speed")


@contextmanager
def _progress(enabled: bool = True) -> Iterator[ProgressCallback]:
    """A progress callback drawing one bar per build stage on stderr, with its rate and time left.

    The bars start with the first report, so a command that builds nothing draws nothing.
    """
    from .store import STAGES

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("left"),
        console=err,
        transient=True,
        disable=not enabled or not err.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if not tasks:
            bars.start()
        if stage not in tasks:
            tasks[stage] = bars.add_task(STAGES.get(stage, stage), total=total)
        bars.update(tasks[stage], completed=done, total=total)

    try:
        yield report
    finally:
        if tasks:
            bars.stop()


def _fail(error: AiqaError) -> None:
    err.print(f"[red]error:[/] {escape(str(error))}")
    raise typer.Exit(code=1)


@app.command("index")
def index_command(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    store: StoreOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-chunk and re-embed every file.")] = False,
) -> None:
    """Build or update the index; only files that changed are processed again.

    The embedder is decided here and recorded in the index: AIQA_EMBEDDER=auto (default) uses a
    sentence-transformers model named by AIQA_EMBED_MODEL or already cached, else the bundled
    multilingual-e5-small, else the offline hashing embedder; AIQA_EMBEDDER=e5, offline or
    sentence-transformers chooses one. Set AIQA_EMBED_MODEL to a model name or local directory for
    another semantic model.
    """
    from .embedders import choose_embedder
    from .pipeline import build

    try:
        settings = _settings(corpus=corpus, index=index, store=store)
        choice = choose_embedder(settings)
        _print_embedder(choice)
        with _progress() as progress:
            report = build(settings, rebuild=rebuild, progress=progress, choice=choice)
    except AiqaError as error:
        _fail(error)
    summary = Table.grid(padding=(0, 2))
    summary.add_row("index", str(settings.index) if settings.store == "files" else settings.store)
    summary.add_row(
        "files",
        f"{report.files} ({len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged)",
    )
    summary.add_row("chunks", f"{report.chunks} ({report.embedded_chunks} embedded)")
    summary.add_row("embedder", choice.embedder.name)
    summary.add_row("seconds", f"{report.seconds:.2f}")
    if report.skipped:
        summary.add_row("skipped", escape(", ".join(report.skipped)))
    out.print(summary)


@app.command("ask")
def ask_command(
    question: Annotated[str, typer.Argument(help="The question, in Chinese (either script) or English.")],
    k: KOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object.")] = False,
    answerer: AnswererOption = None,
    history: Annotated[
        list[str] | None,
        typer.Option(
            "--history",
            metavar="QUESTION",
            help="An earlier question of the conversation, oldest first (repeat the option); "
            "the question is understood as a follow-up to them.",
        ),
    ] = None,
    corpus: CorpusOption = None,
    index: IndexOption = None,
    store: StoreOption = None,
) -> None:
    """Answer one question with numbered citations (builds the index first if it is missing).

    Without --json a generated draft is shown as it arrives, then replaced by the checked answer.
    """
    from .pipeline import Pipeline, clean_question

    try:
        settings = _settings(corpus=corpus, index=index, store=store, k=k, answerer=answerer)
        clean_question(question)
        with _progress(enabled=not as_json) as progress:
            pipeline = Pipeline.open(settings, progress=progress)
        if as_json:
            answer = pipeline.ask(question, k=settings.k, history=history)
        else:
            _print_embedder(pipeline.choice, style="dim")
            _print_reranker(pipeline)
            answer = _stream_draft(pipeline.ask_stream(question, k=settings.k, history=history))
    except AiqaError as error:
        _fail(error)
    if as_json:
        sys.stdout.write(json_line(answer.to_json_dict()))
        return
    _print_answer(answer)


def _print_answer(answer: Answer) -> None:
    from .chinese import detect_language

    for notice in answer.notices:
        err.print(f"[yellow]notice:[/] {escape(notice)}")
    out.print(escape(answer.answer), style=None if answer.answerable else "yellow")
    if answer.rewritten:
        out.print(f"[dim]{UNDERSTOOD_AS[detect_language(answer.question)]}{escape(answer.rewritten)}[/]")
    for citation in answer.citations:
        out.print(
            f"\n[bold][{citation.n}][/] {escape(citation.title)} — {escape(citation.doc)} "
            f"[dim]chars {citation.start}–{citation.end}[/]"
        )
        out.print(textwrap.indent(escape(citation.text.strip()), "    "), highlight=False)


def _stream_draft(events: Iterator[str | Answer]) -> Answer:
    """Show the draft as it arrives, then clear it: the checked answer may differ from the draft."""
    draft = ""
    with Live(console=out, transient=True, auto_refresh=False) if out.is_terminal else nullcontext() as live:
        for event in events:
            if not isinstance(event, str):
                return event
            if live:
                draft += event
                live.update(Text(printable(draft), style="dim"), refresh=True)
    raise AssertionError("ask_stream ends with an Answer")


CHAT_HELP = "Ask a question; follow-ups are understood from the earlier ones. /sources, /clear, /quit."


@app.command("chat")
def chat_command(
    k: KOption = None,
    answerer: AnswererOption = None,
    corpus: CorpusOption = None,
    index: IndexOption = None,
    store: StoreOption = None,
) -> None:
    """Answer questions in a terminal conversation: follow-ups ("它的负责人是谁？") are understood.

    /sources lists the passages retrieved for the last answer, /clear starts a new conversation,
    /quit (or Ctrl-D) ends the session. Up and down arrows recall earlier lines; Ctrl-C drops the
    line being typed or stops the answer being composed.
    """
    from .pipeline import Pipeline, clean_question

    with contextlib.suppress(ImportError):  # line editing and history, where the platform has it
        import readline  # noqa: F401
    try:
        settings = _settings(corpus=corpus, index=index, store=store, k=k, answerer=answerer)
        with _progress() as progress:
            pipeline = Pipeline.open(settings, progress=progress)
    except AiqaError as error:
        _fail(error)
    err.print(f"[dim]embedder: {escape(pipeline.choice.embedder.name)}[/]")
    out.print(f"[dim]{CHAT_HELP}[/]")
    history: list[str] = []
    last: Answer | None = None
    while True:
        try:
            line = input("> ").strip()
        except EOFError:
            out.print()
            return
        except KeyboardInterrupt:  # as in a shell: Ctrl-C drops the line, Ctrl-D ends the session
            out.print()
            continue
        if not line:
            continue
        if line in {"/quit", "/exit"}:
            return
        if line == "/clear":
            history, last = [], None
            out.print("[dim]New conversation.[/]")
            continue
        if line == "/sources":
            _print_sources(last)
            continue
        if line.startswith("/"):
            out.print(f"[yellow]Unknown command {escape(line)}.[/] {CHAT_HELP}")
            continue
        try:
            question = clean_question(line)
            last = _stream_draft(pipeline.ask_stream(question, k=settings.k, history=history))
        except AiqaError as error:
            err.print(f"[red]error:[/] {escape(str(error))}")
            continue
        except KeyboardInterrupt:  # a slow LLM answer, say: stop it and ask something else
            err.print("interrupted")
            continue
        history.append(question)
        _print_answer(last)


def _print_sources(answer: Answer | None) -> None:
    if answer is None:
        out.print("[dim]No answer yet.[/]")
        return
    for rank, passage in enumerate(answer.retrieved, start=1):
        out.print(
            f"[bold]{rank}.[/] {escape(passage.title)} — {escape(passage.doc)} "
            f"[dim]chars {passage.start}–{passage.end}, score {passage.score:.3f}[/]"
        )
        out.print(textwrap.indent(escape(passage.text.strip()), "    "), highlight=False)


@app.command("eval")
def eval_command(
    questions: Annotated[Path, typer.Argument(help="Gold questions, one JSON object per line.")],
    results: Annotated[
        Path | None, typer.Option("--out", help="Write one result row per question here.")
    ] = None,
    k: KOption = None,
    corpus: CorpusOption = None,
    index: IndexOption = None,
    store: StoreOption = None,
) -> None:
    """Run every question of a gold file through `ask` and print the metrics."""
    from .evaluation import METRIC_NAMES, evaluate, metrics_by_language, read_gold
    from .loading import load_corpus
    from .pipeline import Pipeline

    try:
        settings = _settings(corpus=corpus, index=index, store=store, k=k)
        gold = read_gold(questions)
        if results is not None and (
            not results.parent.is_dir()
            or (results.exists() and not results.is_file() and not results.is_char_device())
        ):
            # A directory cannot be written, and a FIFO would block until something reads it.
            raise AiqaError(f"Cannot write results to {results}; give --out a file in an existing directory.")
        with _progress() as progress:
            pipeline = Pipeline.open(settings, progress=progress)
        _print_embedder(pipeline.choice)
        _print_reranker(pipeline)
        documents = {d.doc: d.text for d in load_corpus(settings.corpus)}
        try:
            rows = evaluate(
                gold,
                lambda q, history: pipeline.ask(q, k=settings.k, history=history),
                documents,
                out=results,
            )
        except OSError as error:  # the only writes are the result rows: a full disk, say
            raise AiqaError(
                f"Cannot write results to {results} ({error.strerror or error}); "
                "free some space or choose another --out."
            ) from None
    except AiqaError as error:
        _fail(error)
    table = Table(title=f"{questions} — {len(rows)} questions, k={settings.k}")
    by_language = metrics_by_language(rows)
    table.add_column("metric")
    for column in by_language:
        table.add_column(column, justify="right")
    for name in METRIC_NAMES:
        table.add_row(name, *(_format(values[name]) for values in by_language.values()))
    out.print(table)
    if results:
        err.print(f"results written to {results}")


def _print_embedder(choice: EmbedderChoice, style: str | None = None) -> None:
    if choice.fallback:
        err.print(f"[yellow]warning:[/] {escape(choice.fallback)}")
    err.print(f"embedder: {escape(choice.embedder.name)}", style=style)


def _print_reranker(pipeline: Pipeline) -> None:
    if pipeline.settings.reranker and pipeline.reranker:
        err.print(f"reranker: {escape(pipeline.reranker.description)}")


def _format(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if float(value).is_integer() and value > 1 else f"{value:.3f}"


@app.command("serve")
def serve_command(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    store: StoreOption = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (env AIQA_HOST; default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (env AIQA_PORT; default 7860).")] = None,
    share: Annotated[
        bool | None, typer.Option("--share/--no-share", help="Create a public Gradio link.")
    ] = None,
    auth: Annotated[
        str | None,
        typer.Option(help="USER:PASS: require this login (env AIQA_AUTH); needed beyond loopback."),
    ] = None,
    no_auth: Annotated[
        bool | None,
        typer.Option(
            "--no-auth", help="Serve beyond loopback without a login, on purpose (env AIQA_NO_AUTH)."
        ),
    ] = None,
    read_only: Annotated[
        bool | None,
        typer.Option("--read-only", help="No uploads or rebuilds from the UI (env AIQA_READ_ONLY)."),
    ] = None,
) -> None:
    """Start the chat UI (builds the index first if it is missing).

    Beyond loopback (a non-loopback --host, or --share) it needs --auth USER:PASS or --no-auth.
    """
    from .exposure import check_exposure
    from .pipeline import Pipeline
    from .ui import serve

    try:
        settings = _settings(
            corpus=corpus,
            index=index,
            store=store,
            host=host,
            port=port,
            share=share,
            auth=auth,
            no_auth=no_auth,
            read_only=read_only,
        )
        warning = check_exposure(settings)  # before the index is built: a refusal changes nothing
        if warning:
            err.print(f"[yellow]warning:[/] {escape(warning)}")
        with _progress() as progress:
            pipeline = Pipeline.open(settings, progress=progress)
        _print_embedder(pipeline.choice)
        serve(settings, pipeline)
    except AiqaError as error:
        _fail(error)


def main() -> None:
    # The handler's own level matters: some libraries (bm25s) set their loggers to DEBUG on import.
    logging.basicConfig(level=logging.WARNING, handlers=[_Handler(level=logging.WARNING)], force=True)
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
