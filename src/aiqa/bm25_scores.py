"""Query-time BM25 over the files bm25s saves, without importing bm25s on the ask path.

bm25s precomputes the score of every (token, chunk) pair into a sparse column-per-token matrix, so
a query's scores are the sum of its tokens' columns. That needs three arrays and the vocabulary;
importing bm25s for it would also import scipy, a fifth of a cold `aiqa ask`. Building the index
stays with bm25s; this reads what it wrote and scores exactly as its numpy backend does
(tests/test_bm25_scores.py checks that).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class Bm25Scores:
    def __init__(self, directory: Path) -> None:
        params = json.loads((directory / "params.index.json").read_text(encoding="utf-8"))
        self.num_docs = int(params["num_docs"])
        self.dtype = np.dtype(params.get("dtype", "float32"))
        self.data = np.load(directory / "data.csc.index.npy")
        self.indices = np.load(directory / "indices.csc.index.npy")
        self.indptr = np.load(directory / "indptr.csc.index.npy")
        self.vocab_dict: dict[str, int] = json.loads(
            (directory / "vocab.index.json").read_text(encoding="utf-8")
        )
        nonoccurrence = directory / "nonoccurrence_array.index.npy"
        # BM25L and BM25+ give every chunk a score for tokens it lacks; bm25s saves those apart.
        self.nonoccurrence = np.load(nonoccurrence) if nonoccurrence.exists() else None
        if max(self.vocab_dict.values(), default=-1) >= len(self.indptr):
            raise ValueError("the BM25 vocabulary names tokens its score matrix lacks")

    def document_frequency(self) -> np.ndarray:
        """For each token id, the number of chunks that contain it."""
        return np.diff(self.indptr)

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        # bm25s keeps an empty token at the end of the vocabulary with no column of its own.
        columns = len(self.indptr) - 1
        ids = np.array(
            [i for t in tokens if (i := self.vocab_dict.get(t, columns)) < columns], dtype=np.int64
        )
        scores = np.zeros(self.num_docs, dtype=self.dtype)
        for token_id in ids:
            start, end = self.indptr[token_id], self.indptr[token_id + 1]
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        if self.nonoccurrence is not None and ids.size:
            scores += self.nonoccurrence[ids].sum()
        return scores
