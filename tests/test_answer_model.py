"""The learned answer step: its features, its ranking, its threshold, and rebuilding its weights."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aiqa.answer.answerer import ExtractiveAnswerer
from aiqa.answer.features import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    candidates,
    kinds_held,
    kinds_lacking,
    question_features,
    question_terms,
    sentence_features,
)
from aiqa.answer.model import MODEL_FILES, load_model
from aiqa.answering import REFUSALS
from aiqa.chinese import detect_language, normalize, spells
from aiqa.condense import carried_people
from aiqa.embedding import HashingEmbedder
from aiqa.pipeline import Pipeline
from aiqa.retrieval import Term, make_query
from aiqa.settings import Settings

from conftest import REPO

ARTICLE = """青田港务局

青田港务局是青田县管理港口事务的机构。
青田港务局于2019年3月成立，首任局长是林海峰。
该局设有四个科室，共有工作人员35名。
青田港位于瓯江中游，年吞吐量约为120万吨。
"""
OTHER = """松阳茶叶博物馆

松阳茶叶博物馆收藏了各地的茶具。
博物馆每周一闭馆，其余时间免费开放。
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    root = tmp_path_factory.mktemp("small")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "qingtian.txt").write_text(ARTICLE, encoding="utf-8")
    (corpus / "songyang.txt").write_text(OTHER, encoding="utf-8")
    return Pipeline.open(Settings(corpus=corpus, index=root / "index", embedder="offline"))


def features_of(pipeline: Pipeline, question: str) -> tuple[list[str], np.ndarray]:
    query = make_query(question)
    passages = pipeline.retriever().retrieve(query, 5)
    terms = question_terms(query, pipeline.index.idf)
    found = candidates(passages)
    return [c.text for c in found], sentence_features(query, terms, passages, found)


def column(name: str) -> int:
    return SENTENCE_FEATURES.index(name)


def test_coverage_and_kind_features_on_hand_written_sentences(small: Pipeline) -> None:
    texts, rows = features_of(small, "青田港务局是什么时候成立的？")
    dated = texts.index("青田港务局于2019年3月成立，首任局长是林海峰。")
    undated = texts.index("青田港务局是青田县管理港口事务的机构。")
    assert rows.shape == (len(texts), len(SENTENCE_FEATURES))
    assert rows[dated, column("coverage")] == pytest.approx(1.0)
    assert rows[undated, column("coverage")] < 1.0
    assert rows[dated, column("date_held")] == 1.0 and rows[dated, column("type_missing")] == 0.0
    assert rows[undated, column("date_held")] == 0.0 and rows[undated, column("type_missing")] == 1.0
    assert rows[dated, column("coverage_gap")] == 0.0
    assert rows[:, column("novelty")].min() >= 0.0 and rows[:, column("novelty")].max() <= 1.0


def test_a_kind_the_question_itself_names_does_not_count_as_held(small: Pipeline) -> None:
    terms = question_terms(make_query("2019年青田港务局有多少名工作人员？"), small.index.idf)
    assert terms.asks == ("number",)
    assert kinds_held(terms, "2019年青田港务局") == set()
    assert kinds_held(terms, "共有工作人员35名") == {"number"}


def test_an_asked_kind_is_lacking_unless_a_text_holds_one_beyond_the_question(small: Pipeline) -> None:
    terms = question_terms(make_query("青田港务局有多少名工作人员？"), small.index.idf)
    assert kinds_lacking(terms, [normalize("青田港务局是青田县管理港口事务的机构。")]) == ("number",)
    # A date's digits are no count.
    assert kinds_lacking(terms, [normalize("青田港务局于2019年3月成立。")]) == ("number",)
    assert (
        kinds_lacking(terms, [normalize("青田港务局于2019年3月成立。"), normalize("共有工作人员35名。")])
        == ()
    )
    who = question_terms(make_query("青田港务局的首任局长是谁？"), small.index.idf)
    assert kinds_lacking(who, [normalize("首任局长是林海峰。")]) == ()
    assert kinds_lacking(who, [normalize("局长林海峰表示，港口将扩建。")]) == ()
    # A role that speaks names no one.
    assert kinds_lacking(who, [normalize("青田港务局负责人表示，港口将扩建。")]) == ("person",)
    assert kinds_lacking(who, [normalize("港务局工作人员说，港口将扩建。")]) == ("person",)
    assert kinds_lacking(who, [normalize("业内专家认为，港口将扩建。")]) == ("person",)
    # A surname jieba tags as another word (张|剑锋) still makes a name.
    assert kinds_lacking(who, [normalize("记者张剑锋表示，港口将扩建。")]) == ()
    # A question asking for no date, count or person lacks nothing.
    what = question_terms(make_query("青田港务局管理什么？"), small.index.idf)
    assert kinds_lacking(what, [normalize("松阳茶叶博物馆收藏了各地的茶具。")]) == ()


