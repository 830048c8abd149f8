"""Extractive answers chosen by the answer model: quote the sentences most likely to answer, or refuse.

Two decisions, both learned (see `scripts/train_answerer.py`): which retrieved sentence answers
(a ranking over sentence features), and whether any does (a calibrated probability over
question-level evidence, with one threshold). Quotes are verbatim spans of the passages, so every
citation and highlight is exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..answering import Draft, citation_for, refusal, stream_whole
from ..chinese import clean, normalize, to_simplified
from ..models import Passage
from ..retrieval import Query
from .features import (
    KNOWN_OR_REFUSED,
    Candidate,
    Idf,
    QuestionTerms,
    candidates,
    kinds_held,
    kinds_lacking,
    matched,
    question_features,
    question_terms,
    sentence_features,
    share,
    tagged_names,
)
from .model import AnswerModel, load_model

MAX_SENTENCES = 3
# Longer sentences are cut to the run of clauses around the one that best matches the question,
# which keeps the median answer short without cutting a typical answer in half.
MAX_SENTENCE_CHARS = 100
_CLAUSE_BREAK = re.compile(r"[,，;；:：]")
# Why a question about a place or organization the corpus never names is refused, in its language.
UNKNOWN_NAME_NOTICES = {
    "zh-Hans": "语料中没有出现“{}”。",
    "zh-Hant": "語料中沒有出現「{}」。",
    "en": "The corpus never names {}.",
}
# Why a follow-up is refused by a check (ExtractiveAnswerer.decide): the sentences found give no
# thing of the kind it asks for, or do not name a name it typed.
LACKING_NOTICES = {
    "zh-Hans": "找到的句子没有给出所问的{}。",
    "zh-Hant": "找到的句子沒有給出所問的{}。",
    "en": "The sentences found give no {} for this question.",
}
KIND_WORDS = {
    "date": {"zh-Hans": "日期", "zh-Hant": "日期", "en": "date"},
    "number": {"zh-Hans": "数字", "zh-Hant": "數字", "en": "number"},
    "person": {"zh-Hans": "人名", "zh-Hant": "人名", "en": "person"},
}
UNNAMED_NOTICES = {
    "zh-Hans": "找到的句子没有提到“{}”。",
    "zh-Hant": "找到的句子沒有提到「{}」。",
    "en": "The sentences found do not mention {}.",
}


@dataclass(frozen=True)
class Decision:
    """What the model concluded about one question and its passages."""

    probability: float  # that some retrieved sentence answers the question
    answerable: bool
    ranked: list[tuple[Candidate, float]]  # candidates with their sentence probabilities, best first
    terms: QuestionTerms
    lacking: tuple[str, ...] = ()  # a follow-up's asked kinds no quote holds
    unnamed: str = ""  # a name the follow-up typed that no quote names


class ExtractiveAnswerer:
    """Quote one to three retrieved sentences, each ending in its [n], or refuse."""

    name = "extractive"

    def __init__(
        self,
        idf: Idf,
        embedder: str,
        model: AnswerModel | None = None,
        threshold: float | None = None,
    ) -> None:
        self._idf = idf
        self._embedder = embedder
        self._model = model
        self._threshold = threshold

    @property
    def model(self) -> AnswerModel:
        """Read on first use, so an index can be built (and the model trained) without one."""
        if self._model is None:
            self._model = load_model(self._embedder)
        return self._model

    @property
    def threshold(self) -> float:
        return self.model.threshold if self._threshold is None else self._threshold

    def decide(self, query: Query, passages: list[Passage]) -> Decision:
        # Another embedder's cosine is on another scale; the model was also trained without one.
        if self._embedder != self.model.embedder:
            passages = [p.model_copy(update={"dense": None}) for p in passages]
        terms = question_terms(query, self._idf)
        found = candidates(passages)
        rows = sentence_features(query, terms, passages, found)
        logits = self.model.sentence.logits(rows)
        question = question_features(query, terms, passages, found, rows, logits)
        probability = float(self.model.answerable.probabilities(question[None, :])[0])
        sentence_probabilities = 1.0 / (1.0 + np.exp(-logits))
        order = np.argsort(-logits, kind="stable")
        ranked = [(found[i], float(sentence_probabilities[i])) for i in order]
        answerable = bool(found) and probability >= self.threshold and not terms.unknown_names
        lacking, unnamed = (), ""
        # A follow-up carries its subject's words in from the conversation, so a sentence about the
        # subject covers it well whether or not it gives the detail asked (see FOLLOW_UP_KINDS).
        if answerable and query.follow_up:
            quoted = self.best_first(ranked)
            # After "那X呢？" a quote that never names X is about the entity asked before; so for any
            # name the follow-up typed. A quote naming no place or organization of its own may
            # refer back to one in the sentence before it ("X…。该局…").
            place = {(c.passage_rank, c.position): c for c in found}
            before = [
                place.get((c.passage_rank, c.position - 1))
                for c in quoted
                if not any(tag in KNOWN_OR_REFUSED for _, tag in tagged_names(c.normalized))
            ]
            named = [c.normalized for c in [*quoted, *before] if c is not None]
            unnamed = next(
                (
                    name.surface
                    for name in query.typed_names
                    if not any(form in text for form in name.forms for text in named)
                ),
                "",
            )
            # A person carried in for 他 may be named a sentence or two from the quote ("…。"X"，
            # 周威说"), but not outside its passage: "他的办公室在几楼？" quoting another passage
            # answers about someone else.
            if not unnamed:
                texts = [normalize(clean(passages[r].text)) for r in {c.passage_rank for c in quoted}]
                unnamed = next((n for n in query.carried_people if not any(n in t for t in texts)), "")
            lacking = kinds_lacking(terms, [c.normalized for c in quoted])
            answerable = not unnamed and not lacking
        return Decision(probability, answerable, ranked, terms, lacking, unnamed)

    def answer(self, query: Query, passages: list[Passage]) -> Draft:
        decision = self.decide(query, passages)
        if not decision.answerable:
            return refusal(query, _why(query, decision))
        return self._compose(query, self._chosen(decision), decision.terms, passages)

    def stream(self, query: Query, passages: list[Passage]) -> Iterator[str | Draft]:
        return stream_whole(self.answer(query, passages))

    def best_first(self, ranked: list[tuple[Candidate, float]]) -> list[Candidate]:
        """The best sentence, and up to two more the model rates nearly as likely to be the answer."""
        return companions(ranked, self.model.companion_ratio)

    def _chosen(self, decision: Decision) -> list[Candidate]:
        """The sentences quoted, in reading order."""
        chosen = self.best_first(decision.ranked)
        best = chosen[0]
        # Read in the order of the passages, and of the document within one.
        return sorted(chosen, key=lambda c: (c.passage_rank != best.passage_rank, c.passage_rank, c.start))

    def _compose(
        self, query: Query, chosen: list[Candidate], terms: QuestionTerms, passages: list[Passage]
    ) -> Draft:
        numbers: dict[int, int] = {}
        highlights: dict[int, list[tuple[int, int]]] = {}
        parts = []
        for candidate in chosen:
            n = numbers.setdefault(candidate.passage_rank, len(numbers) + 1)
            highlights.setdefault(candidate.passage_rank, []).append((candidate.start, candidate.end))
            excerpt = excerpt_of(candidate.text, lambda clause: _clause_score(terms, clause))
            # A Simplified question gets Simplified text (Traditional→Simplified is lossless in
            # practice); other quotes stay as their source has them, since Simplified→Traditional
            # can corrupt names (s2t turns the surname 余 into 餘).
            if query.language == "zh-Hans":
                excerpt = to_simplified(excerpt)
            parts.append(f"{excerpt} [{n}]")
        citations = [citation_for(n, passages[rank], highlights[rank]) for rank, n in numbers.items()]
        return Draft(answer=" ".join(parts), answerable=True, citations=citations)


def _why(query: Query, decision: Decision) -> list[str]:
    """Notices saying why the question was refused, where a check (not the model) refused it."""
    language = query.language
    notices = [
        UNKNOWN_NAME_NOTICES[language].format(as_written(query.text, n)) for n in decision.terms.unknown_names
    ]
    if decision.unnamed:
        notices.append(UNNAMED_NOTICES[language].format(decision.unnamed))
    elif decision.lacking:
        separator = " / " if language == "en" else "、"
        kinds = separator.join(KIND_WORDS[kind][language] for kind in decision.lacking)
        notices.append(LACKING_NOTICES[language].format(kinds))
    return notices


def companions(ranked: list[tuple[Candidate, float]], ratio: float) -> list[Candidate]:
    """The best candidate and up to two more whose probability is at least `ratio` of the best's."""
    best_probability = ranked[0][1]
    chosen: dict[str, Candidate] = {}
    for candidate, probability in ranked:
        if len(chosen) == MAX_SENTENCES or probability < ratio * best_probability:
            break
        # The same sentence retrieved from two copies of a report is quoted once.
        chosen.setdefault(candidate.normalized, candidate)
    return list(chosen.values())


