"""Everything the UI shows, rendered inert: text from the model or the corpus never becomes markup.

Every such string is passed through `_text` (carriage returns normalized, HTML escaped) and placed
inside markup written here; the page renders it as HTML with no Markdown step, so `**`, `![]()`,
`<img>` or a blank line in an answer, a streamed draft, a passage or a notice is shown as typed.
The Markdown export escapes the same text for Markdown, and copying gives plain text.
"""

from __future__ import annotations

import html
import re

from .chinese import Language
from .live import IndexStatus
from .models import Citation, ScoredSpan
from .store import BuildReport, CorpusChanges
from .ui_conversations import Conversation, Turn
from .ui_text import text

_MARKER = re.compile(r"\[(\d{1,3})\]")
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")
NAMES_SHOWN = 12


def _newlines(value: str) -> str:
    """\r\n and a lone \r are line breaks, as a browser would read them."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _text(value: str) -> str:
    """Model or corpus text as inert HTML: escaped, with line breaks kept as <br>."""
    return html.escape(_newlines(value)).replace("\n", "<br>")


def _attr(value: str) -> str:
    return html.escape(_newlines(value), quote=True)


# Conversation ------------------------------------------------------------------------------------


def conversation_html(
    conversation: Conversation, language: Language, *, pending: Turn | None = None, draft: str | None = None
) -> str:
    """The conversation's turns, each with its passages right under its answer.

    `pending` is a question being answered; `draft` the answer streamed so far (unchecked text,
    shown as text like everything else)."""
    turns = [_turn_html(i, turn, language) for i, turn in enumerate(conversation.turns)]
    if pending is not None:
        turns.append(_pending_html(pending, draft, language))
    if not turns:
        return f'<div class="aiqa-log"><p class="aiqa-empty">{_text(text(language, "empty_chat"))}</p></div>'
    # No live region: every update replaces the whole log, which a screen reader would read out again.
    return f'<div class="aiqa-log">{"".join(turns)}</div>'


def _question_html(turn: Turn, language: Language) -> str:
    return (
        f'<div class="aiqa-q"><span class="aiqa-who">{_text(text(language, "you"))}</span>'
        f'<div class="aiqa-q-text">{_text(turn.question)}</div></div>'
    )


def _pending_html(turn: Turn, draft: str | None, language: Language) -> str:
    body = f"{_text(draft)} …" if draft else _text(text(language, "thinking"))
    return (
        f'<section class="aiqa-turn aiqa-pending" id="aiqa-pending">{_question_html(turn, language)}'
        f'<div class="aiqa-a"><div class="aiqa-answer aiqa-draft">{body}</div></div></section>'
    )


def _turn_html(index: int, turn: Turn, language: Language) -> str:
    prefix = f"aiqa-t{index}-s"
    parts = [_question_html(turn, language), '<div class="aiqa-a">']
    if turn.error:
        detail = _details(turn.error_detail, language)
        parts.append(f'<div class="aiqa-error" role="alert">{_text(turn.error)}{detail}</div>')
    else:
        parts.append(_answer_html(turn, prefix, language))
        if turn.rewritten:
            parts.append(
                f'<p class="aiqa-rewritten">{_text(text(language, "understood_as", question=turn.rewritten))}</p>'
            )
        if turn.notices:
            items = "".join(f"<li>{_text(notice)}</li>" for notice in turn.notices)
            summary = text(language, "notices", count=len(turn.notices))
            parts.append(
                f'<details class="aiqa-notices"><summary>{_text(summary)}</summary><ul>{items}</ul></details>'
            )
        parts.append(_sources_html(turn, prefix, language))
    parts.append(
        f'<div class="aiqa-actions"><button type="button" class="aiqa-copy" '
        f'data-done="{_attr(text(language, "copied"))}">{_text(text(language, "copy"))}</button></div>'
        f'<pre class="aiqa-plain" hidden>{html.escape(turn_plain_text(turn, language))}</pre></div>'
    )
    return f'<section class="aiqa-turn" id="aiqa-t{index}">{"".join(parts)}</section>'


def _answer_html(turn: Turn, prefix: str, language: Language) -> str:
    """The answer with each [n] linked to this turn's passage n; a marker with no passage stays text."""
    titles = {c.n: c.title or c.doc for c in turn.citations}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if n not in titles:
            return match.group(0)
        label = _attr(text(language, "source_link", n=n, title=titles[n]))
        return f'<a class="aiqa-cite" href="#{prefix}{n}" title="{label}" aria-label="{label}"><sup>[{n}]</sup></a>'

    body = _MARKER.sub(link, _text(turn.answer))
    kind = "aiqa-answer" if turn.answerable else "aiqa-answer aiqa-refusal"
    return f'<div class="{kind}">{body}</div>'