def test_a_follow_up_whose_answer_lacks_the_asked_kind_is_refused(small: Pipeline) -> None:
    history = ["青田港务局是管理什么的机构？"]
    founded = small.ask("它是什么时候成立的？", history=history)
    assert founded.rewritten and founded.answerable and "2019年3月" in founded.answer
    # The same sentences that say what the bureau manages hold no budget; asked as a follow-up,
    # the question is refused whatever the model's probability, and says why.
    query = dataclasses.replace(make_query("青田港务局每年的预算是多少？"), follow_up=True)
    passages = small.retriever().retrieve(query, 5)
    always = ExtractiveAnswerer(small.index.idf, small.index.manifest.embedder.id, threshold=0.0)
    decision = always.decide(query, passages)
    assert not any("预算" in c.text for c, _ in decision.ranked)
    assert not decision.answerable and decision.lacking == ("number",)
    assert always.answer(query, passages).notices == ["找到的句子没有给出所问的数字。"]
    assert always.decide(dataclasses.replace(query, follow_up=False), passages).answerable


def test_a_follow_up_about_a_person_carried_in_needs_a_passage_naming_them(small: Pipeline) -> None:
    rewritten = "李建国常去的博物馆收藏了什么？"
    assert carried_people("他常去的博物馆收藏了什么？", rewritten) == ("李建国",)
    assert carried_people(rewritten, rewritten) == ()
    # What took the pronoun's place, not what the name tagger reads around it (周威曾), and not the
    # conversation's entity put in for "he" when no person was found.
    assert carried_people("他曾怎样解释处室的命名？", "周威曾怎样解释处室的命名？") == ("周威",)
    assert carried_people("What did he say?", "What did Luzhou Data Bureau say?") == ()
    assert carried_people("他担任什么职务？", "局长李建国担任什么职务？") == ("李建国",)
    query = dataclasses.replace(make_query(rewritten), follow_up=True, carried_people=("李建国",))
    passages = small.retriever().retrieve(query, 5)
    always = ExtractiveAnswerer(small.index.idf, small.index.manifest.embedder.id, threshold=0.0)
    decision = always.decide(query, passages)
    # The museum's collection is the best match; no passage names him.
    assert "博物馆" in decision.ranked[0][0].text
    assert not decision.answerable and decision.unnamed == "李建国"
    assert always.decide(dataclasses.replace(query, carried_people=()), passages).answerable
    # Named in the passage, though not in the quoted sentence: answered.
    founded = dataclasses.replace(
        make_query("林海峰所在的港务局有多少名工作人员？"), follow_up=True, carried_people=("林海峰",)
    )
    assert always.decide(founded, small.retriever().retrieve(founded, 5)).answerable


