"""The answer model: two small gradient-boosted tree ensembles read from a JSON file with numpy.

`scripts/train_answerer.py` writes the file from the data in the repo; answering never imports
scikit-learn. The file records its schema, the feature names it was trained on, the index schema
and embedder it was trained with, and the answerability threshold.
"""

from __future__ import annotations

import json
from functools import cache, cached_property
from importlib import resources

import numpy as np
from pydantic import BaseModel

from ..errors import IndexStateError
from .features import QUESTION_FEATURES, SENTENCE_FEATURES

MODEL_SCHEMA = 1
# One model per embedder it was trained with, since the dense feature is on each embedder's own scale:
# the bundled e5 (the default, first) and the offline hashing embedder (`AIQA_EMBEDDER=offline`, the
# tests'). An index built by any other embedder is answered by the first with the dense feature masked.
MODEL_FILES = ("data/answer_model.json", "data/answer_model_offline.json")


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
        feature, threshold, left, right, value = self._stacked
        # scikit-learn compares features as float32 against its float64 thresholds; so do we.
        rows = rows.astype(np.float32).astype(np.float64)
        trees = np.arange(len(self.trees))
        node = np.zeros((rows.shape[0], len(self.trees)), dtype=np.int64)  # every row in every tree
        for _ in range(self.depth):
            split = feature[trees, node]
            leaf = split < 0
            go_left = np.take_along_axis(rows, np.where(leaf, 0, split), axis=1) <= threshold[trees, node]
            node = np.where(leaf, node, np.where(go_left, left[trees, node], right[trees, node]))
        return self.prior + self.rate * value[trees, node].sum(axis=1)

    @cached_property
    def _stacked(self) -> tuple[np.ndarray, ...]:
        """The trees as (trees × nodes) arrays, padded with leaves, so all are walked at once."""
        width = max(len(tree.feature) for tree in self.trees)

        def stack(name: str, fill: float, dtype: type) -> np.ndarray:
            out: np.ndarray = np.full((len(self.trees), width), fill, dtype=dtype)
            for i, tree in enumerate(self.trees):
                values = getattr(tree, name)
                out[i, : len(values)] = values
            return out

        return (
            stack("feature", -2, np.int64),
            stack("threshold", 0.0, np.float64),
            stack("left", 0, np.int64),
            stack("right", 0, np.int64),
            stack("value", 0.0, np.float64),
        )

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


def load_model(embedder: str | None = None) -> AnswerModel:
    """The model trained with `embedder`, else the default one."""
    models = [_read(name) for name in MODEL_FILES]
    return next((model for model in models if model.embedder == embedder), models[0])


@cache
def _read(name: str) -> AnswerModel:
    try:
        text = resources.files("aiqa").joinpath(name).read_text(encoding="utf-8")
        model = AnswerModel.model_validate(json.loads(text))
    except (OSError, ValueError) as error:
        raise IndexStateError(
            f"The answer model {name} is missing or damaged ({type(error).__name__}); "
            "run `python scripts/train_answerer.py`."
        ) from error
    if (
        model.schema_version != MODEL_SCHEMA
        or tuple(model.sentence.features) != SENTENCE_FEATURES
        or tuple(model.answerable.features) != QUESTION_FEATURES
    ):
        raise IndexStateError(
            f"The answer model {name} was trained for other features; run `python scripts/train_answerer.py`."
        )
    return model
