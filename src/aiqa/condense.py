"""Condense a follow-up question into a self-contained one, from the questions asked before it.

Retrieval sees one question; "它的负责人是谁？" after a question about an AI bureau retrieves every
bureau's head. A follow-up leans on the conversation in three general ways, recognized here by
linguistic signals (jieba part-of-speech tags, English pronouns), never by corpus strings:

- an anaphor: a third-person pronoun or demonstrative (它/他/她/其/该/这个/那里…, it/they/there…)
  is replaced by the entity the conversation is about;
- an entity switch: "那X呢？" / "X呢？" / "and X?" / "what about X?" asks the previous question
  again about X, so X takes the place of the previous question's entity;
- a missing subject: a short question naming nothing ("什么时候成立的？") gets the entity put
  in front.

A question showing none of these is self-contained and never rewritten. When the LLM composes the
answer, the rewrite is asked of it first (the usual condense-question step). Its rewrite is trusted
only when it is what a rewrite can be: one question, without citation markers, keeping the
question's own content words, no longer than the question with the conversation's entity carried
in, and adding no name or number the conversation does not hold (an LLM asked to rewrite sometimes
answers instead). Otherwise the rules here are used.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from .chinese import (
    Language,
    detect_language,
    normalize,
    person_spans,
    tagged_words,
    to_simplified,
    to_traditional,
    tokenize,
)
from .errors import LLMError
from .lexicon import MONTHS, lemmas

# Earlier turns looked at: an entity named further back than this is rarely what "它" means.
MAX_TURNS = 6
# A question naming no entity is taken as leaning on the conversation only when it is this short
# (Han characters): "负责人是谁？", "什么时候成立的？". Longer questions without a proper noun, such as
# "推动数据产业集聚的地方形成了哪些新的组织形态？", describe their own subject.
# The tuning half of eval/conversations.jsonl needs at least 10 (its longest subjectless follow-up
# has 10); no value up to 20 rewrites any question of eval/dev.jsonl or eval/extra.jsonl asked after
# another one.
MISSING_SUBJECT_MAX_CHARS = 12
# The same for an English question naming nothing ("How many members have signed up so far?" has
# 8 words; the English ellipses of eval/conversations-tune.jsonl have up to 9), or opening with
# "And" (a long "And which …?" says what it asks; one of 15 words in eval/conversations7.jsonl).
# No value up to 20 rewrites an English question of eval/dev.jsonl, extra.jsonl or heldout*.jsonl
# asked after another.
EN_MISSING_SUBJECT_MAX_WORDS = 10

# An LLM rewrite may be this many times as long as what it can legitimately hold (the question with
# the conversation's entity added, or for "那X呢？" the previous question with X), plus
# REWRITE_SLACK_CHARS: room for the 的/是/the/of a rewording adds. The code path's rewrites of the
# tuning half of eval/conversations.jsonl are at most 1.05 times that reference; a rewording such as
# "Who is the director of the Guangzhou Haizhu District AI Development Bureau?" for "Who is its
# director?" is 1.13; an answer with its evidence is two or more.
# A follow-up longer than this is not aligned with its rewrite to find the people carried in:
# aligning a 2,000-character question character by character takes about a second. A follow-up
# leaning on 他 is a sentence or two.
CARRIED_MAX_CHARS = 200
MAX_REWRITE_GROWTH = 1.3
REWRITE_SLACK_CHARS = 4

# An LLM-backed rewriter: (question, earlier questions) -> the self-contained question.
Rewriter = Callable[[str, list[str]], str]
# The sentences quoted in answer to an earlier (self-contained) question, the best first, or none:
# "他" after "副局长是谁？" is the person that answer names.
Answerer = Callable[[str], list[str]]

_INTERROGATIVE = re.compile(r"谁|什么|哪|怎|几|何|多少|为啥")
# Third-person pronouns and demonstratives; 其他/其余/其实 and the like are not references.
_ANAPHOR_START = "它他她其该此这那"
_NOT_ANAPHOR = {"其他", "其它", "其余", "其实", "其次", "这样", "那样", "这么", "那么", "此外", "这时", "那时"}  # fmt: skip
_PERSONAL = {"它", "它们", "他", "他们", "她", "她们"}
# Those that refer to a person (它 and "it" never do).
_PERSON_REFERENCES = {"他", "他们", "她", "她们"}
_EN_PERSON_REFERENCES = {"he", "him", "his", "she", "her", "this person", "that person"}
# Earlier questions whose answer names what a later 他 or 该区 refers to.
_ASKS_WHO = re.compile(r"谁|哪位|何人|什么名字|叫什么|姓名|\bwho(?:m|se)?\b|\bname\b", re.IGNORECASE)
_ASKS_WHICH = re.compile(r"哪|什么|\bwhich\b|\bwhat\b|\bwhere\b", re.IGNORECASE)
_PLACES = {"这里", "那里", "这儿", "那儿", "此地", "该地", "当地", "本地"}
# The words asking for a place, and the generic nouns of place a which-question asks for (what a
# place name in its answer fills). 什么 asks mostly for a kind or a name ("叫什么名字"), not which.
_PLACES_ASKED = {"哪里", "哪儿", "何处", "何地"}
_ZH_PLACE_HEADS = {"城市", "地方", "地区", "省份", "国家", "市", "省", "区", "县", "镇", "城"}
_EN_ASKED = re.compile(
    r"^\s*(?:(?:which|what)\s+(?!(?:is|was|are|were|did|does|do|has|have|had|can|could|will|would)\b)"
    r"(?P<head>[a-z]+(?:\s+[a-z]+){0,2})\b|where\b)",
    re.IGNORECASE,
)
_EN_PLACE_HEADS = {"city", "province", "district", "county", "town", "place", "region", "country", "area"}  # fmt: skip
# Nouns naming a kind of person a which-question may ask for ("Which commentator…"): the person its
# answer names is who "he" or "according to him" then means.
_EN_PERSON_HEADS = {
    "person", "official", "expert", "commentator", "scholar", "researcher", "analyst", "economist",
    "professor", "leader", "head", "director", "chairman", "secretary", "mayor", "governor",
    "minister", "founder", "manager", "executive",
}  # fmt: skip
# Years a follow-up refers to without writing them, and how far each is from the year meant.
_NUMERALS = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_EN_NUMERALS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
_ZH_TEMPORAL = re.compile(
    r"(?P<month>同月|当月|同一个月|那个月)"
    r"|(?P<same>同一年|同年|当年|那一年|那年)|(?P<next>次年|翌年|第二年)|(?P<prev>前一年|上一年)"
    r"|(?<![\d一两二三四五六七八九十])(?P<n>\d|[一两二三四五六七八九十])年(?P<dir>后|前)"
)
_EN_TEMPORAL = re.compile(
    r"(?P<on>\b(?:in|for|by|during)\s+)?\b(?:"
    r"(?P<month>(?:that|the)\s+(?:same\s+)?month)"
    r"|(?P<same>(?:that|the)\s+(?:same|very)\s+year|that\s+year)"
    r"|(?P<next>the\s+(?:following|next)\s+year)|(?P<prev>the\s+(?:year\s+before|previous\s+year))"
    r"|(?P<n>\d{1,2}|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+years?\s+"
    r"(?P<dir>later|after\s+that|earlier|before\s+that))\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_YEAR_WORD = re.compile(_YEAR.pattern + "年?")
_YEAR_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年\s*(\d{1,2})\s*月")
_YEAR_SWITCH = re.compile(
    r"^\s*(?:那么?|and|what about|how about)?\s*(?:in\s+|for\s+)?(?P<year>(?:19|20)\d\d)\s*年?的?\s*呢?\s*[?.]?\s*$",
    re.IGNORECASE,
)
_ASKS_WHEN = re.compile(r"什么时候|何时|哪一?年|哪天|哪一天|几月|\bwhen\b|\bwhat year\b|\bwhich year\b", re.I)
_DEFINITION = re.compile(r"^(?:什么是|什麼是|何为|何為|何谓|何謂)")
_DISCOURSE = {"那", "那么"}  # "so, then": opens a follow-up, refers to nothing itself
_SWITCH_TAILS = {"的", "那边", "这边", "方面"}
# Measure words a demonstrative takes before its noun: 这份报告, 这支队伍, 该项政策.
_CLASSIFIERS = "个些家位座所项种类次场批份支张篇本条届件名"
# A which-question's determiner: 哪 with a measure word (哪座, 哪一家); 哪位/哪名 ask for a person,
# which 他 finds through the answer's people.
_ASKED_DETERMINER = re.compile(rf"哪一?[{_CLASSIFIERS.replace('位', '').replace('名', '')}]?")
_CLASSIFIER_DEMONSTRATIVE = re.compile(rf"^(?:这|那|该|此)[{_CLASSIFIERS}]?")
_PLACE_SUFFIX = re.compile(r"[\u4e00-\u9fff](?:省|市|县|区|镇|州|新区)$")
_NOMINAL_TAGS = {"n", "ng", "nr", "ns", "nt", "nz", "nrt", "nrfg", "l", "j", "eng", "vn", "zg", "s", "title", "paren", "unknown"}  # fmt: skip
# Tags a lone character of an unknown word gets (智 ng, 算 v); function words have others.
_FRAGMENT_TAGS = {"n", "ng", "v", "vg", "vn", "a", "ag", "b", "g", "k", "h", "j"}
_PROPER_TAGS = {"nr", "ns", "nt", "nz", "nrt", "nrfg", "j", "eng", "title"}
_ADVERB_TAGS = {"d", "ad"}
# Adverbs that also stand before a name ("仅上海就…", "又深圳…"): a closed class of focus and
# repetition words, unlike 正式/已经/率先, which modify verbs only.
_FOCUS_ADVERBS = {"仅", "仅仅", "只", "只有", "就", "又", "也", "都", "才", "还", "再", "更", "最", "甚至", "尤其", "特别", "光", "单", "唯独"}  # fmt: skip
_NOUN_FRAGMENT_TAGS = {"n", "ng", "j"}
_MODIFIER_TAGS = {"a", "b"}
# Those a follow-up's answer must name when the follow-up types one (abbreviations and Latin words
# such as "AI" are left out: a sentence names them in other words).
_TYPED_NAME_TAGS = {"nr", "ns", "nt", "nz", "nrt", "nrfg", "title"}
# Characters that end the name of an organization or a place (局, 中心, 公司, 新区…).
_NAME_END = set("局署处厅委会院所心司团港园区市县省镇州部办馆")
_CLAUSE_END = set("，,。？?！!；;：:")
# A comma or colon between digits is part of a number (1,732; 10:30).
_CLAUSE_BREAK = re.compile(r"[，；;：]|(?<!\d)[,:]|[,:](?!\d)")
# What may close a name after its head noun: a quote or title mark, a year in brackets (《…报告(2025)》).
_CLOSING = "”」》』\"'"
_TRAILING_PARENTHETICAL = re.compile(r"[（(][^（）()]{1,12}[)）]$")
# A book title or a short quoted name is one proper noun: 《中国经营报》, “中国数谷”, 「模速空間」.
_TITLE = re.compile(r"《[^》]{1,40}》|“[^”]{1,12}”|「[^」]{1,12}」")
# A short parenthetical inside a name is part of it: 人工智能（机器人）署. It is nominal, not a name itself.
_PARENTHETICAL = re.compile(r"[（(][\u3400-\u9fff]{1,8}[)）]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
# What an answer carries and a question does not: a citation marker, a sentence end inside it.
_MARKER = re.compile(r"\[\d+\]|［\d+］")
_SENTENCE_END = re.compile(r"[。！？!?；;…]|\.(?:\s|$)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万亿]{2,}")
_EN_CAPITALIZED = re.compile(r"\b[A-Z][\w-]*")

# Nouns naming a kind of organization, place or document: "that company" refers as "it" does
# ("that position" or "that figure" does not name the conversation's entity).
_EN_KIND_NOUNS = (
    "company", "firm", "enterprise", "bureau", "agency", "department", "organization", "institute",
    "university", "district", "city", "province", "county", "town", "park", "zone", "region", "report",
    "plan", "document", "dataset", "platform", "exchange", "centre", "center", "association", "alliance",
)  # fmt: skip
_EN_ASKED_HEADS = _EN_PLACE_HEADS | _EN_PERSON_HEADS | set(_EN_KIND_NOUNS)
_EN_PRONOUN = re.compile(
    rf"\b((?:this|that)\s+person|(?:this|that)\s+(?:{'|'.join(_EN_KIND_NOUNS)})"
    r"|it|its|they|their|them|he|his|him|she|her|this|these|those|there)\b",
    re.IGNORECASE,
)
_EN_EXISTENTIAL = re.compile(
    r"\b(?:is|are|was|were|be|been)\s+there\b|\bthere\s+(?:is|are|was|were|be)\b", re.I
)
_EN_ADMINISTRATIVE = re.compile(
    r"\b(?:Municipal|Municipality|City|District|County|Province|Provincial|Prefecture|Town|New Area)\b"
)
_EN_POSSESSIVE = {"its", "their", "his", "her"}
_EN_SWITCH = re.compile(
    r"^\s*(?:and|what about|how about)\s+(?:in\s+|for\s+)?(?P<x>[^?？]+?)\s*[?？.]?\s*$", re.I
)
_EN_AND = re.compile(r"^\s*and\s+(?=(?:what|when|who|whom|which|where|how|why|whose)\b)", re.IGNORECASE)
_EN_POSSESSOR = re.compile(r"^(.+?)['’]s(?:\s+(.+))?$")
_EN_TRAILING_ACRONYM = re.compile(r"['’]s\s+[A-Z]{2,5}$")
_EN_QUESTION_WORD = re.compile(r"\b(?:what|when|who|whom|which|where|how|why|whose)\b", re.I)
# A name in an English question: capitalized words (with "of", "and", "the" and parentheses between
# them) or a run of Chinese characters.
_EN_NAME = re.compile(
    r"(?:[A-Z][\w’'-]*|[\u3400-\u9fff][\u3400-\u9fff()（）]*)"
    r"(?:(?:\s+(?:of|and|for|the)\s+|\s*[(（]\s*|\s*[)）]\s*|\s+|’s\s+|'s\s+)"
    r"(?:[A-Z][\w’'-]*|[\u3400-\u9fff][\u3400-\u9fff()（）]*)[)）]?)*"
)
# Words a question opens with, capitalized there but no name ("Since when…", "According to…").
_EN_FUNCTION_WORDS = {
    "what", "when", "who", "whom", "which", "where", "how", "why", "whose", "in", "on", "at", "the",
    "a", "an", "did", "does", "do", "is", "are", "was", "were", "and", "apart", "from", "for", "of",
    "since", "by", "according", "to", "after", "before", "during", "until", "with", "within", "under",
    "over", "between", "among", "about", "as", "besides", "through", "across", "if", "so",
}  # fmt: skip


@dataclass(frozen=True)
class _Token:
    text: str
    tag: str
    start: int
    end: int

    @property
    def nominal(self) -> bool:
        return self.tag in _NOMINAL_TAGS

    @property
    def proper(self) -> bool:
        return self.tag in _PROPER_TAGS or bool(_PLACE_SUFFIX.search(self.text))

    @property
    def place(self) -> bool:
        return self.tag == "ns" or bool(_PLACE_SUFFIX.search(self.text))


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str
    # A person's name as its text writes it, not converted to the question's script:
    # Simplified→Traditional can corrupt names (余 → 餘).
    as_written: bool = False


def condense(
    question: str,
    history: Sequence[str],
    rewriter: Rewriter | None = None,
    answer: Answerer | None = None,
) -> str | None:
    """The self-contained form of a follow-up question, or None when it needs none.

    `answer` gives the sentences quoted for an earlier question; it is asked only when the
    follow-up needs them: for a 他/she or a 该区/这份报告 no question names, for the topic of an
    earlier which-question, for the date an earlier when-question was answered with."""
    earlier = _earlier(history)
    if not earlier or not leans_on_context(question):
        return None
    resolved = _resolved(earlier)
    if rewriter is not None:
        try:
            rewritten = rewriter(question, earlier).strip()
        except LLMError:
            rewritten = ""
        if rewritten and rewritten != question and is_rewrite(question, earlier, rewritten):
            return rewritten
    return _rewrite(question, resolved, answer)


def with_topic(question: str, history: Sequence[str], answer: Answerer | None = None) -> str | None:
    """The follow-up with the conversation's topic put first, as for a short question missing its
    subject ("开园时请了哪些嘉宾？" after a question about a park, jieba tagging 开园 a place): the
    second reading of a follow-up `condense` leaves as it is. None for a longer question, or one
    naming something no earlier question names (it may be a new subject, and two subjects make a
    question about neither), or one already naming the topic."""
    earlier = _earlier(history)
    source = normalize("\n".join(earlier))
    if detect_language(question) == "en":
        names = [w for w in _EN_CAPITALIZED.findall(question) if w.lower() not in _EN_FUNCTION_WORDS]
        short = len(question.split()) <= EN_MISSING_SUBJECT_MAX_WORDS
    else:
        names = names_typed(question)
        short = len(_HAN.findall(question)) <= MISSING_SUBJECT_MAX_CHARS
    if not earlier or not short or any(normalize(name) not in source for name in names):
        return None
    resolved = _resolved(earlier)
    found = _continued(question, resolved, answer, switching=False)
    if found is None or _unquoted(found[1].text) in _unquoted(question):
        return None
    return _carried(question, resolved, answer, subject=True)


def in_frame(question: str, history: Sequence[str]) -> str | None:
    """The follow-up inside the frame the latest earlier question opened with: its clauses before
    the last, stating no figure ("泸州报告提到的布局中，江阳区的重点是什么？" then "纳溪区又有什么重点？"
    → "泸州报告提到的布局中，纳溪区又有什么重点？"); the third reading of a follow-up `condense`
    leaves as it is. None when the follow-up has clauses of its own or no earlier question has a
    frame. A clause with a number is a premise, not a frame ("泸州投用智算中心6个，规模多大？")."""
    if _CLAUSE_BREAK.search(unicodedata.normalize("NFKC", question).rstrip("?？!！。 ")):
        return None
    for turn in reversed(_earlier(history)):
        # NFKC keeps the offsets of these questions (it changes only rare full-width sequences).
        folded = unicodedata.normalize("NFKC", turn)
        breaks = list(_CLAUSE_BREAK.finditer(folded.rstrip("?？!！。 ")))
        if not breaks or len(folded) != len(turn):
            continue
        frame = turn[: breaks[-1].end()]
        # A year dates the frame ("2025年报告提到的布局中，"); a count or amount states a premise.
        figures = _YEAR_WORD.sub("", _TITLE.sub("", folded[: breaks[-1].end()]))
        if (
            _NUMBER.search(figures)
            or _INTERROGATIVE.search(to_simplified(frame))
            or _EN_QUESTION_WORD.search(frame)
        ):
            return None
        if detect_language(question) == "en":
            # "Which segment…" continues the frame as "which segment…"; "AI companies…" stays.
            opening = question[0].lower() if question[1:2].islower() else question[0]
            return f"{frame} {opening}{question[1:]}"
        return frame + question.lstrip()
    return None


def carried_people(question: str, rewritten: str) -> tuple[str, ...]:
    """What the rewrite put in place of the question's 他/她/he/his/that person (normalized), where
    it is a person's name: the people carried in."""
    if len(question) > CARRIED_MAX_CHARS:
        return ()
    english = detect_language(question) == "en"
    # English is aligned by words ("his" → "X's"), Chinese by characters.
    a, b = (question.split(), rewritten.split()) if english else (list(question), list(rewritten))
    joiner = " " if english else ""
    references = _EN_PERSON_REFERENCES if english else _PERSON_REFERENCES
    carried = []
    for op, a0, a1, b0, b1 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        said = joiner.join(a[a0:a1]).strip("?,.!").lower()
        if op == "replace" and to_simplified(said) in references:
            # The names in it ("局长李建国"), not the conversation's entity put in when no earlier
            # answer named a person.
            put = re.sub(r"['’]s$", "", joiner.join(b[b0:b1]))
            carried += [normalize(name) for name in _people(put)]
    return tuple(dict.fromkeys(carried))


