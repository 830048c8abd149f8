"""The UI's words in English and Chinese, and which of them a browser gets.

Component labels go to Gradio's i18n (`I18N`), which picks a table by the browser's language and
sets `<html lang>`; text the server renders (answers' surroundings, status, errors, reports) picks
the same table from the request's Accept-Language. Traditional Chinese is converted from the
Simplified table with OpenCC, character by character (phrase conversion would rename entities in
the examples: 人工智能局 is a name, not a term to localize), so the two never drift apart.
"""

from __future__ import annotations

from functools import cache

import gradio as gr

from .chinese import Language
from .corpus_admin import MAX_UPLOAD_BYTES

# key: (English, Simplified Chinese). `{name}` fields are filled by `text()`.
STRINGS: dict[str, tuple[str, str]] = {
    "title": ("aiqa · questions and answers", "aiqa · 问答"),
    "tagline": (
        "Ask about the documents; every claim links to the exact passage it comes from.",
        "就文档提问；每句回答都链接到它所依据的原文段落。",
    ),
    "tab_chat": ("Chat", "对话"),
    "tab_index": ("Index", "索引"),
    "ask": ("Ask", "提问"),
    "question_placeholder": (
        "Ask in Chinese (简体 or 繁體) or English, e.g. Which new bureau does Huizhou plan to set up?",
        "用中文（简体或繁体）或英文提问，例如：惠州市打算成立什么局？",
    ),
    "try": ("Try:", "试试："),
    "settings": ("Settings", "设置"),
    "k_label": ("Passages to answer from", "回答时参考的段落数"),
    "answerer_label": ("Answered by", "回答方式"),
    "answerer_extractive": ("Sentences quoted from the documents", "直接引用文档原句"),
    "answerer_llm": ("Language model, checked against the documents", "大语言模型（回答经原文核对）"),
    "conversations": ("Conversations", "对话记录"),
    "new_conversation": ("New conversation", "新对话"),
    "manage": ("Rename or delete", "重命名或删除"),
    "rename_label": ("Name of this conversation", "当前对话的名称"),
    "rename": ("Rename", "重命名"),
    "delete": ("Delete this conversation", "删除当前对话"),
    "export": ("Export as Markdown", "导出为 Markdown"),
    "untitled": ("New conversation", "新对话"),
    "empty_chat": (
        "Ask a question about the documents. Each answer lists the passages it cites right below it.",
        "就文档内容提问。每个回答下方都列出它引用的原文段落。",
    ),
    "you": ("You", "你"),
    "answer": ("Answer", "回答"),
    "thinking": ("Looking through the documents…", "正在查找文档…"),
    "understood_as": ("Understood as: {question}", "理解为：{question}"),
    "sources": ("Sources", "来源"),
    "no_sources": (
        "No passage answers this question, so nothing is cited.",
        "没有段落能回答这个问题，因此没有引用。",
    ),
    "not_cited": ("Retrieved but not cited ({count})", "检索到但未引用（{count}）"),
    "source_meta": ("{doc} · characters {start}–{end}", "{doc} · 第 {start}–{end} 字"),
    "source_link": ("source {n}: {title}", "来源 {n}：{title}"),
    "notices": ("How the answer was checked ({count})", "回答的核对说明（{count}）"),
    "copy": ("Copy", "复制"),
    "copied": ("Copied", "已复制"),
    "error_question": ("This question cannot be asked as it is.", "这个问题无法按原样提问。"),
    "error_index": ("The index cannot be used right now.", "索引暂时无法使用。"),
    "error_model": ("The search model cannot be loaded.", "检索模型无法加载。"),
    "error_llm": ("The language model did not answer.", "大语言模型没有回应。"),
    "error_other": ("The question could not be answered.", "无法回答这个问题。"),
    "error_details": ("Details", "详细信息"),
    "status_model_offline": ("Search: built-in offline matching of words", "检索：内置离线字词匹配"),
    "status_model": ("Search model: {model}", "检索模型：{model}"),
    "status_llm": (
        "Answers: language model {model}, checked against the documents",
        "回答：大语言模型 {model}，经原文核对",
    ),
    "status_extractive": ("Answers: quoted from the documents", "回答：引用文档原句"),
    "status_reranker": ("Reranking: {model}", "重排序：{model}"),
    "status_documents": ("{documents} documents, {chunks} passages", "{documents} 份文档，{chunks} 个段落"),
    "status_fresh": ("Index up to date (built {built})", "索引是最新的（构建于 {built}）"),
    "status_fresh_loaded": (
        "Index up to date (built {built} by another process, loaded)",
        "索引是最新的（由另一进程构建于 {built}，已载入）",
    ),
    "status_stale": (
        "Documents changed since the index was built ({changes}); rebuild it in the Index tab",
        "文档在索引构建后有变化（{changes}），请在“索引”页重建",
    ),
    "status_problem": ("The documents cannot be compared with the index", "无法将文档与索引比对"),
    "status_details": ("Details and how to change them", "详情与更改方法"),
    "status_advice": (
        "Settings are environment variables read at start: AIQA_EMBEDDER and AIQA_EMBED_MODEL (the search "
        "model: the bundled multilingual-e5-small, a sentence-transformers model, or offline word matching; "
        "changing it rebuilds the index), AIQA_LLM_BASE_URL and AIQA_LLM_MODEL (an OpenAI-compatible "
        "language model), AIQA_RERANKER; see the README.",
        "设置来自启动时读取的环境变量：AIQA_EMBEDDER 与 AIQA_EMBED_MODEL（检索模型：内置的 multilingual-e5-small、"
        "sentence-transformers 模型或离线字词匹配；更换后需重建索引）、AIQA_LLM_BASE_URL 与 AIQA_LLM_MODEL"
        "（兼容 OpenAI 的大语言模型）、AIQA_RERANKER；详见 README。",
    ),
    "changes_added": ("{count} added", "新增 {count} 个"),
    "changes_changed": ("{count} changed", "修改 {count} 个"),
    "changes_removed": ("{count} removed", "删除 {count} 个"),
    "stage_read": ("Reading files", "正在读取文件"),
    "stage_embed": ("Embedding passages", "正在嵌入段落"),
    "rebuild": ("Rebuild index", "重建索引"),
    "rebuild_note": (
        "Only new and changed files are read and embedded again; questions keep being answered from the "
        "current index meanwhile.",
        "只重新读取新增和修改的文件；重建期间仍用当前索引回答问题。",
    ),
    "upload_label": (
        "Add .txt or .md files (UTF-8, UTF-16 or GB18030; up to {mb} MB each)",
        "添加 .txt 或 .md 文件（UTF-8、UTF-16 或 GB18030 编码；每个最多 {mb} MB）",
    ),
    "replace_label": ("Replace files that have the same name", "替换同名文件"),
    "add_files": ("Add files and rebuild", "添加文件并重建"),
    "files_label": ("Documents", "文档"),
    "column_file": ("File", "文件"),
    "column_status": ("State", "状态"),
    "column_chunks": ("Passages", "段落"),
    "column_title": ("Title", "标题"),
    "file_indexed": ("indexed", "已索引"),
    "file_new": ("new", "新增"),
    "file_changed": ("changed", "已修改"),
    "file_removed": ("removed", "已删除"),
    "file_skipped": ("skipped", "已跳过"),
    "file_error": ("error", "错误"),
    "read_only": (
        "This server is read-only (--read-only): files cannot be added and the index cannot be rebuilt here.",
        "此服务器为只读模式（--read-only）：不能在这里添加文件或重建索引。",
    ),
    "choose_files": ("Choose one or more .txt or .md files first.", "请先选择一个或多个 .txt 或 .md 文件。"),
    "nothing_added": (
        "Nothing was added, so the index was not rebuilt.",
        "没有添加任何文件，因此没有重建索引。",
    ),
    "rebuilt": (
        "Index rebuilt in {seconds} s: {what}; {files} files, {chunks} passages ({embedded} embedded, "
        "{unchanged} files unchanged).",
        "索引已重建，用时 {seconds} 秒：{what}；共 {files} 个文件、{chunks} 个段落（新嵌入 {embedded} 个，{unchanged} 个文件未变）。",
    ),
    "rebuilt_scratch": ("rebuilt from scratch ({what})", "从头重建（{what}）"),
    "no_changes": ("no files changed", "没有文件变化"),
    "list_added": ("Added: {names}", "新增：{names}"),
    "list_changed": ("Changed: {names}", "修改：{names}"),
    "list_removed": ("Removed: {names}", "删除：{names}"),
    "list_skipped": ("Skipped (unreadable or empty): {names}", "已跳过（无法读取或为空）：{names}"),
    "and_more": (" and {count} more", " 等另外 {count} 个"),
    "rebuild_failed": (
        "The rebuild failed and the previous index is still in use.",
        "重建失败，仍在使用之前的索引。",
    ),
    "upload_added": ("{name}: added", "{name}：已添加"),
    "upload_refused": ("{name} was not added", "{name} 未添加"),
}

