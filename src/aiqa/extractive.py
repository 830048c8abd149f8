"""Extractive answers: pick the sentences of the retrieved passages that answer the question.

Refusal is decided here, in code. A sentence is an answer only when it covers enough of the
question's weighted terms *and* holds what the question asks for (a date for "when", a quantity
for "how many", a person for "who", a place for "where"). Relevance alone cannot tell an
unanswerable question about a well-covered entity from an answerable one; the type check can.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import numpy as np

from .answering import Draft, citation_for, refusal, stream_whole
from .chinese import clean, normalize, stopwords, to_simplified
from .models import Passage
from .retrieval import Query

AnswerType = Literal["date", "number", "person", "place", "name", "comparison", "list", "other"]

_TYPE_CUES: list[tuple[AnswerType, re.Pattern[str]]] = [
    (
        "comparison",
        re.compile(
            r"相比|比较|哪[一]?[个座家].{0,16}(?:更|最)|\b(?:more|fewer|less|larger|bigger|higher) than\b|\bcompared\b"
        ),
    ),
    (
        "date",
        re.compile(
            r"何时|什么时候|什么时间|哪一?天|哪一?年|哪个月|几月|几号|日期|\bwhen\b|what (?:year|date|month)|which (?:year|month|day)|month and year"
        ),
    ),
    ("name", re.compile(r"叫什么|名称|名字|称为什么|\bwhat is the name\b|\bwhat is it called\b|\bcalled\b")),
    (
        "person",
        re.compile(
            r"谁|哪位|何人|\bwho\b|\bwhom\b|\bwhich (?:\w+ )?(?:official|person|expert|researcher|scholar|professor"
            r"|director|mayor|leader|head|chief|secretary|minister|manager|founder|author|journalist|reporter)\b"
        ),
    ),
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
_YEAR = re.compile(r"(?:19|20)\d{2}\s*年")
_NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两半]+[个家项款种倍成类大%]|[十百千万亿]|%|percent")
_SPEECH = r"(?:说|表示|认为|指出|介绍|坦言|提出|称|强调|解释|判断)"
# Titles that name one person; a question asking for one is answered only by a sentence naming it.
_TITLES = r"局长|署长|书记|市长|省长|区长|县长|主任|院长|所长|董事长|总经理|总裁|执笔人|创始人|处长|部长|秘书长|会长"
_TITLE = re.compile(_TITLES)
_PERSON = re.compile(
    rf"(?:{_TITLES}|教授|研究员|记者|编辑|负责人|专家|官员)"
    rf"[:：\s]*(?!{_SPEECH}|曾|在|也|就|对|等|的|和|与)[\u4e00-\u9fff]{{2,3}}"
    rf"|(?:^|[,，。;；”\"])(?![把被让对在从向给和与跟将为再也就都还])[\u4e00-\u9fff]{{2,3}}{_SPEECH}"
)
# English names are recognized in the cleaned original text, where capital letters survive.
_ENGLISH_PERSON = re.compile(
    r"\b(?:[Dd]irector|[Mm]ayor|[Mm]inister|[Cc]hief|[Hh]ead|[Pp]resident|[Ss]ecretary|[Pp]rofessor|CEO|[Ff]ounder|[Cc]hair)"
    r"\b[^.;]{0,30}?\b[A-Z][a-z]+(?: [A-Z][a-z]+)+"
    r"|\b[A-Z][a-z]+ [A-Z][a-z]+,? (?:said|says|told|noted|explained|argued)\b"
)
_LIST = re.compile(r"、|；|;|[一二三四五六七八九十]是")
_NAME = re.compile(r"[“「《\"][^”」》\"]{2,40}[”」》\"]|[A-Za-z][A-Za-z0-9-]{2,}")


@cache
def _known_places() -> frozenset[str]:
    lines = resources.files("aiqa").joinpath("data/places.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(word for line in lines if not line.startswith("#") for word in line.split())


def _place_pattern() -> re.Pattern[str]:
    return re.compile(
        r"[\u4e00-\u9fff]{1,6}(?:省|市|县|区|镇|州|新区|园区)|"
        + "|".join(sorted(_known_places(), key=len, reverse=True))
    )


_PLACE = _place_pattern()
_TYPE_CHECKS: dict[AnswerType, re.Pattern[str]] = {
    "date": _DATE,
    "number": _NUMBER,
    "person": _PERSON,
    "place": _PLACE,
    "name": _NAME,
    "list": _LIST,
}
_ORDINAL_START = re.compile(
    r"^(?:[一二三四五六七八九十]是|其[一二三四五]|第[一二三四五六七八九十]|[（(][一二三四五六七八九十\d][)）]|\d+[、.．])"
)
# Known place names, and words ending in an administrative suffix, anchor a question to a place:
# a sentence about another place does not answer it, however similar the rest is.
_ADMINISTRATIVE = re.compile(r"^[\u4e00-\u9fff]{2,}(?:省|市|县|区|州)$")
_GENERIC_AREA = re.compile(
    r"(?:自治|新|园|城|地|市|县|辖|社|示范|试验|先导|集聚|承载|核心|开发|高新|保税|自贸|功能|片|街|本|我|该|全)区$|城市$"
)
_CLAUSE_BREAK = re.compile(r"[,，;；:：]")

MAX_SENTENCES = 3
MAX_ENUMERATION = 4
ENUMERATION_REACH = 600  # characters after its lead within which an enumeration's items are looked for
# A companion sentence must add at least this share of the question's weight, and be at least
# this relevant relative to the best sentence.
COMPANION_GAIN = 0.12
COMPANION_RELEVANCE = 0.6
MAX_SENTENCE_CHARS = 100


def answer_type(query: Query) -> AnswerType:
    text = query.normalized
    for kind, cue in _TYPE_CUES:
        if cue.search(text):
            # "局长叫什么名字" asks for a person, not for the name of a thing.
            return "person" if kind == "name" and _TITLE.search(text) else kind
    return "other"


# What a how-many question counts or measures: "多少家企业" counts 企业, "产值是多少" measures 产值.
# The answer must count or measure the same thing.
_COUNTED = re.compile(
    r"(?:多少|几)[个家名位款项种座所条次只台部件批]?(?![万亿千百元倍%])([\u4e00-\u9fff]{2})"
)
_MEASURED = re.compile(
    r"([\u4e00-\u9fff]{2})(?:是|为|有|约|达|达到|增长|增长到|增长了|突破|超过|共|累计)?了?(?:多少|多大|多高)"
)


def _requirements(query: Query, kind: AnswerType) -> list[str]:
    """Words the answering sentence must contain beyond its type: the title asked for, the thing counted."""
    if kind == "person":
        return _TITLE.findall(query.normalized)[:1]
    if kind == "number":
        counted = _COUNTED.search(query.normalized) or _MEASURED.search(query.normalized)
        return [counted.group(1)] if counted and counted.group(1) not in stopwords() else []
    return []


@dataclass
class _Candidate:
    passage_rank: int
    doc: str
    start: int  # offsets into the document
    end: int
    text: str  # cleaned original text of the sentence
    coverage: float  # weighted share of the question's terms in the sentence
    context_coverage: float  # the same over the whole passage
    typed: bool  # holds what the question asks for
    matched: frozenset[int]  # which of the question's terms the sentence holds

    @property
    def relevance(self) -> float:
        """Sentence coverage, softened by its passage: an answer often names its subject a sentence earlier."""
        return 0.7 * self.coverage + 0.3 * self.context_coverage

    absolute_date: bool = False  # names a year, not only 去年 or 今年

    @property
    def score(self) -> float:
        return self.relevance - 0.02 * self.passage_rank + (0.1 if self.absolute_date else 0.0)


class ExtractiveAnswerer:
    """Compose a one-to-three-sentence answer from retrieved sentences, or refuse.

    Thresholds were calibrated on the dev set (see README, "How refusal is decided"): the
    relevance a sentence needs depends on how much else vouches for it. A sentence that holds the
    asked-for type (a date, a number, a person...) needs little, since a paraphrased question
    shares few words with its answer; a comparison needs a third of the question; a question
    with no checkable type needs most of it. `detail_ratio`: when some sentence is about the
    question's subject but the best sentence holding the asked-for type is much less relevant
    than it, the corpus discusses the subject without giving that detail, and that is a refusal.
    """

    name = "extractive"

    def __init__(
        self,
        idf: Callable[[list[str]], np.ndarray],
        min_relevance: float = 0.6,
        min_comparison_relevance: float = 0.35,
        min_typed_relevance: float = 0.05,
        detail_ratio: float = 0.5,
    ) -> None:
        self._idf = idf
        self.min_relevance = min_relevance
        self.min_comparison_relevance = min_comparison_relevance
        self.min_typed_relevance = min_typed_relevance
        self.detail_ratio = detail_ratio

    def answer(self, query: Query, passages: list[Passage]) -> Draft:
        concepts = self._concepts(query)
        kind = answer_type(query)
        places = _places(query)
        # Each passage's indexed form, made once: the place check and the context coverage share it.
        contexts = [normalize(clean(p.text)) for p in passages]
        # Passages about none of the question's places cannot answer it.
        usable: list[Passage | None] = [
            p if not places or _mentions_any(normalize(p.title) + context, places) else None
            for p, context in zip(passages, contexts, strict=True)
        ]
        candidates = (
            self._candidates(usable, contexts, concepts, kind, _requirements(query, kind)) if concepts else []
        )
        best = self._best(candidates, kind)
        if best is None:
            return refusal(query)
        chosen = self._with_companions(best, candidates, concepts, kind)
        return self._compose(query, kind, chosen, concepts, usable)

    def stream(self, query: Query, passages: list[Passage]) -> Iterator[str | Draft]:
        return stream_whole(self.answer(query, passages))

    def _best(self, candidates: list[_Candidate], kind: AnswerType) -> _Candidate | None:
        if not candidates:
            return None
        most_relevant = max(candidates, key=lambda c: c.score)
        if kind not in _TYPE_CHECKS:
            needed = self.min_comparison_relevance if kind == "comparison" else self.min_relevance
            return most_relevant if most_relevant.relevance >= needed else None
        typed = [c for c in candidates if c.typed]
        if not typed:
            return None
        best = max(typed, key=lambda c: c.score)
        if best.relevance < self.min_typed_relevance:
            return None
        if most_relevant.coverage >= 0.5 and best.relevance < self.detail_ratio * most_relevant.relevance:
            return None
        return best

    def _concepts(self, query: Query) -> list[tuple[tuple[str, ...], float]]:
        """Each query term's forms, weighted by its rarest form's IDF (unknown words weigh most)."""
        return [(term.forms, float(self._idf(list(term.forms)).min())) for term in query.terms]

    @staticmethod
    def _matches(concepts: list[tuple[tuple[str, ...], float]], text: str) -> frozenset[int]:
        return frozenset(i for i, (forms, _) in enumerate(concepts) if any(form in text for form in forms))

    @staticmethod
    def _share(concepts: list[tuple[tuple[str, ...], float]], matched: frozenset[int]) -> float:
        total = sum(weight for _, weight in concepts)
        return sum(concepts[i][1] for i in matched) / total if total else 0.0

    def _candidates(
        self,
        passages: list[Passage | None],
        contexts: list[str],
        concepts: list[tuple[tuple[str, ...], float]],
        kind: AnswerType,
        required: list[str],
    ) -> list[_Candidate]:
        check = _TYPE_CHECKS.get(kind)
        candidates = []
        for rank, (passage, context) in enumerate(zip(passages, contexts, strict=True)):
            if passage is None:
                continue
            context_coverage = self._share(concepts, self._matches(concepts, context))
            texts = [
                clean(passage.text[start - passage.start : end - passage.start]).strip()
                for start, end in passage.sentences
            ]
            for position, ((start, end), text) in enumerate(zip(passage.sentences, texts, strict=True)):
                if not text:
                    continue
                normalized = normalize(text)
                typed = bool(check.search(normalized)) if check else True
                if kind == "person" and not typed:
                    typed = bool(_ENGLISH_PERSON.search(text))
                typed = typed and all(word in normalized for word in required)
                if kind == "list" and position + 1 < len(texts):
                    typed = typed or bool(_ORDINAL_START.match(texts[position + 1]))  # it introduces a list
                matched = self._matches(concepts, normalized)
                coverage = self._share(concepts, matched)
                candidates.append(
                    _Candidate(
                        rank,
                        passage.doc,
                        start,
                        end,
                        text,
                        coverage,
                        context_coverage,
                        typed,
                        matched,
                        absolute_date=kind == "date" and bool(_YEAR.search(normalized)),
                    )
                )
        return candidates

    def _with_companions(
        self,
        best: _Candidate,
        candidates: list[_Candidate],
        concepts: list[tuple[tuple[str, ...], float]],
        kind: AnswerType,
    ) -> list[_Candidate]:
        """The best sentence plus up to two that cover what it leaves out (the other side of a
        comparison, the second hop of a multi-part question), and for a list question the items
        of an enumeration (一是…二是…) that a chosen sentence introduces. In document order."""
        chosen = [best]
        covered = set(best.matched)
        for _ in range(MAX_SENTENCES - 1):
            gains = [
                (self._share(concepts, frozenset(c.matched - covered)), c)
                for c in candidates
                if c not in chosen and c.typed and c.relevance >= COMPANION_RELEVANCE * best.relevance
            ]
            gain, companion = max(gains, key=lambda pair: (pair[0], pair[1].score), default=(0.0, None))
            if companion is None or gain < COMPANION_GAIN:
                break
            chosen.append(companion)
            covered |= companion.matched
        if kind == "list":
            chosen = self._enumerations(chosen, candidates)
        return sorted(chosen, key=lambda c: (c.passage_rank != best.passage_rank, c.passage_rank, c.start))

    @staticmethod
    def _enumerations(chosen: list[_Candidate], candidates: list[_Candidate]) -> list[_Candidate]:
        """Add the items of an enumeration (一是…二是…) that a chosen sentence introduces or starts."""
        for lead in chosen:
            following: dict[int, _Candidate] = {}
            for c in sorted(candidates, key=lambda c: c.passage_rank):
                if c.doc == lead.doc and lead.start < c.start <= lead.end + ENUMERATION_REACH:
                    following.setdefault(c.start, c)
            ordered = [following[start] for start in sorted(following)]
            # Items are sentences with content, not numbered headings.
            items = [c for c in ordered if _ORDINAL_START.match(c.text) and _CLAUSE_BREAK.search(c.text)]
            if len(items) > 1 and (ordered[0] is items[0] or _ORDINAL_START.match(lead.text)):
                return [*chosen, *items[:MAX_ENUMERATION]]
        return chosen

    def _clause_score(
        self, clause: str, concepts: list[tuple[tuple[str, ...], float]], kind: AnswerType
    ) -> float:
        normalized = normalize(clause)
        check = _TYPE_CHECKS.get(kind)
        typed = 0.5 if check and check.search(normalized) else 0.0
        return self._share(concepts, self._matches(concepts, normalized)) + typed

    def _compose(
        self,
        query: Query,
        kind: AnswerType,
        chosen: list[_Candidate],
        concepts: list[tuple[tuple[str, ...], float]],
        passages: Sequence[Passage | None],
    ) -> Draft:
        numbers: dict[int, int] = {}
        highlights: dict[int, list[tuple[int, int]]] = {}
        parts = []
        for candidate in chosen:
            n = numbers.setdefault(candidate.passage_rank, len(numbers) + 1)
            highlights.setdefault(candidate.passage_rank, []).append((candidate.start, candidate.end))
            excerpt = _excerpt(candidate.text, lambda clause: self._clause_score(clause, concepts, kind))
            # A Simplified question gets Simplified text (Traditional→Simplified is lossless in
            # practice); other quotes stay as their source has them, since Simplified→Traditional
            # can corrupt names (s2t turns the surname 余 into 餘).
            if query.language == "zh-Hans":
                excerpt = to_simplified(excerpt)
            parts.append(f"{excerpt} [{n}]")
        cited = {
            rank: passage for rank, passage in enumerate(passages) if passage is not None and rank in numbers
        }
        citations = [citation_for(n, cited[rank], highlights[rank]) for rank, n in numbers.items()]
        return Draft(answer=" ".join(parts), answerable=True, citations=citations)


def _places(query: Query) -> list[tuple[str, ...]]:
    return [
        term.forms
        for term in query.terms
        if any(
            form in _known_places() or (_ADMINISTRATIVE.match(form) and not _GENERIC_AREA.search(form))
            for form in term.forms
        )
    ]


def _mentions_any(text: str, places: list[tuple[str, ...]]) -> bool:
    return any(form in text for forms in places for form in forms)


def _excerpt(text: str, clause_score: Callable[[str], float]) -> str:
    """The sentence, or for a long one the run of clauses around its best-scoring clause."""
    if len(text) <= MAX_SENTENCE_CHARS:
        return text
    bounds = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(text)), len(text)]
    clauses = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i] < bounds[i + 1]]
    best = max(range(len(clauses)), key=lambda i: clause_score(text[clauses[i][0] : clauses[i][1]]))
    first = last = best
    while True:
        grown = False
        for candidate_first, candidate_last in ((first - 1, last), (first, last + 1)):
            if (
                candidate_first >= 0
                and candidate_last < len(clauses)
                and clauses[candidate_last][1] - clauses[candidate_first][0] <= MAX_SENTENCE_CHARS
            ):
                first, last, grown = candidate_first, candidate_last, True
                break
        if not grown:
            break
    start, end = clauses[first][0], clauses[last][1]
    return ("…" if start > 0 else "") + text[start:end].rstrip(",，;；:：") + ("…" if end < len(text) else "")