def _earlier(history: Sequence[str]) -> list[str]:
    """The conversation's earlier questions that say something, the latest MAX_TURNS."""
    return [turn.strip() for turn in history if turn and turn.strip()][-MAX_TURNS:]


def _resolved(earlier: list[str]) -> list[str]:
    """Each earlier question as the code path would have rewritten it, in order."""
    resolved: list[str] = []
    for turn in earlier:
        resolved.append(_rewrite(turn, resolved) or turn)
    return resolved


def is_rewrite(question: str, earlier: Sequence[str], rewritten: str) -> bool:
    """Whether an LLM's reply is a rewrite of the question, not an answer or an invention."""
    return (
        _one_question(question, rewritten)
        and not _MARKER.search(rewritten)
        and len(rewritten) <= MAX_REWRITE_GROWTH * _reference_length(question, earlier) + REWRITE_SLACK_CHARS
        and keeps_content_words(question, rewritten)
        and _adds_nothing_new(question, earlier, rewritten)
    )


def leans_on_context(question: str) -> bool:
    """Whether the question refers to something only the conversation names."""
    if _temporal_anaphors(question) or _YEAR_SWITCH.match(unicodedata.normalize("NFKC", question)):
        return True
    if detect_language(question) == "en":
        return bool(_en_switch(question) or _en_anaphors(question) or _en_missing_subject(question))
    tokens = _tag(question)
    return bool(_zh_switch(tokens) or _zh_anaphors(tokens) or _missing_subject(tokens))


