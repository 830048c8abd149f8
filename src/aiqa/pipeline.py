"""The pipeline: open (or build) the index, then answer questions with it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache

from .answer.answerer import ExtractiveAnswerer
from .answering import Answerer, Draft
from .chinese import detect_language, spells
from .chunking import ChunkingParams
from .condense import carried_people, condense, in_frame, names_typed, with_topic
from .embedders import EmbedderChoice, choose_embedder, embedder_for_index
from .embedding import Embedder
from .errors import AiqaError, IndexStateError, QuestionError, SettingsError
from .llm import LLMAnswerer, LLMConfig
from .models import Answer
from .reranking import RerankerChoice, RerankingRetriever, choose_reranker
from .retrieval import HybridRetriever, Query, Retriever, Term, make_query
from .settings import Settings
from .store import BuildReport, CorpusChanges, Progress, corpus_changes, incompatibility, outdated
from .stores import SearchIndex, Store, open_store

MAX_QUESTION_CHARS = 2000
RETRIEVED_SHOWN = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Lone surrogates: undecodable bytes of a command-line argument; they cannot be printed or encoded.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def chunking_params(settings: Settings, embedder: Embedder) -> ChunkingParams:
    return ChunkingParams(
        chunk_chars=settings.chunk_size(embedder.spec.kind), chunk_overlap=settings.chunk_overlap
    )


def clean_question(question: str) -> str:
    """The question with control characters removed, or a QuestionError a user can act on."""
    question = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", question)).strip()
    if not question:
        raise QuestionError("The question is empty; type a question about the corpus.")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(question):,} characters long; keep it under {MAX_QUESTION_CHARS:,} characters."
        )
    return question


def store_for(settings: Settings) -> Store:
    return open_store(settings.store, settings.index, settings.milvus_token)


def build(
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    choice: EmbedderChoice | None = None,
    wait: float = 0,
    if_changed: bool = False,
) -> BuildReport:
    choice = choice or choose_embedder(settings)
    return store_for(settings).build(
        settings.corpus,
        choice.embedder,
        chunking_params(settings, choice.embedder),
        rebuild=rebuild,
        progress=progress,
        wait=wait,
        if_changed=if_changed,
    )


@dataclass
class Pipeline:
    settings: Settings
    choice: EmbedderChoice
    index: SearchIndex
    answerers: dict[str, Answerer]
    build_report: BuildReport | None = None
    reranker: RerankerChoice | None = None
    # Said with every answer: why this index is older than the corpus (see `open`).
    notices: tuple[str, ...] = ()

    @classmethod
    def open(
        cls, settings: Settings, *, build_if_missing: bool = True, progress: Progress | None = None
    ) -> Pipeline:
        """Load the index, building it first when there is none, and updating it first when the
        corpus changed since it was built (where the caller allows building): offsets into a
        changed file would cite the wrong text.

        The embedder is the one the index's manifest names; the settings choose it only for a new
        index, so asking never looks for models on the network.

        Only one process builds: the others wait for it up to `settings.update_wait` seconds. When
        the update cannot be made in time (or fails, a full disk say), the current index answers,
        with a notice on every answer.
        """
        report = None
        notices: tuple[str, ...] = ()
        store = store_for(settings)
        manifest = store.read_manifest()
        if manifest is None:
            if not build_if_missing:
                raise IndexStateError(f"There is no index in {settings.index}; run `aiqa index` to build it.")
            choice = choose_embedder(settings)
            report = build(
                settings, progress=progress, choice=choice, wait=settings.update_wait, if_changed=True
            )
        else:
            reason = outdated(manifest)
            loaded = reason or embedder_for_index(manifest.embedder, settings)
            if isinstance(loaded, str):
                reason = loaded
            else:
                choice = EmbedderChoice(loaded)
                reason = incompatibility(manifest, loaded, chunking_params(settings, loaded))
            if reason:
                raise IndexStateError(
                    f"The index in {settings.index} cannot be used: {reason}; run `aiqa index`."
                )
            changes = corpus_changes(settings.corpus, manifest)
            if changes.any:
                if not build_if_missing:
                    raise IndexStateError(
                        f"The corpus changed since the index was built ({changes.describe()}); run `aiqa index`."
                    )
                try:
                    report = build(
                        settings, progress=progress, choice=choice, wait=settings.update_wait, if_changed=True
                    )
                except AiqaError as error:
                    notices = (
                        f"The corpus changed ({changes.describe()}) but the index could not be updated "
                        f"({str(error).rstrip('.')}); answering from the index built {manifest.built_at}.",
                    )
        index = store.load()
        _search_with_one_thread()
        return cls(
            settings,
            choice,
            index,
            make_answerers(settings, index),
            report,
            choose_reranker(settings),
            notices,
        )

    @property
    def answerer_names(self) -> list[str]:
        return list(self.answerers)

    def corpus_changes(self) -> CorpusChanges:
        return corpus_changes(self.settings.corpus, self.index.manifest)

    def ask(
        self,
        question: str,
        k: int | None = None,
        answerer: str | None = None,
        history: Sequence[str] | None = None,
    ) -> Answer:
        for event in self.ask_stream(question, k, answerer, history):
            if isinstance(event, Answer):
                return event
        raise AssertionError("ask_stream ends with an Answer")

    def _earlier_answers(self, k: int) -> Callable[[str], list[str]]:
        """The sentences the extractive answerer quotes for an earlier question of the conversation,
        the model's best first, or none when it refuses (asked only when a follow-up needs them: see
        `condense`), once per question."""
        extractive = self._extractive

        @cache
        def quotes(question: str) -> list[str]:
            try:
                query = self._query(clean_question(question))
            except QuestionError:  # an earlier turn too long to ask names nothing to refer to
                return []
            decision = extractive.decide(query, self.retriever().retrieve(query, k))
            return [c.text for c in extractive.best_first(decision.ranked)] if decision.answerable else []

        return quotes

    def _query(self, question: str) -> Query:
        """The question's query; an English one is glossed through the index's lexicon."""
        return make_query(question, self.index.lexicon if detect_language(question) == "en" else None)

    def ask_stream(
        self,
        question: str,
        k: int | None = None,
        answerer: str | None = None,
        history: Sequence[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Text deltas of the answer as it is composed, then the final Answer.

        `history` holds the earlier questions of the conversation, oldest first; a follow-up that
        leans on them is rewritten into a self-contained question before retrieval.

        The final answer may differ from the concatenated deltas (an LLM draft is checked after it
        is generated); front ends replace what they streamed with it.
        """
        started = time.perf_counter()
        question = clean_question(question)
        k = k or self.settings.k
        chosen = self.answerers[answerer or next(iter(self.answerers))]
        # The LLM rewrites follow-ups only for its own answers: whoever picked the extractive
        # answerer asked for an answer without the LLM, and gets the code path's rewrite.
        rewriter = chosen.condense if isinstance(chosen, LLMAnswerer) else None
        earlier = self._earlier_answers(k)
        rewritten = condense(question, history or [], rewriter, earlier)
        query = self._asked(question, rewritten)
        retrieved = self.retriever().retrieve(query, max(k, RETRIEVED_SHOWN))
        if rewritten is None and history and not self._extractive.decide(query, retrieved[:k]).answerable:
            # Read alone the follow-up is refused: it may lean on the conversation in a way the
            # rewrite did not see ("开园时请了哪些嘉宾？"). Read with the topic carried in, it is
            # taken only when that reading is answered (the gate of every answerer).
            for carried in (with_topic(question, history, earlier), in_frame(question, history)):
                if carried is None:
                    continue
                alternative = self._asked(question, carried)
                found = self.retriever().retrieve(alternative, max(k, RETRIEVED_SHOWN))
                if self._extractive.decide(alternative, found[:k]).answerable:
                    rewritten, query, retrieved = carried, alternative, found
                    break
        draft = None
        for event in chosen.stream(query, retrieved[:k]):
            if isinstance(event, Draft):
                draft = event
            else:
                yield event
        assert draft is not None, f"answerer {chosen.name} ended its stream without a draft"
        yield Answer(
            question=question,
            rewritten=rewritten,
            answer=draft.answer,
            answerable=draft.answerable,
            citations=draft.citations,
            retrieved=retrieved[:RETRIEVED_SHOWN],
            embedder=self.choice.embedder.name,
            answerer=draft.answerer or chosen.name,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            notices=[*self.notices, *draft.notices],
        )

    def _asked(self, question: str, rewritten: str | None) -> Query:
        """The query retrieval and the answerer get: the rewrite's words, the question's language."""
        query = self._query(rewritten or question)
        # The answer is in the language the user asked in, whatever the carried-over words are in.
        return replace(
            query,
            language=detect_language(question),
            follow_up=rewritten is not None,
            typed_names=self._typed_names(question) if rewritten else (),
            carried_people=carried_people(question, rewritten) if rewritten else (),
        )

    @property
    def _extractive(self) -> ExtractiveAnswerer:
        extractive = self.answerers["extractive"]
        assert isinstance(extractive, ExtractiveAnswerer)
        return extractive

    def _typed_names(self, question: str) -> tuple[Term, ...]:
        """The names a follow-up typed, with the forms a Chinese sentence names them by. An English
        word counts when it spells one of its Chinese forms (Suzhou: 苏州); a capitalized common
        word is only glossed (Bureau: 署, Party: 党) and is not looked for."""
        named = []
        for name in names_typed(question):
            forms = tuple(form for term in make_query(name, self.index.lexicon).terms for form in term.forms)
            chinese = [form for form in forms if not form.isascii()]
            if chinese and (not name.isascii() or any(spells(name, form) for form in chinese)):
                named.append(Term(name, forms))
        return tuple(named)

    def retriever(self) -> Retriever:
        hybrid = HybridRetriever(self.index, self.choice.embedder, self.settings.dense_weight)
        if self.reranker and self.reranker.reranker:
            return RerankingRetriever(hybrid, self.reranker.reranker)
        return hybrid


def _search_with_one_thread() -> None:
    """One query is a memory-bound scan; FAISS's OpenMP threads spin-wait for each other, and on a
    busy 2-core machine that made a query of a 50 MB index take 130 ms instead of 35 ms.
    (Process-wide: a build later in the same process runs FAISS single-threaded too.)"""
    import faiss

    faiss.omp_set_num_threads(1)


def make_answerers(settings: Settings, index: SearchIndex) -> dict[str, Answerer]:
    """The available answerers, the default first: the LLM when one is configured, unless told otherwise."""
    extractive = ExtractiveAnswerer(index.idf, index.manifest.embedder.id)
    config = LLMConfig.from_settings(settings)
    if config is None:
        if settings.answerer == "llm":
            raise SettingsError(
                "AIQA_ANSWERER=llm needs an LLM endpoint; set AIQA_LLM_BASE_URL and AIQA_LLM_MODEL, "
                "or use AIQA_ANSWERER=extractive."
            )
        return {"extractive": extractive}
    llm = LLMAnswerer(config, extractive)
    if settings.answerer == "extractive":
        return {"extractive": extractive, "llm": llm}
    return {"llm": llm, "extractive": extractive}