def test_an_entity_switch_answered_about_another_entity_is_refused(small: Pipeline) -> None:
    history = ["青田港务局有多少名工作人员？"]
    switched = small.ask("那松阳呢？", history=history)
    assert switched.rewritten and "松阳" in switched.rewritten and not switched.answerable
    assert switched.notices == ["找到的句子没有提到“松阳”。"]
    # The count is there, about Qingtian's bureau: quoted only when the switch is not checked.
    query = dataclasses.replace(
        make_query(switched.rewritten), follow_up=True, typed_names=(Term("松阳", ("松阳",)),)
    )
    passages = small.retriever().retrieve(query, 5)
    always = ExtractiveAnswerer(small.index.idf, small.index.manifest.embedder.id, threshold=0.0)
    assert not always.decide(query, passages).answerable
    assert always.decide(dataclasses.replace(query, typed_names=()), passages).answerable
    back = small.ask("那青田港务局呢？", history=["松阳茶叶博物馆有多少名工作人员？"])
    assert back.answerable and "35名" in back.answer
    # A name the follow-up types, not only the entity it switches to; an English capitalized word
    # that only glosses a common word (Bureau) is not looked for.
    typed = small.ask("它在松阳有多少名工作人员？", history=["青田港务局是管理什么的机构？"])
    assert not typed.answerable and typed.notices == ["找到的句子没有提到“松阳”。"]
    assert spells("Songyang", "松阳") and spells("Suzhou", "蘇州") and not spells("Bureau", "署")
    english = small.ask("And Songyang?", history=["How many staff does 青田港务局 have?"])
    assert not english.answerable and english.notices == ["The sentences found do not mention Songyang."]


def question_row(pipeline: Pipeline, question: str) -> dict[str, float]:
    query = make_query(question, pipeline.index.lexicon if detect_language(question) == "en" else None)
    passages = pipeline.retriever().retrieve(query, 5)
    terms = question_terms(query, pipeline.index.idf)
    found = candidates(passages)
    sentence_rows = sentence_features(query, terms, passages, found)
    logits = load_model(pipeline.index.manifest.embedder.id).sentence.logits(sentence_rows)
    return dict(
        zip(
            QUESTION_FEATURES,
            question_features(query, terms, passages, found, sentence_rows, logits),
            strict=True,
        )
    )


def test_the_focus_is_the_term_next_to_the_question_word(small: Pipeline) -> None:
    for question, focus in (
        ("青田港的年吞吐量是多少？", "吞吐量"),
        ("青田港务局的首任局长是谁？", "局长"),
    ):
        query = make_query(question)
        terms = question_terms(query, small.index.idf)
        assert terms.focus is not None and focus in query.terms[terms.focus].surface, (question, terms.focus)
    assert question_terms(make_query("青田港务局"), small.index.idf).focus is None


def test_a_sentence_that_lacks_a_rare_term_of_the_question_says_so(small: Pipeline) -> None:
    texts, rows = features_of(small, "青田港务局的首任局长是谁？")
    with_head = texts.index("青田港务局于2019年3月成立，首任局长是林海峰。")
    without = texts.index("青田港务局是青田县管理港口事务的机构。")
    assert rows[with_head, column("missing_max")] == 0.0 and rows[without, column("missing_max")] > 0.0
    assert (
        rows[with_head, column("focus_in_sentence")] == 1.0
        and rows[without, column("focus_in_sentence")] == 0.0
    )


def test_a_question_about_another_name_sees_the_name_missing(small: Pipeline) -> None:
    own = question_row(small, "青田港务局是什么时候成立的？")
    other = question_row(small, "松阳港务局是什么时候成立的？")  # 松阳 is discussed, but not its port
    assert own["has_names"] == other["has_names"] == 1.0
    assert own["names_missing_passage"] == 0.0
    assert other["names_missing_passage"] == 1.0 and other["names_missing_window"] == 1.0


def test_the_focus_prefers_the_thing_asked_about_to_a_verb_beside_it(small: Pipeline) -> None:
    query = make_query("青田港务局设了多少个科室？")  # 设 and 科室 are both next to 多少(个)
    terms = question_terms(query, small.index.idf)
    assert terms.focus is not None and query.terms[terms.focus].surface == "科室"


def test_a_measure_word_belongs_to_the_question_word_not_the_focus(small: Pipeline) -> None:
    query = make_query("青田港务局共有多少名工作人员？")  # 名 counts 工作人员: the thing asked about
    terms = question_terms(query, small.index.idf)
    assert terms.focus is not None and query.terms[terms.focus].surface == "工作人员"