def keeps_content_words(question: str, rewritten: str) -> bool:
    """Every content word of the question, other than its anaphors, is in the rewrite."""
    target = normalize(rewritten)
    if detect_language(question) == "en":
        words = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", question)} - _EN_FUNCTION_WORDS
        words -= {w for m in _EN_PRONOUN.finditer(question) for w in m.group(1).lower().split()}
        words -= {"about", "that"}
        return all(word in target for word in words)
    anaphors = {normalize(t.text) for t in _zh_anaphors(_tag(question))}
    kept = [w for w in tokenize(normalize(question)) if w not in anaphors and w not in _DISCOURSE]
    return all(word in target for word in kept if _HAN.search(word))


def _one_question(question: str, rewritten: str) -> bool:
    """No sentence ends inside it, and it ends as a question when the question did."""
    body = rewritten.rstrip()
    if _SENTENCE_END.search(body[:-1]):
        return False
    return body[-1:] in "?？" or question.rstrip()[-1:] not in "?？"


def _reference_length(question: str, earlier: Sequence[str]) -> int:
    """How long a rewrite of the question can be: the question with the longest entity the
    conversation names carried in, or for an entity switch the latest question naming one with X."""
    entities = [e for e in map(_entity, earlier) if e is not None]
    longest = max((len(e.text) for e in entities), default=0)
    switch = _en_switch(question) if detect_language(question) == "en" else _zh_switch(_tag(question))
    previous = next((turn for turn in reversed(earlier) if _entity(turn) is not None), "")
    return len(question) + (len(previous) if switch else longest)


