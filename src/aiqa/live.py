"""The pipeline a long-running server answers with, rebuilt and swapped in whole.

Questions keep using the Pipeline object they started with; a rebuild loads the new index into a
new Pipeline and replaces the reference in one assignment, so no question ever sees half an index.
A failed rebuild raises and leaves the current pipeline (and, by the store's atomic swap, the
index directory) as it was. An index another process swaps in (`aiqa index` beside a running
server) is loaded the same way before the next question.
"""

from __future__ import annotations

import threading

from pydantic import BaseModel

from .errors import AiqaError
from .pipeline import Pipeline, build, chunking_params, make_answerers, store_for
from .store import BuildReport, CorpusChanges, Progress, incompatibility


class IndexStatus(BaseModel):
    """What a front end shows at all times about the index it answers from."""

    embedder: str
    answerers: list[str]
    reranker: str | None = None  # shown only when AIQA_RERANKER asks for one
    documents: int
    chunks: int
    built_at: str
    changes: CorpusChanges
    problem: str | None = None  # why the corpus could not be compared with the index
    # When another process (`aiqa index`) swapped in the index answered from: when that one was built.
    loaded_from_disk: str | None = None


class LivePipeline:
    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._seen = _manifest_stamp(pipeline)
        self._loading = threading.Lock()
        self._rebuilds = 0  # rebuilds of our own under way: they swap in what they build themselves
        self._counting = threading.Lock()
        self.loaded_from_disk: str | None = None

    @property
    def current(self) -> Pipeline:
        """The pipeline to answer the next question with: the index on disk, if another process replaced it."""
        self._follow_disk()
        return self._pipeline

    def rebuild(self, *, progress: Progress | None = None) -> BuildReport:
        """Update the index incrementally, then swap in a pipeline over it; concurrent builds are refused."""
        with self._counting:
            self._rebuilds += 1
        try:
            old = self._pipeline
            report = build(old.settings, progress=progress, choice=old.choice)
            self._swap_in(old, report)
            self.loaded_from_disk = None
        finally:
            with self._counting:
                self._rebuilds -= 1
        return report

    def _swap_in(self, old: Pipeline, report: BuildReport | None) -> None:
        index = store_for(old.settings).load()
        self._pipeline = Pipeline(
            old.settings, old.choice, index, make_answerers(old.settings, index), report, old.reranker
        )
        self._seen = _manifest_stamp(self._pipeline)

    def _follow_disk(self) -> None:
        """Load the index another process swapped in. The store's stamp is read per question
        (a stat for the files store); the manifest is read only when it changed."""
        old = self._pipeline
        if self._rebuilds or _manifest_stamp(old) == self._seen:
            return
        with self._loading:
            old = self._pipeline
            stamp = _manifest_stamp(old)
            if stamp == self._seen:
                return
            try:
                manifest = store_for(old.settings).read_manifest()
            except AiqaError:
                manifest = None
            # A missing, damaged or incompatible index on disk: keep answering from the loaded one
            # (the status shows the corpus changes); a manifest equal to ours is a no-op rewrite.
            if (
                manifest is None
                or manifest == old.index.manifest
                or incompatibility(
                    manifest, old.choice.embedder, chunking_params(old.settings, old.choice.embedder)
                )
            ):
                self._seen = stamp
                return
            self._swap_in(old, None)
            self.loaded_from_disk = manifest.built_at

    def status(self) -> IndexStatus:
        pipeline = self.current
        manifest = pipeline.index.manifest
        try:
            changes, problem = pipeline.corpus_changes(), None
        except AiqaError as error:  # the corpus directory went away, say; the index still answers
            changes, problem = CorpusChanges(), str(error)
        return IndexStatus(
            embedder=pipeline.choice.embedder.name,
            answerers=pipeline.answerer_names,
            reranker=pipeline.reranker.description
            if pipeline.reranker and pipeline.settings.reranker
            else None,
            documents=len(manifest.files),
            chunks=pipeline.index.size,
            built_at=manifest.built_at,
            changes=changes,
            problem=problem,
            loaded_from_disk=self.loaded_from_disk,
        )


def _manifest_stamp(pipeline: Pipeline) -> object:
    return store_for(pipeline.settings).stamp()
