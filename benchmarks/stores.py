"""The files store and the Milvus store side by side: full build, warm query, one-file update.

    python benchmarks/stores.py                 # the repo corpus and a 5 MB synthetic corpus
    python benchmarks/stores.py --sizes 5 50    # synthetic corpora of these sizes (MB)

Milvus here is Milvus Lite embedded in a .db file (under benchmarks/out/), the offline embedder
throughout. Builds and updates run as `python -m aiqa index` child processes (run.py's run_aiqa);
queries run in this process over the dev questions. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from run import OUT, REPO, child_env, dev_questions, percentile, run_aiqa, synthetic_corpus

sys.path.insert(0, str(REPO / "src"))


def warm_p50(corpus: Path, index: Path, store: str) -> tuple[float, float]:
    """p50 and p95 ms over the dev questions after a warm-up pass, in a child process: a Milvus
    Lite file admits one process at a time, and the update after this opens it again."""
    child = subprocess.run(
        [sys.executable, __file__, "--query", str(corpus), str(index), store],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    p50, p95 = json.loads(child.stdout.strip().splitlines()[-1])
    return p50, p95


def query_timings(corpus: Path, index: Path, store: str) -> None:
    from aiqa.pipeline import Pipeline
    from aiqa.settings import Settings

    pipeline = Pipeline.open(Settings(corpus=corpus, index=index, store=store, embedder="offline"))
    questions = dev_questions()
    for question in questions:  # warm-up
        pipeline.ask(question)
    timings = []
    for question in questions:
        started = time.perf_counter()
        pipeline.ask(question)
        timings.append((time.perf_counter() - started) * 1000)
    print(json.dumps([percentile(timings, 50), percentile(timings, 95)]))


def measure(label: str, corpus: Path, store_name: str) -> str:
    index = OUT / f"stores-index-{label}"
    shutil.rmtree(index, ignore_errors=True)
    store = "files"
    if store_name == "milvus":
        database = OUT / f"stores-{label}.db"
        for stale in OUT.glob(f"stores-{label}.db*"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
        store = str(database)
    args = ("index", "--corpus", str(corpus), "--index", str(index), "--store", store)
    full = run_aiqa(*args)
    p50, p95 = warm_p50(corpus, index, store)
    changed = sorted(corpus.rglob("*.txt"))[0]
    original = changed.read_bytes()
    changed.write_text(original.decode("utf-8") + "\n新增的一句话。\n", encoding="utf-8")
    try:
        update = run_aiqa(*args)
    finally:
        changed.write_bytes(original)
    # CPU seconds beside wall seconds: on a shared machine the wall time depends on the other jobs.
    return (
        f"| {label} | {store_name} | {full.seconds:.1f} s ({full.cpu_seconds:.1f} s CPU, "
        f"{full.peak_mb:.0f} MB peak) | p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"| {update.seconds:.1f} s ({update.cpu_seconds:.1f} s CPU, {update.peak_mb:.0f} MB peak; "
        f"{update.seconds / full.seconds:.0%} of the build) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--query", nargs=3, metavar=("CORPUS", "INDEX", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=float, nargs="*", default=[5.0], help="synthetic corpus sizes in MB")
    args = parser.parse_args()
    if args.query:
        query_timings(Path(args.query[0]), Path(args.query[1]), args.query[2])
        return
    OUT.mkdir(parents=True, exist_ok=True)
    corpora = [("repo corpus", REPO / "corpus")]
    for size in args.sizes:
        target = OUT / f"corpus-{size:g}mb"
        written = synthetic_corpus(target, size)
        corpora.append((f"synthetic {written:.0f} MB", target))
    rows = []
    for label, corpus in corpora:
        if corpus == REPO / "corpus":  # the one-file edit is undone, but work on a copy anyway
            shutil.copytree(corpus, OUT / "stores-corpus", dirs_exist_ok=True)
            corpus = OUT / "stores-corpus"
        for store in ("files", "milvus"):
            rows.append(measure(label.replace(" ", "-"), corpus, store))
            print(rows[-1], file=sys.stderr, flush=True)
    print(
        f"`python benchmarks/stores.py --sizes {' '.join(f'{s:g}' for s in args.sizes)}` "
        f"on {os.cpu_count()} cores, offline embedder\n"
    )
    print("| corpus | store | full build | warm query (dev questions) | one-file update |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