def _adds_nothing_new(question: str, earlier: Sequence[str], rewritten: str) -> bool:
    """Every name and number of the rewrite is in the question or an earlier one."""
    source = normalize("\n".join([question, *earlier]))
    if detect_language(rewritten) == "en":
        names = [w for w in _EN_CAPITALIZED.findall(rewritten) if w.lower() not in _EN_FUNCTION_WORDS]
        names += _HAN_RUN.findall(rewritten)
    else:
        names = [t.text for t in _tag(rewritten) if t.proper]
    numbers = _NUMBER.findall(unicodedata.normalize("NFKC", rewritten))
    return all(normalize(word) in source for word in [*names, *numbers])


def _nouns(text: str) -> set[str]:
    """The common nouns of two or more characters (normalized), or English words of four letters."""
    if detect_language(text) == "en":
        return {w.lower() for w in re.findall(r"[A-Za-z]{4,}", text)} - _EN_FUNCTION_WORDS
    return {normalize(t.text) for t in _tag(text) if t.nominal and not t.proper and len(t.text) > 1}


def names_typed(question: str) -> list[str]:
    """The names a question itself writes (not carried in): places, people, organizations and
    titles by jieba's tags; in English, capitalized words after the first and Chinese words."""
    if detect_language(question) == "en":
        words = [w for w in _EN_CAPITALIZED.findall(question)[1:] if w.lower() not in _EN_FUNCTION_WORDS]
        return [*words, *_HAN_RUN.findall(question)]
    tokens = _tag(question)
    # 哪个|城市 asks for a place; it names none (jieba tags 城市 a place).
    return [t.text for i, t in enumerate(tokens) if t.tag in _TYPED_NAME_TAGS and not _asks_which(tokens, i)]


def _switched_to(question: str) -> str | None:
    """The new entity of an entity switch ("那X呢？", "and X?"), as the question writes it."""
    if detect_language(question) == "en":
        return _en_switch(question)
    phrase = _zh_switch(_tag(question))
    return question[phrase[0].start : phrase[-1].end] if phrase else None


def _rewrite(question: str, resolved: list[str], answer: Answerer | None = None) -> str | None:
    """The code path: the follow-up with the conversation's year, entity or attribute carried over."""
    dated = _dated(question, resolved, answer)
    rewritten = _carried(dated, resolved, answer) or dated
    return rewritten if rewritten != question else None


def _dated(question: str, resolved: list[str], answer: Answerer | None) -> str:
    """同年 / 次年 / 同月 / that year / the following year / five years later written as the date the
    conversation names: in the latest earlier question naming one, or in the answer to a
    when-question."""
    found = list(_temporal_anaphors(question))
    if not found:
        return question
    dated = _conversation_date(resolved, answer)
    if dated is None:
        return question
    year, month = dated
    english = detect_language(question) == "en"
    for match in reversed(found):
        if match.group("month"):
            if month is None:
                continue
            date = f"{year}年{month}月"
        else:
            date = str(year + _shift(match))
            date = date if english else date + "年"
        end = match.end()
        if english and re.match(r"['’]s\b", question[end:]):
            # "in that year's plan" -> "in the 2025 plan"
            article = "the " if match.group("on") or match.start() > 0 else "The "
            date, end = (match.group("on") or "") + article + date, end + 2
        elif english:
            date = (match.group("on") or ("In " if match.start() == 0 else "in ")) + date
        question = question[: match.start()] + date + question[end:]
    return question


def _shift(match: re.Match[str]) -> int:
    """How far from the conversation's year a year anaphor points: 次年 +1, "two years earlier" -2."""
    if match.group("next"):
        return 1
    if match.group("prev"):
        return -1
    if match.group("n"):
        n = match.group("n").lower()
        count = int(n) if n.isdigit() else _NUMERALS.get(n) or _EN_NUMERALS[n]
        return count if match.group("dir").lower().startswith(("后", "later", "after")) else -count
    return 0


def _temporal_anaphors(question: str) -> list[re.Match[str]]:
    """The year and month anaphors (同年, 同月, that year…) of a question that names no year of its own."""
    if _YEAR.search(unicodedata.normalize("NFKC", question)):
        return []
    pattern = _EN_TEMPORAL if detect_language(question) == "en" else _ZH_TEMPORAL
    return list(pattern.finditer(to_simplified(question)))


def _conversation_date(resolved: list[str], answer: Answerer | None) -> tuple[int, int | None] | None:
    """The year (and month, when it gives one) of the latest earlier question naming a year, or of
    the answer to an earlier when-question."""
    for turn in reversed(resolved):
        texts = [turn]
        if (
            answer is not None
            and _ASKS_WHEN.search(to_simplified(turn))
            and not _YEAR.search(unicodedata.normalize("NFKC", turn))
        ):
            texts = answer(turn)
        for text in texts:
            text = unicodedata.normalize("NFKC", text)
            month = _YEAR_MONTH.search(text)
            if month:
                return int(month.group(1)), int(month.group(2))
            year = _YEAR.search(text)
            if year:
                return int(year.group()), None
    return None


def _carried(
    question: str, resolved: list[str], answer: Answerer | None, subject: bool = False
) -> str | None:
    """The follow-up with the conversation's entity or attribute carried over, or None. `subject`:
    put the entity first even when the question seems to have a subject of its own."""
    # "那2018年呢？" / "And in 2018?": the latest question naming a year, asked of that year.
    year = _YEAR_SWITCH.match(unicodedata.normalize("NFKC", question))
    if year is not None:
        # (The year as the earlier question writes it: NFKC would move offsets, … becoming ...)
        dated = next((t for t in reversed(resolved) if _YEAR.search(t)), None)
        old = _YEAR.search(dated) if dated else None
        if dated is None or old is None:
            return None
        return dated[: old.start()] + year.group("year") + dated[old.end() :]
    new = _switched_to(question)
    # "实施方案的编号是什么？" after a question about a 实施方案 and then another continues the first.
    found = _continued(question, resolved, answer, new is not None)
    if found is None:
        return None
    previous, entity = found
    if new:
        # "那周威呢？" after a question about a person and a place switches the person.
        if _people(new):
            entity = _entity(previous, person=True) or entity
        return _switch(previous, entity, new)
    context = _Context(entity.text, resolved, answer)
    language = detect_language(question)
    if language == "en":
        edits = [_en_edit(match, context) for match in _en_anaphors(question)]
        if not edits and (subject or _en_missing_subject(question)):
            # "How many members have signed up so far?" → "For Luzhou, how many …?"
            name = entity.text
            opening = _EN_AND.match(question)
            end = opening.end() if opening else 0
            edits = [_Edit(0, end + 1, f"For {name}, {question[end].lower()}")]
    else:
        edits = _zh_edits(_tag(question), context, subject)
    rewritten = _apply(question, edits, language)
    return rewritten if rewritten != question else None


# --- Chinese ------------------------------------------------------------------------------------


def _continued(
    question: str, resolved: list[str], answer: Answerer | None, switching: bool
) -> tuple[str, _Entity] | None:
    """The earlier turn the follow-up continues, with its topic: the turn sharing a noun with the
    follow-up, else the latest with a topic. Topics are found lazily: one may ask the pipeline for
    an earlier answer."""
    nouns = _nouns(question)
    turns = sorted(reversed(resolved), key=lambda turn: not nouns & _nouns(turn))  # stable: latest first
    return next(((t, e) for t in turns if (e := _topic(t, answer, switching))), None)


