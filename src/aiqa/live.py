"""The pipeline a long-running server answers with, rebuilt and swapped in whole.

Questions keep using the Pipeline object they started with; a rebuild loads the new index into a
new Pipeline and replaces the reference in one assignment, so no question ever sees half an index.
A failed rebuild raises and leaves the current pipeline (and, by the store's atomic swap, the
index directory) as it was.
"""

from __future__ import annotations

from pydantic import BaseModel

from .errors import AiqaError
from .pipeline import Pipeline, build, make_answerers
from .store import BuildReport, CorpusChanges, Progress, load_index


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


class LivePipeline:
    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    @property
    def current(self) -> Pipeline:
        return self._pipeline

    def rebuild(self, *, progress: Progress | None = None) -> BuildReport:
        """Update the index incrementally, then swap in a pipeline over it; concurrent builds are refused."""
        old = self._pipeline
        report = build(old.settings, progress=progress, choice=old.choice)
        index = load_index(old.settings.index)
        self._pipeline = Pipeline(
            old.settings, old.choice, index, make_answerers(old.settings, index), report, old.reranker
        )
        return report

    def status(self) -> IndexStatus:
        pipeline = self._pipeline
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
            chunks=len(pipeline.index.chunks),
            built_at=manifest.built_at,
            changes=changes,
            problem=problem,
        )
