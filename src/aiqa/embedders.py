"""Choosing the embedder: by the settings when an index is built, by its manifest when it is asked.

`auto` prefers, in order: a sentence-transformers model the user named (AIQA_EMBED_MODEL, downloaded
only then) or the default one when it is already in the local cache; the bundled
multilingual-e5-small; the hashing embedder. It never starts a download of its own, and asking an
index never looks at the network: the index's manifest says which embedder to load.
"""

from __future__ import annotations

from dataclasses import dataclass

from .e5_embedder import QUERY_THREADS, E5Embedder
from .embedding import Embedder, HashingEmbedder
from .errors import ModelError
from .hub import Unavailable, locate_model
from .settings import Settings
from .store import EmbedderInfo

# The sentence-transformers model `auto` uses when it is cached, and `sentence-transformers` loads
# when AIQA_EMBED_MODEL names none.
DEFAULT_ST_MODEL = "BAAI/bge-m3"


@dataclass(frozen=True)
class EmbedderChoice:
    embedder: Embedder
    # One sentence when `auto` could not have what it preferred and fell back, for the build to say.
    fallback: str | None = None


def choose_embedder(settings: Settings) -> EmbedderChoice:
    """The embedder a build uses. An explicit choice that cannot be had raises a ModelError."""
    if settings.embedder == "offline":
        return EmbedderChoice(HashingEmbedder())
    if settings.embedder == "e5":
        return EmbedderChoice(E5Embedder())
    named = settings.embed_model
    if settings.embedder == "sentence-transformers":
        found = _sentence_transformer(settings, named or DEFAULT_ST_MODEL, settings.hub_timeout)
        if isinstance(found, str):
            raise ModelError(
                f"The embedding model cannot be loaded: {found}; set AIQA_EMBED_MODEL to a local "
                "model directory, or AIQA_EMBEDDER=offline."
            )
        return EmbedderChoice(found)
    # auto: a model the user named may be fetched from the hub; the default one only counts when cached.
    try:
        found = _sentence_transformer(
            settings, named or DEFAULT_ST_MODEL, settings.hub_timeout if named else None
        )
    except ModelError as error:
        found = error.problem
    if not isinstance(found, str):
        return EmbedderChoice(found)
    problems = [found] if named else []
    try:
        e5 = E5Embedder()
    except ModelError as error:
        problems.append(error.problem)
    else:
        return EmbedderChoice(e5, f"{problems[0]}; using {e5.name} instead." if problems else None)
    hashing = HashingEmbedder()
    return EmbedderChoice(hashing, f"{'; '.join(problems)}; using the {hashing.name} instead.")


def embedder_for_index(info: EmbedderInfo, settings: Settings) -> Embedder | str:
    """The embedder an index was built with, loaded without asking the network, or why it cannot be
    (a clause, as `store.incompatibility` gives)."""
    if settings.embedder not in ("auto", info.kind):
        return f"it was built with {info.name}, AIQA_EMBEDDER={settings.embedder} asks for another embedder"
    if settings.embed_model and info.kind != "sentence-transformers":
        return f"it was built with {info.name}, AIQA_EMBED_MODEL asks for {settings.embed_model}"
    if info.kind == "offline":
        return HashingEmbedder(info.dimension)
    if info.kind == "e5":
        try:
            return E5Embedder(threads=QUERY_THREADS)
        except ModelError as error:
            return f"it was built with {info.name}, and {error.problem}"
    if info.kind == "sentence-transformers":
        try:
            found = _sentence_transformer(settings, settings.embed_model or info.model, hub_timeout=None)
        except ModelError as error:
            found = error.problem
        return f"it was built with {info.name}, and {found}" if isinstance(found, str) else found
    return f"it was built with an embedder this aiqa does not know ({info.kind or info.id})"


def _sentence_transformer(settings: Settings, model: str, hub_timeout: float | None) -> Embedder | str:
    """The model loaded with its family's prompts, or why it cannot be found (a clause); a model that
    is found but fails to load raises a ModelError."""
    source = locate_model(model, hub_timeout)
    if isinstance(source, Unavailable):
        return source.problem
    from .st_embedder import Prompts, SentenceTransformerEmbedder, family_prompts

    family = family_prompts(model)
    prompts = Prompts(
        query=family.query if settings.embed_query_prompt is None else settings.embed_query_prompt,
        passage=family.passage if settings.embed_passage_prompt is None else settings.embed_passage_prompt,
    )
    return SentenceTransformerEmbedder(source, prompts, settings.embed_batch_size)