def test_a_person_named_without_a_verb_of_saying_fills_a_who_slot(small: Pipeline) -> None:
    texts, rows = features_of(small, "青田港务局的首任局长是谁？")
    named = texts.index("青田港务局于2019年3月成立，首任局长是林海峰。")
    unnamed = texts.index("青田港务局是青田县管理港口事务的机构。")
    assert rows[named, column("person_held")] == 1.0 and rows[unnamed, column("person_held")] == 0.0
    assert rows[named, column("slot_near_focus")] > 0.4 and rows[unnamed, column("slot_near_focus")] == 0.0


def test_a_question_for_a_name_asks_for_one_and_sees_it_held(small: Pipeline) -> None:
    for question in (
        "青田港归哪个部门管理？",
        "青田港务局隶属于哪家机构？",
        "Which agency manages the port?",
    ):
        assert "name" in question_terms(make_query(question), small.index.idf).asks, question
    terms = question_terms(make_query("青田港归哪个部门管理？"), small.index.idf)
    assert kinds_held(terms, "青田港由县交通运输局管理") == {"name"}
    assert kinds_held(terms, "青田港年吞吐量约为120万吨") == set()


def test_a_window_without_the_question_s_numbers_says_so(small: Pipeline) -> None:
    texts, rows = features_of(small, "青田港务局2019年有多少名工作人员？")
    assert rows[texts.index("该局设有四个科室，共有工作人员35名。"), column("numbers_missing_window")] == 0.0
    texts, rows = features_of(small, "青田港务局2023年有多少名工作人员？")
    assert rows[:, column("numbers_missing_window")].min() == 1.0  # no passage names 2023
    texts, rows = features_of(small, "青田港务局有多少名工作人员？")
    assert rows[:, column("numbers_missing_window")].max() == 0.0  # no number asked: nothing missing


def test_the_asked_kind_next_to_the_focus_scores_higher_than_one_far_from_it(small: Pipeline) -> None:
    texts, rows = features_of(small, "青田港的年吞吐量是多少？")
    near = rows[texts.index("青田港位于瓯江中游，年吞吐量约为120万吨。"), column("slot_near_focus")]
    far = rows[texts.index("该局设有四个科室，共有工作人员35名。"), column("slot_near_focus")]
    assert near > 0.4 and far == 0.0
    texts, rows = features_of(small, "青田港务局位于哪个县？")  # asks for a place: no number slot
    assert rows[:, column("slot_near_terms")].max() <= 1.0
    texts, rows = features_of(small, "青田港务局")  # asks for nothing
    assert rows[:, column("slot_near_focus")].max() == rows[:, column("slot_near_terms")].max() == 0.0


def test_a_sentence_naming_another_name_of_the_asked_kind_replaces_it(small: Pipeline) -> None:
    assert question_row(small, "青田港务局是什么时候成立的？")["names_replaced"] == 0.0
    assert question_row(small, "松阳港务局是什么时候成立的？")["names_replaced"] > 0.0


def test_question_features_see_terms_the_corpus_never_uses(small: Pipeline) -> None:
    assert question_row(small, "青田港务局的首任局长是谁？")["absent_weight"] == 0.0
    assert question_row(small, "宁波舟山港的首任局长是谁？")["absent_weight"] > 0.3


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("青田港务局是什么时候成立的？", "2019年3月"),
        ("青田港务局有多少名工作人员？", "35名"),
        ("青田港的年吞吐量是多少？", "120万吨"),
        ("松阳茶叶博物馆收藏了什么？", "各地的茶具"),
    ],
)
def test_the_sentence_that_holds_the_answer_is_quoted(small: Pipeline, question: str, answer: str) -> None:
    result = small.ask(question)
    assert result.answerable and answer in result.answer, (question, result.answer)
    texts = {c.doc: (small.settings.corpus / c.doc).read_text(encoding="utf-8") for c in result.citations}
    for citation in result.citations:
        assert texts[citation.doc][citation.start : citation.end] == citation.text
    assert any(answer in texts[c.doc][s:e] for c in result.citations for s, e in c.highlight)


