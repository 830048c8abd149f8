"""The citation check on its own: generated answers against real passages of the repo corpus."""

from __future__ import annotations

import pytest

from aiqa.answering import REFUSALS
from aiqa.citecheck import UNSUPPORTED_MARK, check_answer, is_refusal, split_claims
from aiqa.models import Passage
from aiqa.pipeline import Pipeline
from aiqa.retrieval import make_query

from conftest import REAL_CORPUS

QUESTION = "温州市人工智能局是什么时候成立的？"
DATED = "2025年9月,温州市人工智能局成立"  # in a passage that gives the year
FIRST = "这也是全国首个专门的“人工智能局”"


@pytest.fixture(scope="module")
def passages(real_pipeline: Pipeline) -> list[Passage]:
    """Real chunks holding known facts, picked by content so retrieval changes cannot move them."""
    chunks = real_pipeline.index.chunks
    picked = [
        next(c for c in chunks if FIRST in c.text),
        next(c for c in chunks if "智算规模达2.1万P" in c.text),  # about Nanjing, not the bureau
        next(c for c in chunks if DATED in c.text),
    ]
    return [
        Passage(
            doc=c.doc,
            title=c.title,
            start=c.start,
            end=c.end,
            text=c.text,
            score=1.0,
            chunk_id=c.id,
            sentences=c.sentences,
        )
        for c in picked
    ]


def number_of(passages: list[Passage], phrase: str) -> int:
    return next(n for n, p in enumerate(passages, start=1) if phrase in p.text)


def test_sentences_keep_markers_before_or_after_their_end_punctuation() -> None:
    claims = split_claims("甲成立于5月[1]。乙在杭州。[2][3] 丙，见[4, 5]！Done [6].\n丁")
    assert [(c.text, c.cited) for c in claims] == [
        ("甲成立于5月。", [1]),
        ("乙在杭州。", [2, 3]),
        ("丙，见！", [4, 5]),
        ("Done.", [6]),
        ("丁", []),
    ]


def test_the_refusal_is_recognized_in_any_script_with_or_without_markers() -> None:
    assert is_refusal(REFUSALS["zh-Hans"])
    assert is_refusal("語料中沒有找到這個問題的答案 [1]")
    assert is_refusal("The corpus does not say.")
    assert is_refusal("温州市人工智能局于2025年9月成立。[1] 语料中没有找到这个问题的答案。")
    assert not is_refusal("温州市人工智能局于2025年9月成立。[1]")
    assert not is_refusal("The bureau opened in 2025 [1]. The corpus does not say where.")


def test_supported_sentences_are_kept_and_citations_renumbered_by_first_use(passages: list[Passage]) -> None:
    dated, first = number_of(passages, DATED), number_of(passages, FIRST)
    assert dated != first
    answer = f"它是全国首个专门的人工智能局[{first}]。温州市人工智能局于2025年9月成立[{dated}]。"
    draft = check_answer(answer, make_query(QUESTION), passages)
    assert draft.answerable
    assert draft.answer == "它是全国首个专门的人工智能局。 [1] 温州市人工智能局于2025年9月成立。 [2]"
    assert draft.notices == []
    assert [(c.n, c.doc, c.start) for c in draft.citations] == [
        (1, passages[first - 1].doc, passages[first - 1].start),
        (2, passages[dated - 1].doc, passages[dated - 1].start),
    ]
    documents = {p.name: p.read_text(encoding="utf-8") for p in REAL_CORPUS.iterdir()}
    for citation, phrase in zip(draft.citations, [FIRST, DATED], strict=True):
        assert documents[citation.doc][citation.start : citation.end] == citation.text
        highlighted = [documents[citation.doc][start:end] for start, end in citation.highlight]
        assert any(phrase in text for text in highlighted), highlighted
        assert all(citation.start <= start < end <= citation.end for start, end in citation.highlight)


def test_a_marker_to_a_missing_passage_is_removed(passages: list[Passage]) -> None:
    dated = number_of(passages, DATED)
    draft = check_answer(f"温州市人工智能局于2025年9月成立[{dated}][9]。", make_query(QUESTION), passages)
    assert draft.answer == "温州市人工智能局于2025年9月成立。 [1]"
    assert draft.notices == ["Removed citation [9]: there is no passage 9."]
    assert len(draft.citations) == 1


