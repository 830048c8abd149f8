"""Checking a generated answer's citations against the passages they point at.

The model is asked to end every sentence with `[n]`; nothing it writes is trusted. A marker must
name a passage that exists, and the passages a sentence cites must hold its words: enough of the
claim's character bigrams (normalized text) must occur in them, every number of the claim must be
among theirs, and the claim must add nothing they do not hold: no content word (a word they do not
contain, unless CC-CEDICT gives it a sense of one of their words: 设立 for 成立, never 撤销), no
negation or modality, and must not drop a negation of theirs. An English claim about Chinese
passages is compared through CC-CEDICT glosses and the pinyin of the passages' words, since bigrams
cannot cross languages. A sentence that repeats the model's
instructions is never part of the answer, whatever it cites.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from .answering import REFUSALS, Draft, citation_for, refusal
from .chinese import (
    NON_WORD,
    Language,
    cedict_entries,
    char_bigrams,
    detect_language,
    normalize,
    pinyin_readings,
    stopwords,
    words,
)
from .lexicon import MONTHS, lemmas
from .models import Passage
from .retrieval import Query

UnsupportedPolicy = Literal["drop", "mark"]

# Share of the claim's units (bigrams, or English content words) that the cited passages must hold.
MIN_SUPPORT = {"zh": 0.5, "en": 0.5}
# Every clause (between commas) of at least MIN_CLAUSE_UNITS units must be held this far (0.3: the
# bigrams of a reordered paraphrase; tuned on the cmrc-trial claims, as MAX_ADDED_COMMON below).
MIN_CLAUSE = 0.3
MIN_CLAUSE_UNITS = 4
# A cited passage that does not hold the whole claim must hold this much of one of its clauses.
MIN_CLAUSE_ALONE = 0.8
# Notices quote a removed sentence up to this many characters: enough to recognize it, while a
# runaway sentence cannot blow up the answer's JSON.
NOTICE_EXCERPT = 80
# What a claim may add beyond what its passages hold. No noun or name (a noun to jieba, or a word
# CC-CEDICT lacks or gives as a proper noun), negation or modality; a few other words (an LLM's
# "目前", "用来"), but never most of a clause's content words, nor its last: that clause is a new
# statement. Tuned on the cmrc-trial claims of
# benchmarks/data/citecheck_claims.jsonl (dev and drcd-dev held out): benchmarks/citecheck_claims.py.
MAX_ADDED_COMMON = {"zh": 1, "en": 1}
# A clause is a new statement when more than this share of its content words is new: one new word
# of two is a paraphrase's (属于龙占鱼科 for 为…龙占鱼科, on the tuning claims).
MAX_CLAUSE_ADDED = 0.5
# An English claim rewords more of its Chinese passages (verbs and nouns without a matching gloss):
# it may add one more such word per EN_CONTENT_PER_ADDED content words, while its last content word
# must still be held. Tuned on benchmarks/data/citecheck_tuning.jsonl (4 and 5 let an invented event
# through, 8 drops more paraphrases); the same allowance for Chinese claims (one per 8 to 12 words)
# let invented events through on the generated claims, so Chinese claims have none.
EN_CONTENT_PER_ADDED = 6
# A new word between two words the passages have this close together replaced what stood there.
MAX_SWAP_CHARS = 8
MIN_CLAUSE_WORDS = 2
# Characters that jieba's dictionary glues to a word without adding to what it says: the passive and
# nominalizing 被/所 before it, a preposition or result complement after it (于, 到, 为, 至, 给, 成),
# the adverbial 地 (流利地).
LEADING_FUNCTION = "被所"
TRAILING_FUNCTION = "于到为至给成地"
# A sentence is the instructions repeated when this share of its units occurs in them.
INSTRUCTION_SHARE = 0.6
MIN_INSTRUCTION_UNITS = 3
# Words that turn a statement into its denial or a possibility; a claim may use one only where its
# passages use it before the same word.
NEGATIONS = frozenset(
    [
        "不",
        "没",
        "没有",
        "未",
        "无",
        "非",
        "并非",
        "否",
        "别",
        "勿",
        "从未",
        "从来不",
        "不再",
        "尚未",
        "无法",
        "不能",
        "不会",
        "不是",
    ]
)
# Modal words by what they say: a claim's modal is held by any of its kind in the passages (可 for
# 能 "也可治疗" / "也能治疗"), never by one of another kind (可能 for 必须).
MODAL_KINDS = [
    frozenset(["可", "可以", "能", "能够"]),
    frozenset(["将", "将会", "会"]),
    frozenset(["应", "应该", "应当", "必须"]),
    frozenset(["可能", "也许", "或许", "大概"]),
    frozenset(["拟", "计划", "预计", "估计"]),
    frozenset(["据说", "据称"]),
]
MODALS = frozenset().union(*MODAL_KINDS)
# A negation of the passages reaches a word this many words after it (尚未/由/人工: 人工; 不/带有/
# 气味). Three is the smallest reach that covers the tuning claims' denials with a preposition or
# a verb between (benchmarks/data/citecheck_tuning.jsonl); a longer one reaches past the phrase.
NEGATION_REACH = 3
EN_NEGATIONS = frozenset(["not", "no", "never", "none", "nothing", "neither", "nor", "cannot", "without"])
EN_MODALS = frozenset(
    [
        "may",
        "might",
        "could",
        "would",
        "should",
        "must",
        "will",
        "shall",
        "likely",
        "possibly",
        "perhaps",
        "probably",
    ]
)
# Names of two or three syllables are compared with an English claim's words in pinyin; one
# syllable would match common English words (ban, men).
ROMANIZED_SYLLABLES = (2, 3)
# Words an LLM's answer uses to link its sentences or point back at what it named (因此, 此外, 那里,
# 这种); they state no fact of their own, so they are never an added word.
CONNECTIVES = frozenset(
    [
        "因此",
        "因而",
        "于是",
        "此外",
        "另外",
        "而且",
        "那里",
        "这里",
        "这种",
        "那种",
        "这些",
        "那些",
        "其中",
        "之一",
    ]
)
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
_LATIN = re.compile(r"[a-z]+")
_EN_NUMBERS = frozenset(
    [
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "hundred",
    ]
)
_NAME_WORD = re.compile(r"(?<=[A-Za-z0-9,;:)] )[A-Z][a-z]+")  # capitalized, not first in the sentence
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_DATE = re.compile(r"\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日")
_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*(万|亿|thousand|million|billion)")
_SCALE = {"万": 1e4, "亿": 1e8, "thousand": 1e3, "million": 1e6, "billion": 1e9}
# A month name counts as a number only next to a day or year ("May 2019", "27 May"), so the verb
# "may" does not demand a 5 in the passage.
_DATED_MONTH = re.compile(rf"\b({'|'.join(MONTHS)})\b(?=\.?\s+\d)|(?<=\d\s)({'|'.join(MONTHS)})\b")


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
    return NON_WORD.sub("", normalize(text))


def check_answer(
    answer: str,
    query: Query,
    passages: list[Passage],
    unsupported: UnsupportedPolicy = "drop",
    instructions: str = "",
) -> Draft:
    """The answer with every citation verified, renumbered by first use; notices say what was removed.

    `instructions` is what the model was told (system prompt and message framing): a sentence
    repeating it is dropped even where its passages happen to share its words.
    """
    if is_refusal(answer):
        return refusal(query)
    notices: list[str] = []
    numbers: dict[int, int] = {}  # passage index -> citation number
    highlights: dict[int, list[tuple[int, int]]] = {}
    parts: list[str] = []
    told = _instruction_units(instructions)
    for claim in split_claims(answer):
        if _repeats(claim.text, told):
            notices.append(f"Dropped a sentence that repeats the instructions: “{excerpt(claim.text)}”")
            continue
        missing = [n for n in claim.cited if not 1 <= n <= len(passages)]
        notices.extend(f"Removed citation [{n}]: there is no passage {n}." for n in missing)
        cited = [n - 1 for n in claim.cited if n not in missing]
        support = _Support(claim.text, [passages[i] for i in cited], query.normalized) if cited else None
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


@dataclass
class Added:
    """What a claim adds to its passages, by kind, and per clause which content words are new."""

    named: set[str] = field(default_factory=set)
    common: set[str] = field(default_factory=set)
    stance: set[str] = field(default_factory=set)  # negation or modality
    clauses: list[list[bool]] = field(default_factory=list)
    content: int = 0  # the claim's content words (English claims)

    def acceptable(self, mode: Literal["zh", "en"]) -> bool:
        # A clause ending on a new word states a new predicate (…已经被撤销, …因腐败被捕), however
        # much of its subject the passages hold.
        new_clause = any(
            len(clause) >= MIN_CLAUSE_WORDS and (sum(clause) > MAX_CLAUSE_ADDED * len(clause) or clause[-1])
            for clause in self.clauses
        )
        allowed = MAX_ADDED_COMMON[mode] + (self.content // EN_CONTENT_PER_ADDED if mode == "en" else 0)
        return not (self.named or self.stance or new_clause) and len(self.common) <= allowed


# Document span (None for the passage's title), the claim's units it holds, its normalized text.
_Sentence = tuple[tuple[int, int] | None, set[str], str]


class _Support:
    """How far a claim is held by the passages it cites, sentence by sentence.

    Numbers count as units (`#2025`) that must all be found, so a claim with a wrong year or
    amount fails however many of its words the passage shares.
    """

    def __init__(self, claim: str, passages: list[Passage], question: str = "") -> None:
        # The question's common words are no news in its answer (该品牌 for "此品牌…"); its names
        # are: the passages must hold them, or a question about 杭州 gets 温州's facts.
        self.asked = {w for w in _cut(question) if _is_content(w) and not _is_name(w)}
        self.mode: Literal["zh", "en"] = "en" if detect_language(claim) == "en" else "zh"
        self.capitalized = {w.lower() for w in _NAME_WORD.findall(claim)}
        normalized = self.normalized = normalize(claim)
        self.units = _claim_units(normalized, self.mode)
        # A well-supported clause must not carry an unsupported one past the whole-claim threshold.
        clauses = (_claim_units(c, self.mode) for c in _CLAUSE_BREAK.split(normalized))
        self.clauses = [units for units in clauses if len(units) >= MIN_CLAUSE_UNITS]
        tagged = [(w, "") for w in _LATIN.findall(normalized)] if self.mode == "en" else _tagged(normalized)
        self.words = [w for w, _ in tagged]
        self.nouns = {w for w, tag in tagged if tag.startswith("n")}
        self.passages: list[list[_Sentence]] = [
            [
                (None, self._found(title), title),
                *((span, self._found(text), text) for span, text in _sentences(p)),
            ]
            for p, title in ((p, normalize(p.title)) for p in passages)
        ]

    def _found(self, normalized: str) -> set[str]:
        """The claim's units that a (normalized) passage sentence contains."""
        numbers = {f"#{n:g}" for n in _numbers(normalized)}
        if self.mode == "zh":
            return self.units & (char_bigrams(normalized) | numbers)
        glossed = _glossed(normalized)
        return {u for u in self.units if u in numbers or any(form in glossed for form in _forms(u))}

    def _held(self, passages: list[list[_Sentence]]) -> set[str]:
        return set().union(*(units for sentences in passages for _, units, _ in sentences))

    def _covers(self, units: set[str], held: set[str], share: float) -> bool:
        numbers_held = all(unit in held for unit in units if unit.startswith("#"))
        return bool(units) and numbers_held and len(units & held) >= share * len(units)

    def _holds(self, passages: list[list[_Sentence]]) -> bool:
        held = self._held(passages)
        clauses_held = all(len(clause & held) >= MIN_CLAUSE * len(clause) for clause in self.clauses)
        return (
            self._covers(self.units, held, MIN_SUPPORT[self.mode])
            and clauses_held
            and self.added(passages).acceptable(self.mode)
        )

    def added(self, passages: list[list[_Sentence]]) -> Added:
        """What the claim states that the passages do not: words, names, negations, modality."""
        texts = [text for sentences in passages for _, _, text in sentences]
        added = Added()
        if self.mode == "en":
            glossed = set().union(*(_glossed(text) for text in texts)) if texts else set()
            content = {w for w in self.words if len(w) > 1 and w not in stopwords() and w not in MONTHS}
            unheld = {w for w in content if not set(_forms(w)) & glossed}
            # A capitalized word inside the sentence is a name: one the passages lack is a swapped
            # or invented entity (Geneva, Managua), not a paraphrase's word.
            added.named = unheld & (self.capitalized | _EN_NUMBERS)  # "six" for 四 is a changed number
            added.common = unheld - added.named
            added.content = len(content)
            # As in Chinese, a sentence ending on a new word states a new predicate ("... is a failure").
            last = [w for w in self.words if w in content][-1:]
            added.clauses = [[False, *(w in unheld for w in last)]] if last else []
            dates = {a or b for a, b in _DATED_MONTH.findall(self.normalized)}  # "in May 2019" is no modal
            added.stance = {w for w in self.words if w in EN_MODALS and w not in glossed and w not in dates}
            # A negation is held where the passages deny what follows it ("did not open" for 未开园),
            # not wherever one of their glosses says "not".
            denied = set().union(*(_denied_glosses(text) for text in texts)) if texts else set()
            for i, w in enumerate(self.words):
                after = [v for v in self.words[i + 1 :] if v not in stopwords() and len(v) > 1][:1]
                if w in EN_NEGATIONS and not (after and set(_forms(after[0])) & denied):
                    added.stance.add(w)
            return added
        joined = "\n".join(texts)
        # A date holds together: 2024年9月 is not held by a passage with 前年9月 and 2024年12月.
        added.named |= {date for date in _DATE.findall(self.normalized) if date not in joined}
        tokens = set().union(*(_words(text) for text in texts)) if texts else set()
        clause: list[bool] = []  # per content word of the current clause: whether it is added
        for i, word in enumerate(self.words):
            if _CLAUSE_BREAK.fullmatch(word):
                added.clauses.append(clause)
                clause = []
            elif word in NEGATIONS:
                # held only where the passages deny the same thing (没有 / 不带有 + 气味)
                following = self.words[i + 1] if i + 1 < len(self.words) else ""
                if word + following not in joined and not _negated_in(following, texts):
                    added.stance.add(word)
            elif word in MODALS:
                if not any(word in kind and any(m in joined for m in kind) for kind in MODAL_KINDS):
                    added.stance.add(word)
            elif _NUMBER.fullmatch(word):
                clause.append(False)  # numbers are checked on their own; one can end a held clause
            elif _is_content(word) and word not in CONNECTIVES:
                # The question's words and their synonyms are no news in its answer (举行 for 举办).
                new = word not in self.asked and not _held_word(word, joined, tokens | self.asked)
                clause.append(new)
                if new:
                    noun = word in self.nouns or _is_name(word)
                    # A word standing where the passages have another swapped it, unless it is a verb
                    # rewording that one (出任 for 担任; it still may not end its clause, see Added).
                    replaced = _replaced(self.words, i, joined)
                    named = noun or (replaced is not None and not _rewords(word, replaced))
                    (added.named if named else added.common).add(word)
        added.clauses.append(clause)
        # A claim asserting plainly what every passage mention denies (已经有人工引种 for 尚未由人工引种)
        # drops their negation, which is as much a change as adding one.
        for i, word in enumerate(self.words):
            earlier = self.words[max(0, i - NEGATION_REACH) : i]
            if (
                len(word) > 1
                and _CONTENT.search(word)
                and _negated_in(word, texts, always=True)
                and not NEGATIONS & set(earlier)
            ):
                added.stance.add(f"¬{word}")
        return added

    def holds(self) -> bool:
        return self._holds(self.passages)

    def supporting(self) -> list[list[tuple[int, int]] | None]:
        """Per cited passage, the sentences that hold the claim, or None when it does not support it.

        A passage supports the claim when it holds the claim, or nearly all of one of its clauses,
        by itself (then only those: a passage without the claim's date does not keep its marker on
        a date claim); else the passages holding nearly all of one of its clauses; else the fewest
        passages that hold it together (largest share first).
        """
        ok = [self._holds([p]) for p in self.passages]
        if not any(ok):  # no passage holds all of it: each keeps its marker for a clause it holds
            ok = [
                any(self._covers(c, self._held([p]), MIN_CLAUSE_ALONE) for c in self.clauses)
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
            span, units, _ = max(
                (s for s in sentences if s[0] is not None), key=lambda s: len((s[1] & self.units) - covered)
            )
            gain = (units & self.units) - covered
            if len(gain) < max(1, MIN_HIGHLIGHT_GAIN * len(self.units)):
                break
            chosen.append(span)  # type: ignore[arg-type]
            covered |= gain
        return sorted(chosen)


def _instruction_units(instructions: str) -> set[str]:
    normalized = normalize(instructions)
    return char_bigrams(normalized) | set(_LATIN.findall(normalized))


def _repeats(claim: str, told: set[str]) -> bool:
    """Whether the sentence is (mostly) the instructions: their bigrams or English words."""
    normalized = normalize(claim)
    units = set(_LATIN.findall(normalized)) if detect_language(claim) == "en" else char_bigrams(normalized)
    units = {u for u in units if u not in stopwords()}
    return len(units) >= MIN_INSTRUCTION_UNITS and len(units & told) >= INSTRUCTION_SHARE * len(units)


@cache
def _glossed(normalized: str) -> frozenset[str]:
    """Lemmas of the English glosses of a (normalized) Chinese text's words."""
    glossed = {form for word in words(normalized) for w in _LATIN.findall(_gloss(word)) for form in lemmas(w)}
    return frozenset(glossed | _romanized(normalized))


@cache
def _denied_glosses(normalized: str) -> frozenset[str]:
    """Lemmas of the glosses of the words a (normalized) Chinese text denies: those at most
    NEGATION_REACH words after one of its negations."""
    tokens = _cut(normalized)
    return frozenset(
        form
        for i, token in enumerate(tokens)
        if token in NEGATIONS
        for word in tokens[i + 1 : i + 1 + NEGATION_REACH]
        for w in _LATIN.findall(_gloss(word))
        for form in lemmas(w)
    )


def _forms(word: str) -> list[str]:
    """An English word's lemmas: a suffix strip's, lemminflect's for every part of speech (bought ->
    buy, left -> leave), the base of an adverb (officially -> official) and of a people's name
    (romanian -> romania), which no lemmatizer gives."""
    # Imported here: it takes a quarter of a second, and only English claims need it.
    from lemminflect import getAllLemmas

    forms = lemmas(word)
    forms += [lemma for found in getAllLemmas(word).values() for lemma in found if lemma not in forms]
    if word.endswith("ly") and len(word) > 5:
        forms.append(word[:-2])
    if word.endswith("an") and len(word) > 5:
        forms.append(word[:-1])
    return forms


def _romanized(normalized: str) -> set[str]:
    """Toneless pinyin of every run of ROMANIZED_SYLLABLES Chinese characters: an English claim
    spells names so (Renji for 仁济), and a name has no gloss."""
    readings = pinyin_readings()
    runs = re.findall(r"[\u3400-\u9fff]+", normalized)
    return {
        "".join(readings.get(char, "?") for char in run[i : i + n])
        for run in runs
        for n in ROMANIZED_SYLLABLES
        for i in range(len(run) - n + 1)
    }


def _cut(normalized: str, hmm: bool = True) -> list[str]:
    """jieba's words of the text (accurate mode: one segmentation, so a word's neighbour is known)."""
    from .chinese import _jieba

    return [w for w in _jieba().cut(normalized, HMM=hmm) if w.strip()]


def _tags() -> dict[str, str]:
    from .chinese import _tags

    return _tags()


def _tagged(normalized: str) -> list[tuple[str, str]]:
    """Words (with jieba's HMM: an unknown name is one word, 小泽治, not three characters a check
    would skip) and their dictionary part-of-speech tag ("" for words the dictionary lacks)."""
    tags = _tags()
    return [(w, tags.get(w) or "") for w in _cut(normalized)]


@cache
def _words(normalized: str) -> frozenset[str]:
    return frozenset(words(normalized))


def _is_content(word: str) -> bool:
    """A word that states something: not a stopword, a number, punctuation or a lone character."""
    if word in stopwords() or _NUMBER.fullmatch(word) or not _CONTENT.search(word):
        return False
    return len(word) > 1


def _held_word(word: str, joined: str, tokens: frozenset[str] | set[str]) -> bool:
    """Whether the passages hold the word: as it is, through a synonym, or piece by piece.

    jieba's HMM joins unknown names into one word and sometimes a particle with its neighbour
    (他于, 局于, 流利地); such a word is held when its dictionary pieces, but for a lone character at
    either end, are stopwords or held (a lone character when it occurs in the passages).
    """
    if word in joined or _synonym_held(word, tokens):
        return True
    # A function character on a held word changes no fact (隶属于 for 隶属, 追溯到 for 追溯至, 被选为).
    # The rest must be a dictionary word, so a name ending in one (康有为) is never cut.
    lead = word[1:] if word[0] in LEADING_FUNCTION else word
    cores = {lead, word[:-1] if word[-1] in TRAILING_FUNCTION else word}
    cores |= {lead[:-1]} if lead[-1] in TRAILING_FUNCTION else set()
    if any(len(c) > 1 and c != word and _senses(c) and _held_word(c, joined, tokens) for c in cores):
        return True
    pieces = _cut(word, hmm=False)
    if len(pieces) < 2:
        return False
    stop = stopwords()
    # a particle or verb the HMM glued on (由爱, 流利地, 叫龙尖), never a noun's character (鲷科)
    glue = [
        p
        for p in (pieces[0], pieces[-1])
        if len(p) == 1 and (p in stop or _is_verbal(p) or _tags().get(p) == "u")
    ]
    core = pieces[1:] if pieces[0] in glue else pieces
    core = core[:-1] if len(core) > 1 and core[-1] in glue else core
    return all(p in stop or (p in joined if len(p) == 1 else _held_word(p, joined, tokens)) for p in core)


def _negated_in(word: str, texts: list[str], always: bool = False) -> bool:
    """Whether the passages deny the word: a negation among the NEGATION_REACH words before it in
    the same clause (没有 / 不带有 + 气味); with `always`, whether they mention it only so."""
    denied = plain = 0
    for text in texts:
        tokens = _cut(text)
        for i, token in enumerate(tokens):
            if token != word:
                continue
            before: list[str] = []
            for earlier in reversed(tokens[max(0, i - NEGATION_REACH) : i]):
                if _CLAUSE_BREAK.fullmatch(earlier) or earlier in "。！？!?\n":
                    break
                before.append(earlier)
            if NEGATIONS & set(before):
                denied += 1
            else:
                plain += 1
    return denied > 0 and (not always or plain == 0)


def _replaced(claim_words: list[str], i: int, joined: str) -> str | None:
    """What the passages have where the claim has its word i, between the same neighbours
    (美特斯 for 山坡 in 美特斯·邦威): a swapped entity or fact, not an added one; None if nothing."""
    if not 0 < i < len(claim_words) - 1:
        return None
    before, after = claim_words[i - 1], claim_words[i + 1]
    if not (_CONTENT.search(before) and _CONTENT.search(after)):
        return None
    gap = re.search(f"{re.escape(before)}(.{{1,{MAX_SWAP_CHARS}}}?){re.escape(after)}", joined)
    return gap.group(1) if gap is not None and _CONTENT.search(gap.group(1)) else None


def _rewords(word: str, replaced: str) -> bool:
    """Whether a verb rewords what the passages have in its place: it shares a character or a
    sense word with it (出任 for 担任, 分成 for 兵分), where 辞去 for 担任 changes the fact."""
    if not _is_verbal(word):
        return False
    if set(word) & set(replaced):
        return True
    return any(_sense_words(word) & _sense_words(w) for w in _cut(replaced))


def _is_verbal(word: str) -> bool:
    """A verb, adverb, adjective, idiom, conjunction or preposition to jieba's dictionary: a word
    that is not an entity (既有, 攻守)."""
    return (_tags().get(word) or "x")[0] in "vdalicp"


def _is_name(word: str) -> bool:
    """A word CC-CEDICT does not know, or knows only as a proper noun (a place, a person), unless
    jieba's dictionary knows it as a word of another kind (攻守 a verb, 最早 an adverb)."""
    tag = _tags().get(word) or ""
    return not _senses(word) and not word.isascii() and (not tag or tag.startswith("n"))


def _synonym_held(word: str, tokens: frozenset[str] | set[str]) -> bool:
    """Whether CC-CEDICT gives the word a sense that one of the passage's words also has.

    Proper names never count as held this way (杭州 and 温州 are both "city ... in Zhejiang").
    """
    senses = _senses(word)
    if not senses:
        return False
    # A near-synonym of a verb: one sharing a character and a content word of a sense (出任 "take up
    # a post" for 担任 "hold a post", 分成 for 分为 "divide"); sharing neither is another act (撤销,
    # 成立). Nouns are not compared so loosely: 公开赛 and 世锦赛 are both "championship".
    verb = (_tags().get(word) or "").startswith("v")
    return any(
        senses & _senses(token)
        or (verb and set(word) & set(token) and _sense_words(word) & _sense_words(token))
        for token in tokens
    )


@cache
def _sense_words(word: str) -> frozenset[str]:
    """The content words of a word's CC-CEDICT senses, as lemmas."""
    stop = stopwords()
    found = (w for sense in _senses(word) for w in _LATIN.findall(sense) if w not in stop and len(w) > 2)
    return frozenset(form for w in found for form in lemmas(w))


@cache
def _senses(word: str) -> frozenset[str]:
    """A word's CC-CEDICT senses, bare ("to establish" -> "establish"); none for proper names."""
    # "CL:個|个[ge4]" (a measure word note) is no sense, and its capital says nothing about names.
    definitions = [d for d in _cedict_senses().get(word, []) if d and not _NOT_A_SENSE.match(d.lower())]
    if any(d[:1].isupper() for d in definitions):
        return frozenset()
    bare = (re.sub(r"\([^)]*\)", "", d).strip().lower() for d in definitions)
    return frozenset(re.sub(r"^(to|a|an|the) ", "", d) for d in bare if d)


_NOT_A_SENSE = re.compile(r"(variant of|old variant|see |used in|surname|abbr|cl:|also written|erhua)")


def _sentences(passage: Passage) -> list[tuple[tuple[int, int], str]]:
    spans = passage.sentences or [(passage.start, passage.end)]
    return [
        ((start, end), normalize(passage.text[start - passage.start : end - passage.start]))
        for start, end in spans
    ]


def _claim_units(normalized: str, mode: Literal["zh", "en"]) -> set[str]:
    """What a claim is checked on: its bigrams (or English content words) plus its numbers."""
    numbers = {f"#{n:g}" for n in _numbers(normalized)}
    if mode == "zh":
        return char_bigrams(normalized) | numbers
    stop = stopwords()
    found = _LATIN.findall(normalized)
    return {w for w in found if w not in stop and w not in MONTHS and len(w) > 1} | numbers


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
    """Simplified word -> its English glosses, all senses in one string."""
    return {word: " ".join(senses).lower() for word, senses in _cedict_senses().items()}


@cache
def _cedict_senses() -> dict[str, list[str]]:
    """Simplified word -> its English senses (a word can have several entries)."""
    senses: dict[str, list[str]] = {}
    for entry in cedict_entries():
        senses.setdefault(entry["simplified"], []).extend(d.strip() for d in entry["definitions"])
    return senses


def _numbers(normalized: str) -> set[float]:
    """Numbers in the text, scaled ones (2.1万, 3 million) also as their value, months as 1-12."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", normalized)
    found = {float(n) for n in _NUMBER.findall(text)}
    found |= {round(float(n) * _SCALE[unit], 6) for n, unit in _SCALED.findall(text)}
    found |= {float(MONTHS[a or b]) for a, b in _DATED_MONTH.findall(text)}
    return found
