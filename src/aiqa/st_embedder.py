"""The multilingual embedder: any sentence-transformers model, with its family's query/passage prompts.

torch and sentence-transformers are imported only when a model is actually loaded, so the offline
path never pays for them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .embedding import EmbedderSpec
from .errors import ModelError
from .hub import ModelSource

_RETRIEVAL_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"


@dataclass(frozen=True)
class Prompts:
    query: str = ""
    passage: str = ""


# Patterns searched in the lower-case model name, most specific first; the first match wins.
# Each family's convention is the one its model card asks for in retrieval.
PROMPTS: tuple[tuple[str, Prompts], ...] = (
    (r"bge-m3", Prompts()),
    (r"qwen3-embedding", Prompts(query=f"Instruct: {_RETRIEVAL_INSTRUCTION}\nQuery:")),
    (r"(^|[/-])e5-.*instruct", Prompts(query=f"Instruct: {_RETRIEVAL_INSTRUCTION}\nQuery: ")),
    (r"(^|[/-])e5-", Prompts(query="query: ", passage="passage: ")),
    (r"bge-.*-zh", Prompts(query="为这个句子生成表示以用于检索相关文章：")),
    (r"bge-.*-en", Prompts(query="Represent this sentence for searching relevant passages: ")),
)


def family_prompts(model: str) -> Prompts:
    """The query/passage prompts the model's family expects (none for an unknown model)."""
    name = model.lower()
    return next((prompts for pattern, prompts in PROMPTS if re.search(pattern, name)), Prompts())


def device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(kind: str, source: ModelSource) -> Any:
    """A `SentenceTransformer` or `CrossEncoder` (named by `kind`) from `source`, or a ModelError."""
    import sentence_transformers
    from transformers.utils import logging as transformers_logging

    # aiqa draws its own progress; a "Loading weights" bar on every `ask` is noise.
    transformers_logging.disable_progress_bar()
    factory = getattr(sentence_transformers, kind)
    try:
        return factory(source.path, device=device(), local_files_only=source.local_files_only)
    except Exception as error:  # the loaders raise OSError, ValueError, KeyError, RuntimeError, ...
        raise ModelError(
            f"The model {source.name} from the {source.where} could not be loaded "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no details'}); "
            "point the setting at a complete sentence-transformers model or use the offline default.",
            problem=f"{source.name} could not be loaded ({type(error).__name__})",
        ) from error


class SentenceTransformerEmbedder:
    """Normalized, batched embeddings from a sentence-transformers model."""

    def __init__(self, source: ModelSource, prompts: Prompts, batch_size: int = 32) -> None:
        self._model = load_model("SentenceTransformer", source)
        dimension = self._model.get_embedding_dimension()
        if not dimension:
            raise ModelError(
                f"The model {source.name} does not say its embedding dimension; "
                "use a sentence-transformers model with a pooling module."
            )
        self._dimension = int(dimension)
        self._prompts = prompts
        self._batch_size = batch_size
        # The passage prompt changes every stored vector, so a non-default one is part of the id.
        suffix = ""
        if prompts.passage != family_prompts(source.name).passage:
            suffix = "+passage-prompt-" + hashlib.sha256(prompts.passage.encode()).hexdigest()[:8]
        self._id = f"sentence-transformers:{source.model_id}{suffix}"
        self._name = f"{source.name} (sentence-transformers)"
        import sentence_transformers

        self._spec = EmbedderSpec(
            kind="sentence-transformers", model=source.model_id, version=sentence_transformers.__version__
        )

    @property
    def id(self) -> str:
        return self._id

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def spec(self) -> EmbedderSpec:
        return self._spec

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        vectors = self._model.encode(
            list(texts),
            prompt=self._prompts.query if query else self._prompts.passage,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self._dimension)