def _tag(text: str) -> list[_Token]:
    """Tagged words of the question, found on its Simplified form, located in the original.

    Traditional→Simplified conversion keeps one character per character, so offsets carry over;
    a book title 《…》 is one proper token, a short parenthetical one nominal token.
    """
    simplified = to_simplified(text)
    if len(simplified) != len(text):
        simplified = text
    tokens: list[_Token] = []
    position = 0
    for word, tag in tagged_words(simplified):
        end = position + len(word)
        # An adverb other than a focus word modifies a verb: a name right after one is a verb
        # jieba's dictionary also lists as a name (正式|开园 "opened", tagged a place).
        if (
            tag in _PROPER_TAGS
            and tokens
            and tokens[-1].tag in _ADVERB_TAGS
            and tokens[-1].text not in _FOCUS_ADVERBS
        ):
            tag = "v"
        tokens.append(_Token(text[position:end], tag, position, end))
        position = end
    return _merge(
        text, _merge(text, _named(text, simplified, tokens), _TITLE, "title"), _PARENTHETICAL, "paren"
    )


def _named(text: str, simplified: str, tokens: list[_Token]) -> list[_Token]:
    """A person's name jieba's dictionary cuts into characters (余|丽|慧) as one name, where its name
    tagger finds one (about 1 ms a question, cached)."""
    for start, end in person_spans(simplified):
        inside = [t for t in tokens if start <= t.start and t.end <= end]
        # Single characters only, one of them a name by the dictionary too: the tagger alone also
        # reads names into 官|宣 or 周威|笑.
        if (
            len(inside) > 1
            and inside[0].start == start
            and inside[-1].end == end
            and all(len(t.text) == 1 for t in inside)
            and any(t.tag.startswith("nr") for t in inside)
        ):
            at = tokens.index(inside[0])
            tokens[at : at + len(inside)] = [_Token(text[start:end], "nr", start, end)]
    return tokens


def _merge(text: str, tokens: list[_Token], pattern: re.Pattern[str], tag: str) -> list[_Token]:
    for match in pattern.finditer(text):
        inside = [t for t in tokens if t.start >= match.start() and t.end <= match.end()]
        if inside:
            title = _Token(match.group(), tag, match.start(), match.end())
            tokens = [t for t in tokens if t not in inside]
            tokens.insert(
                next((i for i, t in enumerate(tokens) if t.start > title.start), len(tokens)), title
            )
    return tokens


def _content(tokens: list[_Token]) -> list[_Token]:
    return [t for t in tokens if t.tag != "x" and t.text.strip()]


def _zh_switch(tokens: list[_Token]) -> list[_Token] | None:
    """The X of "那X呢？" / "X呢？": a new entity asked about in the previous question's terms."""
    words = _content(tokens)
    if len(words) < 2 or words[-1].text != "呢":
        return None
    middle = words[:-1]
    if middle[0].text in _DISCOURSE:
        middle = middle[1:]
    # "那X的呢？" asks for X's, "X那边呢？" / "X方面呢？" about X: neither word is part of the entity.
    if middle and to_simplified(middle[-1].text) in _SWITCH_TAILS:
        middle = middle[:-1]
    # A noun phrase: it opens and closes with nouns ("和南京相比呢？" compares, it does not switch).
    if not middle or any(_INTERROGATIVE.search(t.text) or t.tag.startswith("r") for t in middle):
        return None
    ends = (middle[0], middle[-1])
    return middle if all(t.nominal or t.proper for t in ends) else None


def _zh_anaphors(tokens: list[_Token]) -> list[_Token]:
    found = []
    for i, token in enumerate(tokens):
        text = to_simplified(token.text)
        # "温州哪位官员…把数据比作它消耗的能源", "泸州…介绍当地…": a name earlier in the question is
        # what it refers to.
        named_before = any(t.proper for t in tokens[:i])
        # "企业既当用户又当出资人，报告认为它…": a clause before it with a noun of its own, too.
        breaks = [j for j, t in enumerate(tokens[:i]) if t.text in _CLAUSE_END]
        named_before = named_before or bool(breaks and any(t.nominal for t in tokens[: breaks[0]]))
        if text in _PLACES:
            if not named_before:
                found.append(token)
            continue
        if text in _DISCOURSE and i == 0 and len(_content(tokens)) > 1 and not _measured(tokens, i):
            found.append(token)
            continue
        # jieba tags some demonstrative + measure word pairs as numerals (这份 mq).
        demonstrative = token.tag.startswith("r") or (
            token.tag == "mq" and _CLASSIFIER_DEMONSTRATIVE.fullmatch(text) is not None
        )
        if not demonstrative or text[0] not in _ANAPHOR_START:
            continue
        if text in _NOT_ANAPHOR or _INTERROGATIVE.search(text) or named_before:
            continue
        # A demonstrative described in its own question is not the conversation's: after a
        # modifier ("…的那座城市", "2018年那份规划", "研究院那位…") or with a clause between it and
        # its noun ("那篇关于…的文章", "那场让观众…的比赛").
        if i > 0 and (
            tokens[i - 1].text == "的" or tokens[i - 1].tag in {"t", "m", "mq"} or tokens[i - 1].nominal
        ):
            continue
        phrase = _phrase_after(tokens, i)
        if _measured(tokens, i) and not phrase:
            continue
        # "按那份四川数据产业规划": a phrase naming its own subject.
        if any(t.proper for t in phrase):
            continue
        found.append(token)
    return found


def _measured(tokens: list[_Token], i: int) -> bool:
    """The demonstrative at i takes a measure word (这份, 那|篇): it points at a thing."""
    text = to_simplified(tokens[i].text)
    if len(text) > 1:
        return text[-1] in _CLASSIFIERS and _CLASSIFIER_DEMONSTRATIVE.fullmatch(text) is not None
    following = tokens[i + 1].text if i + 1 < len(tokens) else ""
    return len(following) == 1 and following in _CLASSIFIERS


def _phrase_after(tokens: list[_Token], i: int) -> list[_Token]:
    """The nouns right after the demonstrative at i, past its measure word (这份|报告, 那|篇|文章);
    none when a clause comes first ("那篇关于…的建议")."""
    j = i + 2 if _measured(tokens, i) and len(to_simplified(tokens[i].text)) == 1 else i + 1
    phrase = []
    while j < len(tokens) and (tokens[j].nominal or tokens[j].proper):
        phrase.append(tokens[j])
        j += 1
    return phrase


def _missing_subject(tokens: list[_Token]) -> bool:
    words = _content(tokens)
    # "什么是人工智能？" asks for a definition: its subject is the concept it names.
    if (
        not words
        or _DEFINITION.match("".join(t.text for t in words))
        or any(t.proper or (t.tag in {"m", "t"} and any(c.isdigit() for c in t.text)) for t in words)
    ):
        return False
    return sum(len(_HAN.findall(t.text)) for t in words) <= MISSING_SUBJECT_MAX_CHARS


@dataclass(frozen=True)
class _Context:
    """What a follow-up's anaphors can refer to: the entity of the latest question naming one, or,
    for a person or a demonstrative with its noun, what an earlier question or its answer names."""

    entity: str
    resolved: list[str]
    answer: Answerer | None

    def person(self) -> str | None:
        """Named by the latest question naming a person, or by the answer to one that asked who."""
        for turn in reversed(self.resolved):
            named = _people(turn)
            if named:
                return named[-1]
            if self.answer is not None and _ASKS_WHO.search(to_simplified(turn)):
                asked = normalize(turn)
                new = [n for quote in self.answer(turn) for n in _people(quote) if normalize(n) not in asked]
                if new:
                    return new[0]
        return None

    def headed(self, head: str) -> str | None:
        """The latest name ending in the demonstrative's noun (该区 → …区), from a question or from
        the answer to a which/what question; first from the answer when the question asked for
        that noun (这家企业 after 哪家企业…？ is the answer's, not a 企业 the question names)."""
        for turn in reversed(self.resolved):
            asked = _asked(turn)
            if asked is not None and asked.head == head:
                answered = _answered(turn, self.answer)
                if answered is not None:
                    return answered.text
            named = _names_ending(turn, head)
            if named:
                return named[-1]
            if self.answer is not None and _ASKS_WHICH.search(to_simplified(turn)):
                asked_in = normalize(turn)
                new = [
                    n
                    for q in self.answer(turn)
                    for n in _names_ending(q, head)
                    if normalize(n) not in asked_in
                ]
                if new:
                    return new[0]
        return None


