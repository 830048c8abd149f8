"""Extractive answers: pick the sentences of the retrieved passages that answer the question.

Refusal is decided here, in code. A sentence is an answer only when it covers enough of the
question's weighted terms *and* holds what the question asks for (a date for "when", a quantity
for "how many", a person for "who", a place for "where"). Relevance alone cannot tell an
unanswerable question about a well-covered entity from an answerable one; the type check can.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .answering import Draft, citation_for, refusal, stream_whole
from .chinese import clean, normalize, to_language
from .models import Passage
from .retrieval import Query

AnswerType = Literal["date", "number", "person", "place", "list", "other"]

_TYPE_CUES: list[tuple[AnswerType, re.Pattern[str]]] = [
    (
        "date",
        re.compile(
            r"何时|什么时候|什么时间|哪一?天|哪一?年|哪个月|几月|几号|日期|\bwhen\b|what (?:year|date|month)|which (?:year|month|day)|month and year"
        ),
    ),
    ("person", re.compile(r"谁|哪位|何人|\bwho\b|\bwhom\b|which (?:official|person|expert)")),
    (
        "place",
        re.compile(
            r"哪里|哪儿|哪[座个所]?(?:城市|县|市|省|区|地)|\bwhere\b|which (?:city|county|province|district|region)"
        ),
    ),
    (
        "number",
        re.compile(
            r"多少|几[个家项款种倍成年]|多大|多高|比重|比例|占比|百分之|增长了|\bhow (?:many|much)\b|what (?:percentage|share|proportion)"
        ),
    ),
    (
        "list",
        re.compile(
            r"哪[些几]|哪[一二三四五六七八九十两]+[种类个项大]|分别|包括什么|\bwhat are\b|\bwhich (?:are|were)\b|\blist\b"
        ),
    ),
]

_DATE = re.compile(r"\d{4}\s*年|\d{1,2}\s*月|\d{1,2}\s*日|[今去前明]年|年[初底末中]|(?:19|20)\d{2}")
_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两半]+[个家项款种倍成类大%]|[十百千万亿]|%|percent")
_PERSON = re.compile(
    r"(?:局长|署长|书记|市长|省长|区长|县长|主任|院长|所长|董事长|总经理|总裁|执笔人|创始人|教授|研究员|记者|编辑|处长|部长|秘书长|会长)"
    r"[:：\s]*[\u4e00-\u9fff]{2,3}(?![\u4e00-\u9fff]*(?:表示|认为|指出|介绍|说|坦言|提出|称))"
    r"|[\u4e00-\u9fff]{2,3}(?:说|表示|认为|指出|介绍|坦言)"
)
_PLACE = re.compile(
    r"[\u4e00-\u9fff]{1,6}(?:省|市|县|区|镇|州|新区|园区)|上海|北京|天津|重庆|杭州|南京|合肥|苏州"
)
_TYPE_CHECKS: dict[AnswerType, re.Pattern[str]] = {
    "date": _DATE,
    "number": _NUMBER,
    "person": _PERSON,
    "place": _PLACE,
}
_ORDINAL_START = re.compile(
    r"^(?:[一二三四五六七八九十]是|其[一二三四五]|第[一二三四五六七八九十]|[（(][一二三四五六七八九十\d][)）]|\d+[、.．])"
)
_CLAUSE_BREAK = re.compile(r"[,，;；:：]")

MAX_SENTENCE_CHARS = 120
MAX_ANSWER_CHARS = 220


def answer_type(query: Query) -> AnswerType:
    text = query.normalized
    for kind, cue in _TYPE_CUES:
        if cue.search(text):
            return kind
    return "other"


@dataclass
class _Candidate:
    passage_rank: int
    start: int  # offsets into the document
    end: int
    text: str  # cleaned original text of the sentence
    normalized: str
    coverage: float
    context_coverage: float
    typed: bool
    score: float


class ExtractiveAnswerer:
    """Compose a one-to-three-sentence answer from retrieved sentences, or refuse."""

    name = "extractive"

    def __init__(
        self,
        idf: Callable[[list[str]], np.ndarray],
        min_coverage: float = 0.45,
        min_typed_coverage: float = 0.2,
    ) -> None:
        self._idf = idf
        self.min_coverage = min_coverage
        self.min_typed_coverage = min_typed_coverage

    def answer(self, query: Query, passages: list[Passage]) -> Draft:
        concepts = self._concepts(query)
        if not concepts or not passages:
            return refusal(query)
        kind = answer_type(query)
        candidates = self._candidates(query, passages, concepts, kind)
        if not candidates:
            return refusal(query)
        best = max(candidates, key=lambda c: c.score)
        if not self._answers(best, kind):
            return refusal(query)
        chosen = [best, *self._companions(best, candidates, passages, kind)]
        return self._compose(query, chosen, passages)

    def stream(self, query: Query, passages: list[Passage]) -> Iterator[str | Draft]:
        return stream_whole(self.answer(query, passages))

    def _concepts(self, query: Query) -> list[tuple[str, float]]:
        tokens = list(dict.fromkeys(query.tokens))
        if not tokens:
            return []
        weights = self._idf(tokens)
        return list(zip(tokens, weights.tolist(), strict=True))

    @staticmethod
    def _coverage(concepts: list[tuple[str, float]], text: str) -> float:
        total = sum(weight for _, weight in concepts)
        found = sum(weight for token, weight in concepts if token in text)
        return found / total if total else 0.0

    def _candidates(
        self, query: Query, passages: list[Passage], concepts: list[tuple[str, float]], kind: AnswerType
    ) -> list[_Candidate]:
        check = _TYPE_CHECKS.get(kind)
        candidates = []
        for rank, passage in enumerate(passages):
            context = normalize(clean(passage.text))
            context_coverage = self._coverage(concepts, context)
            for start, end in passage.sentences:
                text = clean(passage.text[start - passage.start : end - passage.start]).strip()
                if not text:
                    continue
                normalized = normalize(text)
                coverage = self._coverage(concepts, normalized)
                typed = bool(check.search(normalized)) if check else True
                score = coverage + 0.25 * context_coverage + (0.15 if typed and check else 0.0) - 0.03 * rank
                candidates.append(
                    _Candidate(rank, start, end, text, normalized, coverage, context_coverage, typed, score)
                )
        return candidates

    def _answers(self, candidate: _Candidate, kind: AnswerType) -> bool:
        if kind in _TYPE_CHECKS:
            return candidate.typed and candidate.coverage >= self.min_typed_coverage
        return candidate.coverage >= self.min_coverage

    def _companions(
        self, best: _Candidate, candidates: list[_Candidate], passages: list[Passage], kind: AnswerType
    ) -> list[_Candidate]:
        """Further sentences: the rest of an enumeration for list questions, else one that adds coverage."""
        same_passage = [c for c in candidates if c.passage_rank == best.passage_rank and c.start > best.start]
        if (kind == "list" and _ORDINAL_START.match(best.text)) or any(
            _ORDINAL_START.match(c.text) for c in same_passage[:1]
        ):
            siblings = [c for c in same_passage if _ORDINAL_START.match(c.text)]
            return siblings[:3] if kind == "list" else []
        del passages
        return []

    def _compose(self, query: Query, chosen: list[_Candidate], passages: list[Passage]) -> Draft:
        numbers: dict[int, int] = {}
        highlights: dict[int, list[tuple[int, int]]] = {}
        parts = []
        for candidate in chosen:
            n = numbers.setdefault(candidate.passage_rank, len(numbers) + 1)
            highlights.setdefault(candidate.passage_rank, []).append((candidate.start, candidate.end))
            excerpt = _excerpt(candidate, ordinal=len(chosen) > 1)
            parts.append(f"{to_language(excerpt, query.language)} [{n}]")
        citations = [
            citation_for(n, passages[rank], highlights[rank])
            for rank, n in sorted(numbers.items(), key=lambda x: x[1])
        ]
        return Draft(answer=" ".join(parts), answerable=True, citations=citations)


def _excerpt(candidate: _Candidate, ordinal: bool) -> str:
    """The sentence, or for a long one the clauses around its most relevant part."""
    text = candidate.text
    if ordinal:
        clauses = _CLAUSE_BREAK.split(text)
        return clauses[0].strip()
    if len(text) <= MAX_SENTENCE_CHARS:
        return text
    return text[:MAX_SENTENCE_CHARS].rstrip() + "…"
