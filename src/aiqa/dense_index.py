"""The dense half of the index: exact inner-product search while that is cheap, HNSW above it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import faiss

DenseKind = Literal["flat", "hnsw"]

# An exact scan needs no build step and no second copy of the vectors. Single-threaded over
# 190,000 vectors of 1,024 dimensions (a 50 MB corpus) it took 35 ms at p50 on this 2-core machine
# (benchmarks/run.py), well inside the 100 ms query target, while building HNSW over them took
# minutes and pushed the build past 2 GB. So HNSW starts where scans approach 50 ms.
EXACT_LIMIT = 250_000
HNSW_NEIGHBOURS = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128  # saved with the index; recall@10 against exact search stays >= 0.95


def dense_kind(count: int) -> DenseKind:
    return "flat" if count <= EXACT_LIMIT else "hnsw"


def build_dense(blocks: Iterable[np.ndarray], kind: DenseKind, dimension: int) -> faiss.Index:
    """A FAISS inner-product index over L2-normalized vectors, added block by block so that the
    index holds the only full copy; both kinds can reconstruct rows, which incremental builds use
    to keep the vectors of unchanged files."""
    import faiss

    index: faiss.Index
    if kind == "flat":
        index = faiss.IndexFlatIP(dimension)
    else:
        hnsw = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        hnsw.hnsw.efSearch = HNSW_EF_SEARCH
        index = hnsw
    for block in blocks:
        index.add(np.ascontiguousarray(block, dtype=np.float32))
    return index


def stored_vectors(index: faiss.Index) -> np.ndarray:
    """The vectors inside a flat or HNSW index, as a read-only view: no second copy."""
    import faiss

    flat: Any = faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
    view = faiss.rev_swig_ptr(flat.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)
    view.flags.writeable = False
    return view