def _people(text: str) -> list[str]:
    """The people a text names, as it writes them (林海峯 stays 林海峯), by jieba's name tagger on its
    normalized form; a quoted or titled name (“大满贯”) is a thing's."""
    normalized = normalize(text)
    # Normalizing keeps one character per character but for rare full-width sequences.
    written = text if len(text) == len(normalized) else normalized
    quoted = [m.span() for m in _TITLE.finditer(normalized)]
    tokens = _tag(written)
    return [
        written[start:end]
        for start, end in person_spans(normalized)
        if not any(s <= start and end <= e for s, e in quoted) and not _in_organization(tokens, end)
    ]


def _in_organization(tokens: list[_Token], end: int) -> bool:
    """The tagger's person goes on, through nouns and adjectives, to an organization's suffix: it is
    part of the organization's name (浙江伟|明盛青|能源|新|材料|有限公司)."""
    for token in tokens:
        if token.start < end:
            continue
        if token.nominal and _ends_name(token):
            return True
        if not (token.nominal or token.tag in _MODIFIER_TAGS):
            return False
    return False


def _names_ending(text: str, head: str) -> list[str]:
    """The names in a text that end in the head noun's last character: 泸州市江阳区 for 区 in
    "泸州市江阳区人工智能局揭牌成立", the report's title for 报告."""
    if detect_language(text) == "en":
        return []
    tokens = _unknown_words(_tag(text))
    names = []
    for run, _ in _proper_runs(tokens):
        for j, token in enumerate(run):
            if _bare(to_simplified(token.text)).endswith(head[-1]) and any(t.proper for t in run[: j + 1]):
                names.append(text[run[0].start : token.end])
    return names


def _topic(turn: str, answer: Answerer | None, switching: bool) -> _Entity | None:
    """What a follow-up to this turn is about. "哪个城市最先设立人工智能局？" names no entity: what
    "它" or "该市" then means is its answer. When a question opens with what it asks ("哪个城市举办
    了X？"), that is its subject, and what a pronoun after it most likely means (its 市委书记 is the
    city's, not X's). A switch needs an entity the earlier question names."""
    if switching:
        return _entity(turn)
    return _answered(turn, answer, subject_only=True) or _entity(turn) or _answered(turn, answer)


def _answered(question: str, answer: Answerer | None, subject_only: bool = False) -> _Entity | None:
    """The name the answer to a which-question gives for what it asks, absent from the question: a
    place for 哪个城市 / which city / where, a name ending in the asked noun (哪家公司 → …公司) or,
    in English, an organization's. `subject_only`: only when the question opens with what it asks."""
    asked = _asked(question)
    if asked is None or answer is None or (subject_only and not asked.subject):
        return None
    names = [name for quote in answer(question) for name in _answer_names(quote, asked)]
    asked_in = normalize(question)
    name = next((n for n in names if normalize(n) not in asked_in), None)
    return _Entity(name, None) if name else None


def _answer_names(text: str, asked: _Asked) -> list[str]:
    """The names a quote gives of the kind a which-question asks for, likeliest first."""
    if asked.person:
        return _people(text)
    tokens = _unknown_words(_tag(text))
    if asked.place:
        # jieba's place tag, or a place suffix after two characters (城区 is a common noun).
        places = [
            text[run[0].start : run[-1].end]
            for run in _runs(tokens, lambda t: t.tag == "ns" or (t.place and len(t.text) > 2))
        ]
        # 哪个区 is best answered by the quote's name ending in 区 (雨花台区 over 南京).
        names = sorted(places, key=lambda n: not (asked.head and to_simplified(n).endswith(asked.head[-1])))
    else:
        # A name ends in the asked noun (…有限公司 for 公司) or an organization's (…公司 for 企业).
        own = asked.head[-1:] if not asked.head.isascii() else ""
        runs = _runs(tokens, lambda t: t.nominal or t.proper)
        names = [
            text[run[0].start : token.end]
            for run in runs
            for j, token in enumerate(run)
            if j > 0 and (_ends_name(token) or (own and to_simplified(token.text).endswith(own)))
        ]
        # Else a name without a suffix (麦田|能源: a person's tag on a company's name).
        names += [text[run[0].start : run[-1].end] for run in runs if any(t.proper for t in run)]
    return names


def _runs(tokens: list[_Token], keep: Callable[[_Token], bool]) -> list[list[_Token]]:
    """The maximal runs of adjacent tokens that `keep` accepts."""
    runs: list[list[_Token]] = [[]]
    for token in tokens:
        if keep(token):
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _unquoted(text: str) -> str:
    """Normalized, without quote and title marks: “泸州数据港” names 泸州数据港."""
    return re.sub(r"[“”「」『』《》\"']", "", normalize(text))


def _bare(name: str) -> str:
    """A name without its closing quote or bracket and trailing parenthetical: 《…报告(2025)》 → 《…报告."""
    return _TRAILING_PARENTHETICAL.sub("", name.rstrip(_CLOSING)).rstrip(_CLOSING)


def _zh_edits(tokens: list[_Token], context: _Context, subject: bool = False) -> list[_Edit]:
    entity = context.entity
    anaphors = _zh_anaphors(tokens)
    if not anaphors:
        if not subject and not _missing_subject(tokens):
            return []
        first = _content(tokens)[0]
        return [_Edit(first.start, first.start, entity + ("的" if first.nominal else ""))]
    edits = []
    for token in anaphors:
        text = to_simplified(token.text)
        if text in _DISCOURSE:
            edits.append(_Edit(token.start, token.end, ""))
        elif text in _PERSON_REFERENCES:
            person = context.person()
            edits.append(_Edit(token.start, token.end, person or entity, as_written=person is not None))
        elif text in _PERSONAL or text in _PLACES or (text[0] == "那" and text[1:] in _PERSONAL):
            # ("那它" is one jieba word)
            edits.append(_Edit(token.start, token.end, entity))
        elif text == "其":
            edits.append(_Edit(token.start, token.end, entity + "的"))
        elif text.startswith("其"):  # 其中, 其间: "in it"
            edits.append(_Edit(token.start, token.start + 1, entity))
        else:
            edits.append(_demonstrative_edit(token, tokens, context))
    return edits


def _demonstrative_edit(token: _Token, tokens: list[_Token], context: _Context) -> _Edit:
    """这个/该/这家…: the demonstrative (with its noun, when the entity is one of those) becomes the
    entity, or the name the conversation gives that is one of those (该区 → the district)."""
    entity = context.entity
    text = to_simplified(token.text)
    determiner = _CLASSIFIER_DEMONSTRATIVE.match(text)
    length = determiner.end() if determiner else 1
    head, end = text[length:], token.end
    if not head:
        following = next((t for t in tokens if t.start == token.end), None)
        # 这|支|队伍: a measure word jieba cut off is part of the demonstrative.
        if following is not None and len(following.text) == 1 and following.text in _CLASSIFIERS:
            length += following.end - token.end
            following = next((t for t in tokens if t.start == following.end), None)
        if following is not None and following.nominal:
            head, end = to_simplified(following.text), following.end
    # A quoted entity (“未来产业局”) ends in its head noun inside the quotes.
    if head and _bare(to_simplified(entity)).endswith(head[-1]):
        return _Edit(token.start, end, entity)
    headed = context.headed(head) if head else None
    if headed is not None:
        return _Edit(token.start, end, headed)
    return _Edit(token.start, token.start + length, entity)