def as_written(text: str, normalized: str) -> str:
    """The span of the text that normalizes to `normalized` (a name in the question's own script)."""
    n = len(normalized)
    return next(
        (text[i : i + n] for i in range(len(text) - n + 1) if normalize(text[i : i + n]) == normalized),
        normalized,
    )


def _clause_score(terms: QuestionTerms, clause: str) -> float:
    normalized = normalize(clause)
    return share(terms, matched(terms, normalized)) + (0.5 if kinds_held(terms, normalized) else 0.0)


def excerpt_of(text: str, clause_score: Callable[[str], float]) -> str:
    """The sentence, or for a long one the run of clauses around its best-scoring clause."""
    if len(text) <= MAX_SENTENCE_CHARS:
        return text
    bounds = [0, *(m.end() for m in _CLAUSE_BREAK.finditer(text)), len(text)]
    clauses = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1) if bounds[i] < bounds[i + 1]]
    best = max(range(len(clauses)), key=lambda i: clause_score(text[clauses[i][0] : clauses[i][1]]))
    first = last = best
    grown = True
    while grown:
        grown = False
        for candidate_first, candidate_last in ((first - 1, last), (first, last + 1)):
            if (
                candidate_first >= 0
                and candidate_last < len(clauses)
                and clauses[candidate_last][1] - clauses[candidate_first][0] <= MAX_SENTENCE_CHARS
            ):
                first, last, grown = candidate_first, candidate_last, True
                break
    start, end = clauses[first][0], clauses[last][1]
    return ("…" if start > 0 else "") + text[start:end].rstrip(",，;；:：") + ("…" if end < len(text) else "")
