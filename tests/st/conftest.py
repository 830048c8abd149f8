"""Tiny real sentence-transformers models, built once per session from the corpus characters.

They are random BERTs (one layer, 32 or 48 dimensions) with a WordPiece vocabulary of every
character in the corpus, saved the way sentence-transformers saves any model, so the tests run the
real loading, tokenizing, pooling and normalizing path without downloading anything.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_CORPUS = REPO / "corpus"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class TinyModels:
    embedder: Path  # 32 dimensions
    other_embedder: Path  # 48 dimensions, different weights: a model switch
    cross_encoder: Path


def _vocabulary() -> dict[str, int]:
    characters = sorted(
        {char.lower() for path in REAL_CORPUS.iterdir() for char in path.read_text(encoding="utf-8")}
        - set(" \t\r\n\u3000")
    )
    # "##c" continues a word, so Latin words split into characters instead of becoming [UNK].
    tokens = list(dict.fromkeys(SPECIAL_TOKENS + characters + [f"##{char}" for char in characters]))
    return {token: number for number, token in enumerate(tokens)}


def _bert_config(vocabulary: dict[str, int], hidden: int, **extra: object):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=len(vocabulary),
        hidden_size=hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=512,
        **extra,
    )


def _save_embedder(target: Path, vocabulary: dict[str, int], hidden: int, seed: int) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import BertModel, BertTokenizer

    torch.manual_seed(seed)
    backbone = target / "backbone"
    BertModel(_bert_config(vocabulary, hidden)).save_pretrained(backbone)
    BertTokenizer(vocab=vocabulary).save_pretrained(backbone)
    transformer = Transformer(str(backbone), max_seq_length=512)
    pooling = Pooling(transformer.get_embedding_dimension(), "mean")
    model_dir = target / "model"
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(model_dir))
    return model_dir


def _save_cross_encoder(target: Path, vocabulary: dict[str, int]) -> Path:
    import torch
    from transformers import BertForSequenceClassification, BertTokenizer

    torch.manual_seed(2)
    config = _bert_config(vocabulary, 32, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(target)
    BertTokenizer(vocab=vocabulary).save_pretrained(target)
    return target


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    root = tmp_path_factory.mktemp("tiny-models")
    vocabulary = _vocabulary()
    return TinyModels(
        embedder=_save_embedder(root / "embedder", vocabulary, hidden=32, seed=0),
        other_embedder=_save_embedder(root / "other", vocabulary, hidden=48, seed=1),
        cross_encoder=_save_cross_encoder(root / "cross-encoder", vocabulary),
    )


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def run_aiqa(tmp_path: Path, closed_port: int):
    """Run the real `aiqa` CLI in a fresh process whose model hub is a closed local port and whose
    Hugging Face cache is an empty temporary directory (tests may fill it)."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIQA_", "HF_", "TRANSFORMERS_", "SENTENCE_TRANSFORMERS_"))
        }
        environment.update(
            {
                "PYTHONPATH": str(REPO / "src"),
                "HF_HOME": str(tmp_path / "hf-home"),
                "HF_ENDPOINT": f"http://127.0.0.1:{closed_port}",
                "AIQA_CORPUS": str(REAL_CORPUS),
                "AIQA_INDEX": str(tmp_path / "index"),
                **env,
            }
        )
        return subprocess.run(
            [sys.executable, "-m", "aiqa", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return run