def test_a_wrong_number_makes_a_claim_unsupported(passages: list[Passage]) -> None:
    dated = number_of(passages, DATED)
    draft = check_answer(f"温州市人工智能局于2024年9月成立[{dated}]。", make_query(QUESTION), passages)
    assert not draft.answerable
    assert draft.answer == REFUSALS["zh-Hans"]
    assert draft.citations == []
    assert draft.notices == [
        "Dropped a sentence that is not supported by the passages it cites: “温州市人工智能局于2024年9月成立。”"
    ]


def test_a_citation_that_adds_nothing_is_removed_but_the_sentence_stays(passages: list[Passage]) -> None:
    first = number_of(passages, FIRST)
    other = next(n for n, p in enumerate(passages, start=1) if "首个" not in p.text)
    draft = check_answer(f"它是全国首个专门的人工智能局[{first}][{other}]。", make_query(QUESTION), passages)
    assert draft.answer == "它是全国首个专门的人工智能局。 [1]"
    assert [c.start for c in draft.citations] == [passages[first - 1].start]
    assert draft.notices == [
        f"Removed citation [{other}]: that passage does not support “它是全国首个专门的人工智能局。”"
    ]


def test_a_supported_clause_does_not_carry_an_unsupported_one(passages: list[Passage]) -> None:
    first = number_of(passages, FIRST)
    held = "温州市人工智能局在温州市数据局基础上加挂人工智能局牌子成立"
    query = make_query(QUESTION)
    assert check_answer(f"{held}[{first}]。", query, passages).answerable
    assert not check_answer(f"{held}，预算三十亿元[{first}]。", query, passages).answerable


@pytest.mark.parametrize("policy", ["drop", "mark"])
def test_uncited_sentences_are_dropped_or_marked(passages: list[Passage], policy: str) -> None:
    dated = number_of(passages, DATED)
    answer = f"温州市人工智能局于2025年9月成立[{dated}]。温州还将建设十个人工智能产业园。"
    draft = check_answer(answer, make_query(QUESTION), passages, policy)  # type: ignore[arg-type]
    assert draft.answerable
    if policy == "drop":
        assert draft.answer == "温州市人工智能局于2025年9月成立。 [1]"
        assert draft.notices == [
            "Dropped a sentence that cites no passage: “温州还将建设十个人工智能产业园。”"
        ]
    else:
        assert (
            draft.answer
            == f"温州市人工智能局于2025年9月成立。 [1] 温州还将建设十个人工智能产业园。 {UNSUPPORTED_MARK['zh-Hans']}"
        )
        assert draft.notices == [
            "Marked a sentence that cites no passage: “温州还将建设十个人工智能产业园。”"
        ]
    assert len(draft.citations) == 1


def test_english_claims_are_checked_through_dictionary_glosses(passages: list[Passage]) -> None:
    dated = number_of(passages, DATED)
    query = make_query("When was the Wenzhou AI bureau set up?")
    good = check_answer(
        f"The Wenzhou Artificial Intelligence Bureau was established in September 2025 [{dated}].",
        query,
        passages,
    )
    assert good.answerable and [c.start for c in good.citations] == [passages[dated - 1].start]
    wrong_month = check_answer(
        f"The Wenzhou Artificial Intelligence Bureau was established in March 2025 [{dated}].",
        query,
        passages,
    )
    invented = check_answer(f"The bureau was founded by Elon Musk in Shanghai [{dated}].", query, passages)
    for draft in (wrong_month, invented):
        assert not draft.answerable
        assert draft.answer == REFUSALS["en"]


def test_traditional_answers_are_checked_on_normalized_text(passages: list[Passage]) -> None:
    dated = number_of(passages, DATED)
    query = make_query("溫州市人工智能局是什麼時候成立的？")
    draft = check_answer(f"溫州市人工智能局於２０２５年９月成立[{dated}]。", query, passages)
    assert draft.answerable
    assert draft.answer == "溫州市人工智能局於２０２５年９月成立。 [1]"
    unsupported = check_answer(f"溫州市人工智能局的年度預算為三十億元[{dated}]。", query, passages)
    assert unsupported.answer == REFUSALS["zh-Hant"]


