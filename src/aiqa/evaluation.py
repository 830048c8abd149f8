"""Evaluation: run a gold question file through the pipeline and score it (see eval/README.md)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel, ValidationError

from .chinese import to_simplified
from .errors import CorpusError
from .models import Answer, Passage

_NOT_KEPT = re.compile(r"[\s\W_]+", re.UNICODE)


class Evidence(BaseModel):
    doc: str
    quote: str


class GoldQuestion(BaseModel):
    id: str
    question: str
    answers: list[str] = []
    evidence: list[Evidence] = []
    type: str = "factoid"
    lang: Literal["zh-Hans", "zh-Hant", "en"] = "zh-Hans"
    # Earlier questions of a conversation, oldest first: the question is asked as a follow-up to them.
    history: list[str] = []

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable" and bool(self.answers)


def score_normalize(text: str) -> str:
    """Traditional→Simplified, NFKC, lower case, no white space or punctuation."""
    return _NOT_KEPT.sub("", unicodedata.normalize("NFKC", to_simplified(text)).lower())


def read_gold(path: Path) -> list[GoldQuestion]:
    try:
        lines = _read_text(path).splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CorpusError(f"Cannot read the question file {path}: {error}.") from error
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            questions.append(GoldQuestion.model_validate_json(line))
        except ValidationError as error:
            raise CorpusError(
                f"Line {number} of {path} is not a valid question record ({error.errors()[0]['msg']}); "
                "see eval/README.md for the format."
            ) from None
    if not questions:
        raise CorpusError(f"The question file {path} has no questions.")
    return questions


def _read_text(path: Path) -> str:
    """The file's text; a FIFO that no process writes to reads as empty instead of blocking forever."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with open(descriptor, "rb") as handle:
        os.set_blocking(descriptor, True)  # a writer that is there may take its time
        return handle.read().decode("utf-8")


def hits(passage: Passage, gold: GoldQuestion, documents: dict[str, str]) -> bool:
    for evidence in gold.evidence:
        if passage.doc != evidence.doc:
            continue
        text = documents.get(evidence.doc, "")
        position = text.find(evidence.quote)
        if position >= 0:
            overlap = min(passage.end, position + len(evidence.quote)) - max(passage.start, position)
            if overlap >= len(evidence.quote) / 2:
                return True
        if score_normalize(evidence.quote) in score_normalize(passage.text):
            return True
    return False


def _answer_hit(answer: Answer, gold: GoldQuestion) -> bool:
    produced = score_normalize(answer.answer)
    for expected in gold.answers:
        members = expected.split("；") if "；" in expected else [expected]
        if all(score_normalize(member) in produced for member in members):
            return True
    return False


class Row(BaseModel):
    id: str
    lang: str
    answerable: bool
    first_hit: int | None  # 1-based rank of the first hit in the top 10
    answer_hit: bool
    refused: bool
    citations: int
    exact_citations: int
    latency_ms: float


def score(gold: GoldQuestion, answer: Answer, documents: dict[str, str]) -> Row:
    first_hit = next(
        (
            rank
            for rank, passage in enumerate(answer.retrieved[:10], start=1)
            if hits(passage, gold, documents)
        ),
        None,
    )
    exact = sum(1 for c in answer.citations if documents.get(c.doc, "")[c.start : c.end] == c.text)
    return Row(
        id=gold.id,
        lang=gold.lang,
        answerable=gold.answerable,
        first_hit=first_hit,
        answer_hit=gold.answerable and _answer_hit(answer, gold),
        refused=not answer.answerable,
        citations=len(answer.citations),
        exact_citations=exact,
        latency_ms=answer.latency_ms,
    )


METRIC_NAMES = [
    "questions",
    "recall@1",
    "recall@5",
    "MRR@10",
    "answer hit",
    "unanswerable refusal",
    "false refusal",
    "citation exactness",
    "latency p50 ms",
    "latency p95 ms",
]


def metrics(rows: list[Row]) -> dict[str, float | None]:
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    citations = sum(r.citations for r in rows)
    latencies = np.array([r.latency_ms for r in rows]) if rows else np.zeros(1)

    def share(selected: list[Row], test: Callable[[Row], bool]) -> float | None:
        return sum(1 for r in selected if test(r)) / len(selected) if selected else None

    return {
        "questions": len(rows),
        "recall@1": share(answerable, lambda r: r.first_hit == 1),
        "recall@5": share(answerable, lambda r: r.first_hit is not None and r.first_hit <= 5),
        "MRR@10": (sum(1 / r.first_hit for r in answerable if r.first_hit) / len(answerable))
        if answerable
        else None,
        "answer hit": share(answerable, lambda r: r.answer_hit),
        "unanswerable refusal": share(unanswerable, lambda r: r.refused),
        "false refusal": share(answerable, lambda r: r.refused),
        "citation exactness": sum(r.exact_citations for r in rows) / citations if citations else None,
        "latency p50 ms": float(np.percentile(latencies, 50)),
        "latency p95 ms": float(np.percentile(latencies, 95)),
    }


def metrics_by_language(rows: list[Row]) -> dict[str, dict[str, float | None]]:
    table = {"all": metrics(rows)}
    for lang in sorted({r.lang for r in rows}):
        table[lang] = metrics([r for r in rows if r.lang == lang])
    return table


class Ask(Protocol):
    def __call__(self, question: str, *, history: list[str]) -> Answer: ...


def evaluate(
    questions: Iterable[GoldQuestion],
    ask: Ask,
    documents: dict[str, str],
    out: Path | None = None,
    on_row: Callable[[Row], None] | None = None,
) -> list[Row]:
    """Ask every question, score it, and write one `ask --json` object plus "id" per line to `out`."""
    rows = []
    with contextlib.ExitStack() as stack:
        handle = stack.enter_context(open(out, "w", encoding="utf-8")) if out else None
        for gold in questions:
            started = time.perf_counter()
            answer = ask(gold.question, history=gold.history)
            answer.latency_ms = round((time.perf_counter() - started) * 1000, 1)
            row = score(gold, answer, documents)
            rows.append(row)
            if handle:
                handle.write(json.dumps({"id": gold.id, **answer.to_json_dict()}, ensure_ascii=False) + "\n")
            if on_row:
                on_row(row)
    return rows
