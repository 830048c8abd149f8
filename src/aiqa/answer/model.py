"""The answer model: two small gradient-boosted tree ensembles read from a JSON file with numpy.

`scripts/train_answerer.py` writes the file from the data in the repo; answering never imports
scikit-learn. The file records its schema, the feature names it was trained on, the index schema
and embedder it was trained with, and the answerability threshold.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import numpy as np
from pydantic import BaseModel

from ..errors import IndexStateError
from .features import QUESTION_FEATURES, SENTENCE_FEATURES

MODEL_SCHEMA = 1
MODEL_FILE = "data/answer_model.json"


class Tree(BaseModel):
    """One regression tree in scikit-learn's layout: node i splits on feature[i] (-2 at a leaf),
    going to left[i] when x <= threshold[i], else to right[i]; value[i] is a leaf's output."""

    feature: list[int]
    threshold: list[float]
    left: list[int]
    right: list[int]
    value: list[float]


class Boosted(BaseModel):
    """Gradient-boosted trees for a binary label: logit = prior + rate · Σ tree(x)."""

    features: list[str]
    prior: float
    rate: float
    depth: int
    trees: list[Tree]

    def logits(self, rows: np.ndarray) -> np.ndarray:
        # scikit-learn compares features as float32 against its float64 thresholds; so do we.
        rows = rows.astype(np.float32).astype(np.float64)
        total = np.full(rows.shape[0], self.prior)
        every = np.arange(rows.shape[0])
        for tree in self.trees:
            feature = np.asarray(tree.feature)
            threshold = np.asarray(tree.threshold)
            left, right = np.asarray(tree.left), np.asarray(tree.right)
            node = np.zeros(rows.shape[0], dtype=np.int64)
            for _ in range(self.depth):
                split = feature[node]
                leaf = split < 0
                go_left = rows[every, np.where(leaf, 0, split)] <= threshold[node]
                node = np.where(leaf, node, np.where(go_left, left[node], right[node]))
            total += self.rate * np.asarray(tree.value)[node]
        return total

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(rows)))


class AnswerModel(BaseModel):
    schema_version: int
    index_schema: int
    embedder: str  # what retrieval used when the training features were computed
    sentence: Boosted  # is this sentence the answer?
    answerable: Boosted  # does any retrieved sentence answer the question?
    # Refuse below this answerable probability; how it was chosen is in `threshold_note`.
    threshold: float
    threshold_note: str
    # Quote the second and third best sentences too when their probability is at least this share
    # of the best one's; chosen with `threshold` (see `threshold_note`).
    companion_ratio: float
    trained_on: dict[str, int]


@cache
def load_model() -> AnswerModel:
    try:
        text = resources.files("aiqa").joinpath(MODEL_FILE).read_text(encoding="utf-8")
        model = AnswerModel.model_validate(json.loads(text))
    except (OSError, ValueError) as error:
        raise IndexStateError(
            f"The answer model {MODEL_FILE} is missing or damaged ({type(error).__name__}); "
            "run `python scripts/train_answerer.py`."
        ) from error
    if (
        model.schema_version != MODEL_SCHEMA
        or tuple(model.sentence.features) != SENTENCE_FEATURES
        or tuple(model.answerable.features) != QUESTION_FEATURES
    ):
        raise IndexStateError(
            f"The answer model {MODEL_FILE} was trained for other features; run `python scripts/train_answerer.py`."
        )
    return model
