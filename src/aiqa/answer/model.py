"""The answer model's weights: two logistic regressions read from a small JSON file with numpy.

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


class Logistic(BaseModel):
    """A standardized logistic regression: p = sigmoid(((x - mean) / scale) · coef + intercept)."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float

    def logits(self, rows: np.ndarray) -> np.ndarray:
        if rows.shape[0] == 0:
            return np.zeros(0)
        standard = (rows - np.asarray(self.mean)) / np.asarray(self.scale)
        return standard @ np.asarray(self.coef) + self.intercept

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(rows)))


class AnswerModel(BaseModel):
    schema_version: int
    index_schema: int
    embedder: str  # what retrieval used when the training features were computed
    sentence: Logistic  # is this sentence the answer?
    answerable: Logistic  # does any retrieved sentence answer the question?
    # Refuse below this answerable probability; how it was chosen is in `threshold_note`.
    threshold: float
    threshold_note: str
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