def test_invented_events_are_dropped_however_many_words_they_share(passages: list[Passage]) -> None:
    # The adversarial review's reply: both sentences share the bureau's name with the passage.
    first, dated = number_of(passages, FIRST), number_of(passages, DATED)
    answer = f"温州市人工智能局已经被撤销[{first}]。温州市人工智能局局长因腐败被捕[{dated}]。"
    draft = check_answer(answer, make_query(QUESTION), passages)
    assert not draft.answerable
    assert draft.citations == []
    assert len(draft.notices) == 2
    english = make_query("When was the Wenzhou AI bureau set up?")
    failure = check_answer(
        f"The city government says the Wenzhou Artificial Intelligence Bureau is a failure [{dated}].",
        english,
        passages,
    )
    assert not failure.answerable


@pytest.mark.parametrize(
    ("claim", "kept"),
    [
        ("温州市人工智能局成立于2025年9月", True),  # reworded
        ("温州市人工智能局于2025年9月设立", True),  # a dictionary synonym of 成立
        ("温州市人工智能局于2025年9月没有成立", False),  # negated
        ("温州市人工智能局可能于2025年9月成立", False),  # a possibility the passage does not state
        ("杭州市人工智能局于2025年9月成立", False),  # another city
        ("2025年9月，温州市人工智能局成立并开始招聘", False),  # an added clause
    ],
)
def test_a_claim_is_kept_only_when_it_adds_nothing(passages: list[Passage], claim: str, kept: bool) -> None:
    dated = number_of(passages, DATED)
    assert check_answer(f"{claim}[{dated}]。", make_query(QUESTION), passages).answerable is kept


def test_instruction_text_is_never_an_answer_sentence(passages: list[Passage]) -> None:
    from aiqa.llm import instructions

    dated = number_of(passages, DATED)
    query = make_query(QUESTION)
    answer = (
        f"温州市人工智能局于2025年9月成立[{dated}]。Rules: Use only facts stated in the passages. [{dated}]"
    )
    draft = check_answer(answer, query, passages, "mark", instructions(query))
    assert draft.answer == "温州市人工智能局于2025年9月成立。 [1]"
    assert draft.notices == [
        "Dropped a sentence that repeats the instructions: “Rules: Use only facts stated in the passages.”"
    ]


def test_a_passage_without_the_date_loses_its_marker_on_a_date_claim(passages: list[Passage]) -> None:
    dated, first = number_of(passages, DATED), number_of(passages, FIRST)
    draft = check_answer(
        f"2025年9月，温州市人工智能局成立[{dated}][{first}]。", make_query(QUESTION), passages
    )
    assert [c.start for c in draft.citations] == [passages[dated - 1].start]
    assert draft.notices[0].startswith(f"Removed citation [{first}]")


def test_notices_quote_a_short_excerpt_of_a_long_sentence(passages: list[Passage]) -> None:
    dated = number_of(passages, DATED)
    runaway = "该局" * 50_000
    draft = check_answer(
        f"温州市人工智能局于2025年9月成立[{dated}]。{runaway}[{dated}]。", make_query(QUESTION), passages
    )
    assert draft.answerable
    assert len(draft.notices) == 1 and len(draft.notices[0]) < 200


def test_the_questions_names_are_not_held_by_asking_for_them(passages: list[Passage]) -> None:
    dated = number_of(passages, DATED)
    query = make_query("杭州市人工智能局是什么时候成立的？")  # the corpus has Wenzhou's, not Hangzhou's
    assert not check_answer(f"杭州市人工智能局于2025年9月成立[{dated}]。", query, passages).answerable
    # ...while the question's common words are no news in the answer
    asked = make_query("温州市人工智能局的成立日期是哪一天？")
    assert check_answer(f"温州市人工智能局的成立日期是2025年9月[{dated}]。", asked, passages).answerable