def _sources_html(turn: Turn, prefix: str, language: Language) -> str:
    parts = [f'<div class="aiqa-sources"><h4>{_text(text(language, "sources"))}</h4>']
    if turn.citations:
        parts.extend(_card(citation, language, prefix) for citation in turn.citations)
    else:
        parts.append(f'<p class="aiqa-empty">{_text(text(language, "no_sources"))}</p>')
    if turn.uncited:
        summary = text(language, "not_cited", count=len(turn.uncited))
        inner = "".join(_card(passage, language) for passage in turn.uncited)
        parts.append(f'<details class="aiqa-uncited"><summary>{_text(summary)}</summary>{inner}</details>')
    parts.append("</div>")
    return "".join(parts)


def _card(passage: ScoredSpan, language: Language, prefix: str | None = None) -> str:
    if isinstance(passage, Citation) and prefix:
        number = f'<span class="aiqa-n">{passage.n}</span>'
        anchor = f' id="{prefix}{passage.n}"'
        body = _highlighted(passage.text, passage.start, passage.highlight)
    else:
        number, anchor, body = "", "", html.escape(_newlines(passage.text))
    meta = text(language, "source_meta", doc=passage.doc, start=passage.start, end=passage.end)
    return (
        f'<div class="aiqa-card"{anchor}><div class="aiqa-card-head">{number}'
        f'<span class="aiqa-title">{_text(passage.title)}</span></div>'
        f'<div class="aiqa-meta" data-doc="{_attr(passage.doc)}" data-start="{passage.start}" '
        f'data-end="{passage.end}">{_text(meta)}</div>'
        f'<div class="aiqa-text">{body}</div></div>'
    )


def _highlighted(passage: str, offset: int, spans: list[tuple[int, int]]) -> str:
    """Passage text with the given document spans marked; spans are clipped to the passage."""
    parts, position = [], 0
    for start, end in sorted(spans):
        start, end = max(start - offset, position), min(end - offset, len(passage))
        if start >= end:
            continue
        parts += [html.escape(passage[position:start]), f"<mark>{html.escape(passage[start:end])}</mark>"]
        position = end
    parts.append(html.escape(passage[position:]))
    return _newlines("".join(parts))


# Plain text and Markdown -------------------------------------------------------------------------


def turn_plain_text(turn: Turn, language: Language) -> str:
    """What Copy puts on the clipboard: the answer with its [n] markers, then the passages."""
    if turn.error:
        return _newlines(turn.error)
    lines = [_newlines(turn.answer)]
    if turn.rewritten:
        lines.append(text(language, "understood_as", question=turn.rewritten))
    if turn.citations:
        lines += ["", text(language, "sources") + ":"]
        for c in turn.citations:
            meta = text(language, "source_meta", doc=c.doc, start=c.start, end=c.end)
            lines.append(f"[{c.n}] {c.title} ({meta})")
            lines.append(_newlines(c.text))
    return "\n".join(lines)