def test_the_threshold_decides_refusal(small: Pipeline) -> None:
    question = "今天晚饭做红烧肉需要炖多久？"
    query = make_query(question)
    passages = small.retriever().retrieve(query, 5) or small.retriever().retrieve(make_query("青田港务局"), 5)
    always = ExtractiveAnswerer(small.index.idf, small.index.manifest.embedder.id, threshold=0.0)
    never = ExtractiveAnswerer(small.index.idf, small.index.manifest.embedder.id, threshold=1.01)
    default = ExtractiveAnswerer(small.index.idf, small.index.manifest.embedder.id)
    assert always.answer(query, passages).answerable
    assert never.answer(query, passages).answer == REFUSALS["zh-Hans"]
    decision = default.decide(query, passages)
    assert decision.probability < default.threshold and not default.answer(query, passages).answerable
    assert 0.0 < default.threshold < 1.0


def test_another_embedders_similarity_is_not_read(small: Pipeline) -> None:
    query = make_query("青田港务局是什么时候成立的？")
    passages = small.retriever().retrieve(query, 5)
    foreign = ExtractiveAnswerer(small.index.idf, "some-other-embedder")
    high = [p.model_copy(update={"dense": 0.99}) for p in passages]
    low = [p.model_copy(update={"dense": None}) for p in passages]
    assert foreign.decide(query, high).probability == foreign.decide(query, low).probability


def _training_module():
    spec = importlib.util.spec_from_file_location("train_answerer", REPO / "scripts" / "train_answerer.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_training_is_deterministic_and_numpy_reads_what_scikit_learn_learned(small: Pipeline) -> None:
    train = _training_module()
    rows = np.vstack(
        [features_of(small, q)[1] for q in ("青田港务局是什么时候成立的？", "青田港的年吞吐量是多少？")]
    )
    rng = np.random.default_rng(0)
    x = np.vstack([rows + rng.normal(0, 0.01, rows.shape) for _ in range(20)])
    y = (x[:, column("coverage")] + rng.normal(0, 0.2, len(x)) > 0.5).astype(int)
    first, second = train.fit(x, y, SENTENCE_FEATURES), train.fit(x, y, SENTENCE_FEATURES)
    assert first.model_dump_json() == second.model_dump_json()  # fit() also checks numpy against sklearn
    assert first.trees and first.features == list(SENTENCE_FEATURES)


def test_each_shipped_model_is_readable_names_its_features_and_is_chosen_by_its_embedder() -> None:
    for name in MODEL_FILES:
        assert (REPO / "src/aiqa" / name).stat().st_size < 200_000
    default, offline = load_model(), load_model(HashingEmbedder().id)
    assert offline.embedder == HashingEmbedder().id and default.embedder != offline.embedder
    assert load_model("some-other-embedder") is default and load_model(default.embedder) is default
    for model in (default, offline):
        assert tuple(model.sentence.features) == SENTENCE_FEATURES
        assert tuple(model.answerable.features) == QUESTION_FEATURES
        assert model.trained_on["questions"] > 800


@pytest.mark.slow
@pytest.mark.parametrize(("embedder", "name"), [(None, MODEL_FILES[0]), ("offline", MODEL_FILES[1])])
def test_the_training_command_rebuilds_the_shipped_weights_byte_for_byte(
    tmp_path: Path, embedder: str | None, name: str
) -> None:
    env = {key: value for key, value in os.environ.items() if key != "AIQA_EMBEDDER"}
    if embedder:
        env["AIQA_EMBEDDER"] = embedder
    out = tmp_path / "answer_model.json"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts/train_answerer.py"),
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    assert out.read_bytes() == (REPO / "src/aiqa" / name).read_bytes()


def test_name_swapped_negatives_ask_of_another_name_of_the_same_kind() -> None:
    train = _training_module()
    questions = [
        train.Question("a", "青田港务局是什么时候成立的？", ["2019年3月"], "qingtian"),
        train.Question("b", "松阳茶叶博物馆收藏了什么？", ["各地的茶具"], "songyang"),
        train.Question("c", "今天晚饭做红烧肉需要炖多久？", ["两小时"], "dinner"),  # no name: not swapped
    ]
    swapped = train.swapped(questions)
    assert [q.text for q in swapped] == [
        normalize("松阳港务局是什么时候成立的？"),
        normalize("青田茶叶博物馆收藏了什么？"),
    ]
    assert [q.group for q in swapped] == ["qingtian", "songyang"] and all(not q.answers for q in swapped)
