"""Embedding throughput of the bundled multilingual-e5-small against the hashing embedder, and what
it means for build times (the benchmark table's embedder rows in the README).

    PYTHONPATH=src python benchmarks/embedders.py --eval-root ../shared/eval [--sample 128]

Both embedders embed the same sample of chunks of the repo corpus in this process (e5 with one
engine thread per core, as a build runs it); the rate is chunks per wall second and per CPU
second, and MB of chunk text per second. Build times for the repo corpus, the two ext corpora and a
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

PARAMS = ChunkingParams(chunk_chars=Settings().chunk_chars, chunk_overlap=Settings().chunk_overlap)


def chunk_texts(corpus: Path) -> tuple[list[str], float]:
    """The indexed text of every chunk, and the corpus size in MB."""
    documents = load_corpus(corpus)
    texts = [chunk.indexed for document in documents for chunk in chunk_document(document, PARAMS)]
    return texts, sum(len(d.text.encode("utf-8")) for d in documents) / 2**20


def rate(embedder: Embedder, sample: list[str]) -> tuple[float, float, float]:
    """Chunks per wall second, chunks per CPU second, and MB of chunk text per wall second."""
    embedder.embed(sample[:2])  # warm-up: the engine's first call sets up its buffers
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(sample), 64):
        embedder.embed(sample[start : start + 64])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    megabytes = sum(len(text.encode("utf-8")) for text in sample) / 2**20
    return len(sample) / wall, len(sample) / cpu, megabytes / wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval-root", type=Path, required=True, help="the directory holding ext/")
    parser.add_argument("--sample", type=int, default=128, help="chunks of the repo corpus to embed")
    args = parser.parse_args()

    repo_texts, _ = chunk_texts(REPO / "corpus")
    sample = repo_texts[: args.sample]
    rates = {}
    print("| embedder | chunks/s (wall) | chunks per CPU-second | MB/s of chunk text |")
    print("|---|---:|---:|---:|")
    for embedder in (HashingEmbedder(), E5Embedder()):
        rates[embedder.name] = rate(embedder, sample)
        per_wall, per_cpu, mb = rates[embedder.name]
        print(f"| {embedder.name} | {per_wall:.1f} | {per_cpu:.1f} | {mb:.3f} |")

    synthetic = OUT / "synthetic-10"
    corpora = {
        "the repo corpus": REPO / "corpus",
        "cmrc-trial": args.eval_root / "ext" / "cmrc-trial" / "corpus",
        "drcd-dev": args.eval_root / "ext" / "drcd-dev" / "corpus",
        "synthetic 10 MB": synthetic,
    }
    if not synthetic.exists():
        synthetic_corpus(synthetic, 10.0)
    print()
    print(
        "| corpus | MB | chunks | "
        + " | ".join(f"embedding time, {name} (extrapolated)" for name in rates)
        + " |"
    )
    print("|---|---:|---:|" + "---:|" * len(rates))
    for label, corpus in corpora.items():
        texts, megabytes = chunk_texts(corpus)
        times = [len(texts) / per_wall for per_wall, _, _ in rates.values()]
        print(
            f"| {label} | {megabytes:.2f} | {len(texts)} | " + " | ".join(_duration(t) for t in times) + " |"
        )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


if __name__ == "__main__":
    main()