def _md(value: str) -> str:
    """Text that any Markdown reader shows as typed: active characters escaped, lines kept."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", _newlines(value)).replace("&", "&amp;")


def _md_quote(value: str) -> str:
    return "\n".join(f"> {_md(line)}" if line else ">" for line in _newlines(value).split("\n"))


def conversation_markdown(conversation: Conversation, language: Language) -> str:
    """The conversation as a Markdown document: each question, its answer and the cited passages."""
    out = [f"# {_md(conversation.name(text(language, 'untitled')))}", ""]
    for turn in conversation.turns:
        out += [f"## {_md(turn.question)}", ""]
        if turn.error:
            out += [_md(turn.error), ""]
            continue
        out += [_md(turn.answer), ""]
        if turn.rewritten:
            out += [f"*{_md(text(language, 'understood_as', question=turn.rewritten))}*", ""]
        for c in turn.citations:
            meta = text(language, "source_meta", doc=c.doc, start=c.start, end=c.end)
            out += [f"**\\[{c.n}\\] {_md(c.title)}** ({_md(meta)})", "", _md_quote(c.text), ""]
    return "\n".join(out)


# Status and index reports ------------------------------------------------------------------------


def status_html(
    status: IndexStatus, embedder_id: str, fallback: str | None, llm_model: str | None, language: Language
) -> str:
    """What a user needs at a glance, in plain words; the settings behind it in a details toggle."""
    offline = embedder_id.startswith("offline:")
    model = status.embedder.split(" (")[0]  # the model's name, without the English gloss after it
    chips = [
        text(language, "status_model_offline") if offline else text(language, "status_model", model=model),
        text(language, "status_llm", model=llm_model)
        if status.answerers[0] == "llm"
        else text(language, "status_extractive"),
        text(language, "status_documents", documents=status.documents, chunks=status.chunks),
    ]
    if status.reranker:
        chips.append(text(language, "status_reranker", model=status.reranker.split(" (")[0]))
    rendered = [f'<span class="aiqa-chip">{_text(chip)}</span>' for chip in chips]
    if status.problem:
        rendered.append(f'<span class="aiqa-chip warn">{_text(text(language, "status_problem"))}</span>')
    elif status.changes.any:
        stale = text(language, "status_stale", changes=describe_changes(status.changes, language))
        rendered.append(f'<span class="aiqa-chip warn">{_text(stale)}</span>')
    else:
        built = status.built_at[:16].replace("T", " ") + " UTC"
        # An index `aiqa index` swapped in beside the server: loaded, and said so.
        fresh = text(
            language, "status_fresh_loaded" if status.loaded_from_disk else "status_fresh", built=built
        )
        rendered.append(f'<span class="aiqa-chip ok">{_text(fresh)}</span>')
    # The library says why each model was chosen in English sentences; a Chinese page keeps to the
    # advice on how to change them, which says the same in its own words.
    details = [status.embedder, fallback, status.reranker, status.problem] if language == "en" else []
    advice = "".join(f"<p>{_text(line)}</p>" for line in details if line)
    return (
        f'<div class="aiqa-status">{"".join(rendered)}</div>'
        f'<details class="aiqa-status-details"><summary>{_text(text(language, "status_details"))}</summary>'
        f"{advice}<p>{_text(text(language, 'status_advice'))}</p></details>"
    )


def header_html(language: Language) -> str:
    return f"<h1>{_text(text(language, 'title'))}</h1><p>{_text(text(language, 'tagline'))}</p>"


def describe_changes(changes: CorpusChanges, language: Language) -> str:
    counts = (
        ("changes_added", changes.added),
        ("changes_changed", changes.changed),
        ("changes_removed", changes.removed),
    )
    separator = "、" if language != "en" else ", "
    return separator.join(text(language, key, count=len(names)) for key, names in counts if names)


def some(names: list[str], language: Language) -> str:
    more = text(language, "and_more", count=len(names) - NAMES_SHOWN) if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


def report_html(
    lines: list[tuple[bool, str, str | None]],
    built: BuildReport | None,
    note: str | None,
    language: Language,
    *,
    failed: bool = False,
    detail: str | None = None,
) -> str:
    parts = []
    if lines:
        items = "".join(
            f'<li class="{"good" if ok else "bad"}">{_text(message)}{_details(why, language)}</li>'
            for ok, message, why in lines
        )
        parts.append(f"<ul>{items}</ul>")
    if built is not None:
        changes = CorpusChanges(added=built.added, changed=built.changed, removed=built.removed)
        what = describe_changes(changes, language) if changes.any else text(language, "no_changes")
        if built.rebuilt:
            what = text(language, "rebuilt_scratch", what=what)
        summary = text(
            language,
            "rebuilt",
            seconds=f"{built.seconds:.2f}",
            what=what,
            files=built.files,
            chunks=built.chunks,
            embedded=built.embedded_chunks,
            unchanged=len(built.unchanged),
        )
        parts.append(f'<p class="aiqa-rebuilt">{_text(summary)}</p>')
        for key, names in (
            ("list_added", built.added),
            ("list_changed", built.changed),
            ("list_removed", built.removed),
        ):
            if names:
                parts.append(f"<p>{_text(text(language, key, names=some(names, language)))}</p>")
        if built.skipped:
            skipped = text(language, "list_skipped", names=some(built.skipped, language))
            parts.append(f'<p class="bad">{_text(skipped)}</p>')
    if note:
        parts.append(f'<p class="{"bad" if failed else ""}">{_text(note)}</p>')
    parts.append(_details(detail, language))
    return f'<div class="aiqa-report">{"".join(parts)}</div>'


def _details(detail: str | None, language: Language) -> str:
    """A library message (written in English) behind a toggle, for whoever needs the exact cause."""
    if not detail:
        return ""
    return f"<details><summary>{_text(text(language, 'error_details'))}</summary><p>{_text(detail)}</p></details>"
