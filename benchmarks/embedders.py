"""Embedding throughput of the bundled multilingual-e5-small against the hashing embedder, and what
it means for build times (the benchmark table's embedder rows in the README).

    PYTHONPATH=src python benchmarks/embedders.py --eval-root ../shared/eval [--sample 128]

Each embedder embeds a sample of the repo corpus's chunks, cut at its own chunk size, in this
process (e5 with one engine thread per core, as a build runs it); the rate is chunks per wall
second and per CPU second, and MB of corpus per second (chunks overlap by a sentence, so a MB of
corpus is more than a MB of chunk text). Build times for the repo corpus, the two ext corpora and a
10 MB synthetic corpus are then *extrapolated* from their chunk counts at those rates (a full e5
build of 10 MB would take hours here); jieba tokenizing and writing the index come on top (see
benchmarks/run.py for measured hashing builds).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from run import OUT, REPO, synthetic_corpus

from aiqa.chunking import ChunkingParams, chunk_document
from aiqa.e5_embedder import E5Embedder
from aiqa.embedding import Embedder, HashingEmbedder
from aiqa.loading import load_corpus
from aiqa.settings import Settings


def chunk_texts(corpus: Path, embedder: Embedder) -> tuple[list[str], float]:
    """The indexed text of every chunk as this embedder's builds chunk it, and the corpus size in MB."""
    settings = Settings()
    params = ChunkingParams(settings.chunk_size(embedder.spec.kind), settings.chunk_overlap)
    documents = load_corpus(corpus)
    texts = [chunk.indexed for document in documents for chunk in chunk_document(document, params)]
    return texts, sum(len(d.text.encode("utf-8")) for d in documents) / 2**20


def rate(embedder: Embedder, sample: list[str]) -> tuple[float, float]:
    """Chunks per wall second and per CPU second."""
    embedder.embed(sample[:2])  # warm-up: the engine's first call sets up its buffers
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(sample), 64):
        embedder.embed(sample[start : start + 64])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(sample) / wall, len(sample) / cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-root", type=Path, required=True, help="the directory holding ext/")
    parser.add_argument("--sample", type=int, default=128, help="chunks of the repo corpus to embed")
    args = parser.parse_args()

    synthetic = OUT / "synthetic-10"
    if not synthetic.exists():
        synthetic_corpus(synthetic, 10.0)
    corpora = {
        "the repo corpus": REPO / "corpus",
        "cmrc-trial": args.eval_root / "ext" / "cmrc-trial" / "corpus",
        "drcd-dev": args.eval_root / "ext" / "drcd-dev" / "corpus",
        "synthetic 10 MB": synthetic,
    }
    print("| embedder | chunk size | chunks/s (wall) | chunks per CPU-second | MB of corpus per second |")
    print("|---|---:|---:|---:|---:|")
    estimates = []
    for embedder in (HashingEmbedder(), E5Embedder()):
        texts, corpus_mb = chunk_texts(REPO / "corpus", embedder)
        per_wall, per_cpu = rate(embedder, texts[: args.sample])
        chunk_chars = Settings().chunk_size(embedder.spec.kind)
        print(
            f"| {embedder.name} | {chunk_chars} | {per_wall:.1f} | {per_cpu:.1f} | "
            f"{corpus_mb / len(texts) * per_wall:.3f} |"
        )
        for label, corpus in corpora.items():
            chunks, megabytes = chunk_texts(corpus, embedder)
            estimates.append(
                (label, megabytes, embedder.name, len(chunks), len(chunks) / per_wall, len(chunks) / per_cpu)
            )
    print()
    print(
        "| corpus | MB | embedder | chunks | embedding time, wall (CPU), extrapolated from the rates above |"
    )
    print("|---|---:|---|---:|---:|")
    for label, megabytes, name, chunks, wall, cpu in sorted(estimates, key=lambda row: (row[1], row[2])):
        print(f"| {label} | {megabytes:.2f} | {name} | {chunks} | {_duration(wall)} ({_duration(cpu)} CPU) |")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


if __name__ == "__main__":
    main()