@dataclass(frozen=True)
class _Entity:
    text: str
    places: str | None  # the place names that open it ("青田县"), replaced when only the place switches


def _entity(question: str, person: bool = False) -> _Entity | None:
    """The entity a question is about: its first noun phrase holding a proper noun. `person`: the
    last phrase naming only people, when there is one."""
    if detect_language(question) == "en":
        names = _en_names(question)
        if not names:
            return None
        name = max(names, key=len)
        # "Wenzhou Municipal AI Bureau": the words before the first administrative word are places.
        administrative = _EN_ADMINISTRATIVE.search(name)
        return _Entity(name, (name[: administrative.start()].strip() or None) if administrative else None)
    tokens = _unknown_words(_tag(question))
    # The topic is named in the first clause: "2022年落地温州的麦田能源，在三年多时间里…".
    clause_end = next((i for i, t in enumerate(tokens) if t.text in _CLAUSE_END), len(tokens))
    # Its subject comes before the main verb: "泸州数据港是哪一年落地江阳区的？" is about the 数据港,
    # not 江阳区; a verb with a 的 after it modifies a noun ("2022年落地江阳区的X是…"). Not a person
    # who says something of it ("丁某认为泸州…"): a person is 他, not an entity (`_Context.person`).
    main = _main_verb(tokens[:clause_end])
    people = [r for r, _ in _proper_runs(tokens) if _of_people(r)] if person else []
    run = (people[-1] if people else None) or (
        (_last_proper_run(tokens[:main], people=False) if main is not None else None)
        or _last_proper_run(tokens[:clause_end], people=False)
        or _last_proper_run(tokens, people=False)
        # A question about a person only: "那李建国呢？" after it switches the person.
        or _last_proper_run(tokens)
    )
    # A which-question's topic is its answer ("哪个城市设立了数据产业局？" is not about a 数据产业局);
    # "X公司在哪里落地？" is about X.
    asked = _asked(question)
    if run is None and (asked is None or not asked.head):
        run = _organization_run(tokens)
    if run is None:
        return None
    # A name ends at its last proper noun or organization suffix: in "…发展局局长" the 局长 is the
    # attribute asked about, not part of the entity.
    last = max(i for i, t in enumerate(run) if t.proper or _ends_name(t) or _title_after_suffix(t))
    run = run[: last + 1]
    end = run[-1].start + 1 if _title_after_suffix(run[-1]) else run[-1].end
    # The place names that open it: single characters between them belong to the name (温州|湾|新区).
    places = 0
    for i, token in enumerate(run):
        if token.place:
            places = i + 1
        elif len(token.text) > 1:
            break
    text = question[run[0].start : end]
    opening = question[run[0].start : run[places - 1].end] if 0 < places < len(run) else None
    return _Entity(text, opening)


def _main_verb(tokens: list[_Token]) -> int | None:
    """Where the clause's main verb is: the first verb not followed, before the next verb, by a 的
    before a noun (which makes the verb part of the noun's modifier; a 的 closing "是…的" does not)."""
    verbs = [i for i, t in enumerate(tokens) if t.tag.startswith("v") and t.tag != "vn"]
    for n, i in enumerate(verbs):
        following = verbs[n + 1] if n + 1 < len(verbs) else len(tokens)
        if not any(
            tokens[j].text == "的" and j + 1 < len(tokens) and tokens[j + 1].nominal
            for j in range(i + 1, following)
        ):
            return i
    return None


def _unknown_words(tokens: list[_Token]) -> list[_Token]:
    """Single characters in a row, none a function word, followed by a noun, joined into one noun:
    a word jieba's dictionary lacks is cut into its characters (南京|智|算|中心), which would end
    the name. (Before anything else, 局|是 is a noun and a verb.)"""
    merged: list[_Token] = []
    i = 0
    while i < len(tokens):
        j = i
        while j < len(tokens) and _fragment(tokens[j]):
            j += 1
        if not (j - i >= 2 and j < len(tokens) and tokens[j].nominal):
            # Three or more up to one that is a noun are one too (数|安|港 before 是).
            j = next((m + 1 for m in range(j - 1, i + 1, -1) if tokens[m].tag in _NOUN_FRAGMENT_TAGS), i)
        if j - i >= 2:
            merged.append(
                _Token("".join(t.text for t in tokens[i:j]), "unknown", tokens[i].start, tokens[j - 1].end)
            )
            i = j
        else:
            merged.extend(tokens[i : max(j, i + 1)])
            i = max(j, i + 1)
    return merged


def _fragment(token: _Token) -> bool:
    return len(token.text) == 1 and bool(_HAN.match(token.text)) and token.tag in _FRAGMENT_TAGS


def _last_proper_run(tokens: list[_Token], people: bool = True) -> list[_Token] | None:
    """The last noun phrase holding a proper noun: the head of "…的麦田能源", not its modifier.

    A phrase a preposition governs ("…企业在城市治理场景的…") says where or to what, not what the
    question is about; it is the entity only when no other phrase names one. Without `people`, a
    phrase whose names are all people's is skipped.
    """
    named = [(run, governed) for run, governed in _proper_runs(tokens) if people or not _of_people(run)]
    chosen = [r for r, g in named if not g] or [r for r, _ in named]
    return chosen[-1] if chosen else None


def _of_people(run: list[_Token]) -> bool:
    """Every name in the phrase is a person's."""
    return all(t.tag.startswith("nr") for t in run if t.proper)


def _ends_name(token: _Token) -> bool:
    """The word ends in an organization's or place's suffix (…局, …公司, 集團)."""
    return to_simplified(token.text)[-1] in _NAME_END


def _organization_run(tokens: list[_Token]) -> list[_Token] | None:
    """A name jieba tags no part of as proper, told by its organization suffix after two or more
    words: 智能|信息|科技|（温州）|有限公司."""
    named = [run for run in _runs(tokens, lambda t: t.nominal) if len(run) > 2 and _ends_name(run[-1])]
    return named[0] if named else None


def _proper_runs(tokens: list[_Token]) -> list[tuple[list[_Token], bool]]:
    """The noun phrases holding a proper noun, each with whether a preposition governs it. The noun
    an interrogative governs is what is asked, not a name (jieba tags 哪个|城市 a place)."""
    runs: list[list[_Token]] = [[]]
    governed: list[bool] = [False]
    asked: list[bool] = [False]
    for i, token in enumerate(tokens):
        if token.nominal or token.proper:
            if not runs[-1]:
                governed[-1] = i > 0 and tokens[i - 1].tag == "p"
                asked[-1] = _asks_which(tokens, i)
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
            governed.append(False)
            asked.append(False)
    return [
        (r, g) for r, g, a in zip(runs, governed, asked, strict=True) if not a and any(t.proper for t in r)
    ]


def _asks_which(tokens: list[_Token], i: int) -> bool:
    return _determiner(tokens, i) is not None


def _determiner(tokens: list[_Token], i: int) -> int | None:
    """Where the 哪 governing the noun at i is (哪个|城市, 哪|座|城市, 哪|一家|公司), or None."""
    j = i - 1
    # jieba cuts off a measure word (哪|座) or a numeral with one (哪|一家).
    if j > 0 and (tokens[j].tag == "m" or to_simplified(tokens[j].text) in _CLASSIFIERS):
        j -= 1
    return j if j >= 0 and _ASKED_DETERMINER.fullmatch(to_simplified(tokens[j].text)) else None


@dataclass(frozen=True)
class _Asked:
    head: str  # the noun asked for: 城市, company; "" for 哪里 / where
    place: bool  # a kind of place: its answer is a place name
    subject: bool  # the question opens with it ("哪个城市最先…", "Which company's head…")
    person: bool = False  # a kind of person ("Which commentator…"): its answer is a person's name