# Example questions per language: all answerable from the bundled corpus, and none from the gold
# sets the answers are measured on (they come from eval/extra.jsonl); the English page also shows
# that Chinese questions work, the Chinese pages show both scripts.
EXAMPLES: dict[Language, list[str]] = {
    "zh-Hans": [
        "惠州市打算成立什么局？",
        "南京有多少款大模型通过国家网信办备案？",
        "江蘇省省長劉小濤在哪一天主持召開政企座談會？",
    ],
    "zh-Hant": [
        "惠州市打算成立什麼局？",
        "南京有多少款大模型通過國家網信辦備案？",
        "江蘇省省長劉小濤在哪一天主持召開政企座談會？",
    ],
    "en": [
        "惠州市打算成立什么局？",
        "江蘇省省長劉小濤在哪一天主持召開政企座談會？",
        "Which new bureau does Huizhou plan to set up?",
    ],
}


@cache
def _table(language: Language) -> dict[str, str]:
    if language == "en":
        return {key: english for key, (english, _) in STRINGS.items()}
    simplified = {key: chinese for key, (_, chinese) in STRINGS.items()}
    if language == "zh-Hans":
        return simplified
    import opencc

    convert = opencc.OpenCC("s2tw").convert
    return {key: convert(value) for key, value in simplified.items()}


def text(language: Language, key: str, **fields: object) -> str:
    template = _table(language)[key]
    return template.format(**fields) if fields else template


def language_of(accept_language: str | None) -> Language:
    """The browser's first preference: Traditional for zh-TW/HK/MO/Hant, Simplified for other
    Chinese, English otherwise (the same choice Gradio's i18n makes from navigator.language)."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip().lower()
    if not first.startswith("zh"):
        return "en"
    return "zh-Hant" if any(tag in first for tag in ("tw", "hk", "mo", "hant")) else "zh-Hans"


def request_language(request: gr.Request | None) -> Language:
    headers = getattr(request, "headers", None)
    return language_of(headers.get("accept-language") if headers is not None else None)


# Browser locales Gradio looks up (it tries "zh-CN", then "zh"), mapped to our tables.
_LOCALES: dict[str, Language] = {
    "en": "en",
    "zh": "zh-Hans",
    "zh-CN": "zh-Hans",
    "zh-SG": "zh-Hans",
    "zh-Hans": "zh-Hans",
    "zh-TW": "zh-Hant",
    "zh-HK": "zh-Hant",
    "zh-MO": "zh-Hant",
    "zh-Hant": "zh-Hant",
}


def i18n() -> gr.I18n:
    """Component labels for Gradio; the upload limit is the one label with a value in it."""
    limit = MAX_UPLOAD_BYTES // 2**20

    def labels(language: Language) -> dict[str, str]:
        return {key: value.replace("{mb}", str(limit)) for key, value in _table(language).items()}

    return gr.I18n(**{locale: labels(language) for locale, language in _LOCALES.items()})