def _asked(question: str) -> _Asked | None:
    """What a which-question asks for: 哪个城市, 哪家公司, which city, what company, 哪里, where."""
    # (An English question with a long Chinese name in it counts as Chinese: the pattern decides.)
    match = _EN_ASKED.match(question)
    if match is not None:
        if match.group("head") is None:
            return _Asked("", True, False)  # where
        # The asked noun may follow a modifier or two ("Which financial commentator…"); "What
        # year…", "Which measures…" ask for no name a pronoun could then mean.
        words = match.group("head").lower().split()
        head = next((form for word in words for form in lemmas(word) if form in _EN_ASKED_HEADS), None)
        if head is None:
            return None
        return _Asked(head, head in _EN_PLACE_HEADS, True, head in _EN_PERSON_HEADS)
    if detect_language(question) == "en":
        return None
    tokens = _content(_tag(question))
    for i, token in enumerate(tokens):
        if to_simplified(token.text) in _PLACES_ASKED:
            return _Asked("", True, False)
        determiner = _determiner(tokens, i) if token.nominal or token.proper else None
        if determiner is not None:
            head = to_simplified(token.text)
            return _Asked(head, token.place or head in _ZH_PLACE_HEADS, determiner == 0)
    return None


def _title_after_suffix(token: _Token) -> bool:
    """jieba's 局局长, 市市长: an organization suffix fused with the title of its head."""
    return len(token.text) > 2 and to_simplified(token.text[0]) in _NAME_END


def _strip_function_words(name: str) -> str:
    """A capitalized run without the question's opening words; a month ("January 4") is a date."""
    words = name.split()
    while words and (words[0].lower() in _EN_FUNCTION_WORDS or words[0].lower() in MONTHS):
        words = words[1:]
    return " ".join(words)


def _switch(previous: str, entity: _Entity, new: str) -> str:
    """The previous question asked about `new`: its entity (or only its place names) replaced."""
    if detect_language(new) == "en":
        # "And Zhejiang's governor?" after "Who is the governor of Jiangsu Province?": the asked
        # attribute is the previous question's, so only the possessor is new.
        possessive = _EN_POSSESSOR.match(new)
        if possessive and all(w in previous.lower() for w in (possessive.group(2) or "").lower().split()):
            new = possessive.group(1)
        # A name or two without an administrative word ("Nanjing") is taken for a place.
        only_places = len(new.split()) <= 2 and not _EN_ADMINISTRATIVE.search(new)
    else:
        # "那X的局长呢？" after "Y的副局长是谁？": both the entity and the attribute switch.
        words = _content(_tag(new))
        owner = next((i for i, t in enumerate(words) if t.text == "的"), 0)
        # "那宜宾的人工智能局呢？" switches the entity only: its Y is an organization, no attribute.
        asks_attribute = 0 < owner < len(words) - 1 and not _ends_name(words[-1]) and not words[-1].proper
        attribute = _attribute_after(previous, entity.text) if asks_attribute else None
        if attribute is not None:
            return (
                previous[: attribute[0]]
                + _in_script(new, detect_language(previous))
                + previous[attribute[1] :]
            )
        only_places = all(t.place for t in words)
    old = entity.text
    if only_places:
        # "四川呢？" after a question whose entity opens with no place ("浙江省公布的《发展规划》中…"):
        # the place the previous question names is what switches.
        old = entity.places or _first_place(previous) or entity.text
    language = detect_language(previous)
    if (
        language == "en"
        and re.match(r"the\s", new, re.I)
        and re.search(r"\bthe\s+" + re.escape(old), previous)
    ):
        new = new[4:].lstrip()  # "when was the X…" asked about "the Y": one article
    return previous.replace(old, _in_script(new, language), 1)


def _attribute_after(question: str, entity: str) -> tuple[int, int] | None:
    """Where the entity and the attribute asked of it run in a question ("Y的副局长" in
    "Y的副局长是谁？"), when a noun follows the entity (after a 的 or not)."""
    at = question.find(entity)
    if at < 0:
        return None
    after = [t for t in _tag(question) if t.start >= at + len(entity)]
    if after and after[0].text == "的":
        after = after[1:]
    nouns = list(itertools.takewhile(lambda t: t.nominal and not t.proper, after))
    return (at, nouns[-1].end) if nouns else None


def _first_place(question: str) -> str | None:
    """The first run of place names in a Chinese question ("浙江省")."""
    if detect_language(question) == "en":
        return None  # capitalized words are not told apart as places
    run: list[_Token] = []
    for token in _tag(question):
        if token.place:
            run.append(token)
        elif run:
            break
    return question[run[0].start : run[-1].end] if run else None


# --- English ------------------------------------------------------------------------------------


def _en_switch(question: str) -> str | None:
    match = _EN_SWITCH.match(question)
    if not match or _EN_QUESTION_WORD.search(match.group("x")) or _en_anaphors(match.group("x")):
        return None
    return match.group("x")


def _en_missing_subject(question: str) -> bool:
    """A short English question naming nothing ("In which years exactly?"), or a short one that
    opens with "and" ("And how many patents were granted?")."""
    short = len(question.split()) <= EN_MISSING_SUBJECT_MAX_WORDS
    if _EN_AND.match(question):
        return short
    return not _en_names(question) and not _NUMBER.search(question) and short


def _en_anaphors(question: str) -> list[re.Match[str]]:
    existential = [m.span() for m in _EN_EXISTENTIAL.finditer(question)]
    return [
        m
        for m in _EN_PRONOUN.finditer(question)
        if not (m.group(1).lower() == "there" and any(s <= m.start() < e for s, e in existential))
        # "did Shenzhen's Longgang District unveil its …": a name earlier in the question is what it refers to.
        and not _en_names(question[: m.start()])
    ]


def _en_names(text: str) -> list[str]:
    """The names an English text writes. A possessor's acronym before a common word is what it
    has, not part of its name: "Wenzhou's GDP reached" names Wenzhou. (A bare one may be a name
    doing something: "SMIC invested", "the UAE aimed".)"""
    names = []
    for match in _EN_NAME.finditer(text):
        name = _strip_function_words(match.group())
        if re.match(r"\s+[a-z]", text[match.end() :]):
            name = _EN_TRAILING_ACRONYM.sub("", name)
        # Without the possessive it is written with: "Luzhou's mayor" names Luzhou, so "its deputy"
        # and "there" become "Luzhou's deputy" and "in Luzhou".
        name = re.sub(r"['’]s$", "", name)
        if name:
            names.append(name)
    return names


def _en_edit(match: re.Match[str], context: _Context) -> _Edit:
    word = " ".join(match.group(1).lower().split())
    entity = (context.person() if word in _EN_PERSON_REFERENCES else None) or context.entity
    noun = word.split()[-1] if " " in word and word not in _EN_PERSON_REFERENCES else None
    if word in _EN_POSSESSIVE:
        replacement = entity + "'s"
    elif word == "there":
        replacement = "in " + entity
    elif noun and not entity.lower().endswith(noun) and entity.isascii():
        # "that plan" after a question about Luzhou is Luzhou's plan, not Luzhou; a Chinese name an
        # answer gave is the thing itself ("that company" after "Which company…?").
        replacement = f"{entity}'s {noun}"
    else:
        replacement = entity
    return _Edit(match.start(1), match.end(1), replacement)


# --- shared -------------------------------------------------------------------------------------


def _apply(question: str, edits: list[_Edit], language: Language) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = edit.text if edit.as_written else _in_script(edit.text, language)
        question = question[: edit.start] + text + question[edit.end :]
    return question


def _in_script(text: str, language: Language) -> str:
    """Carried-over words in the script of the question they go into."""
    if language == "zh-Hant":
        return to_traditional(text)
    if language == "zh-Hans":
        return to_simplified(text)
    return text
