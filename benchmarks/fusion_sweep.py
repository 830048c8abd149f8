"""Sweep the fusion of the dense and BM25 halves on the three gold sets, without re-embedding.

For each gold set it builds (or updates) an index per chunk size under --out, with the chosen
embedder; the embedding cache in each index means a second run embeds nothing. Each question's
BM25 and dense rankings are computed once, to the deepest depth swept; every fusion setting is then
scored from them. Retrieval metrics only (recall@1, recall@5, MRR@10 over answerable questions),
scored as `aiqa eval` scores them.

    PYTHONPATH=src python benchmarks/fusion_sweep.py --eval-root ../shared/eval [--chunk-chars 160 300]

English questions are also scored without the CC-CEDICT query terms (`lexicon=off`), to see
whether the lexicon still earns its place beside a semantic embedder.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass
from pathlib import Path

from aiqa.chinese import detect_language
from aiqa.evaluation import GoldQuestion, hits, read_gold
from aiqa.loading import load_corpus
from aiqa.models import Passage
from aiqa.pipeline import Pipeline
from aiqa.retrieval import HybridRetriever, Query, fuse, make_query
from aiqa.settings import Settings

REPO = Path(__file__).resolve().parent.parent
WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 1e6)  # 1e6: the dense ranking alone, BM25 breaking ties
DEPTHS = (20, 50, 100)
RRF_KS = (10, 30, 60, 0)  # 0: not RRF but a sum of normalized scores (score_fusion below)


@dataclass(frozen=True)
class GoldSet:
    name: str
    questions: Path
    corpus: Path
    index_name: str  # sets over one corpus share its index


def gold_sets(eval_root: Path) -> list[GoldSet]:
    ext = eval_root / "ext"
    return [
        GoldSet("aiqa-dev", eval_root / "dev.jsonl", REPO / "corpus", "aiqa-dev"),
        # Written from the corpus after the dev set (README, "How refusal is decided"); more English.
        GoldSet("aiqa-extra", REPO / "eval" / "extra.jsonl", REPO / "corpus", "aiqa-dev"),
        GoldSet(
            "cmrc-trial", ext / "cmrc-trial" / "questions.jsonl", ext / "cmrc-trial" / "corpus", "cmrc-trial"
        ),
        GoldSet("drcd-dev", ext / "drcd-dev" / "questions.jsonl", ext / "drcd-dev" / "corpus", "drcd-dev"),
    ]


@dataclass
class Ranked:
    gold: GoldQuestion
    lexical: dict[int, float]
    dense: dict[int, float]


def rankings(pipeline: Pipeline, gold: list[GoldQuestion], lexicon: bool) -> list[Ranked]:
    retriever = HybridRetriever(pipeline.index, pipeline.choice.embedder, dense_weight=1.0)
    depth = max(DEPTHS)
    ranked = []
    for question in gold:
        if not question.answerable:
            continue
        english = detect_language(question.question) == "en"
        query: Query = make_query(question.question, pipeline.index.lexicon if english and lexicon else None)
        ranked.append(
            Ranked(question, retriever.lexical_ranking(query, depth), retriever.dense_ranking(query, depth))
        )
    return ranked


def score_fusion(
    lexical: dict[int, float], dense: dict[int, float], weight: float
) -> list[tuple[int, float]]:
    """The alternative to RRF tried here: BM25 over its best score plus `weight` times the cosine
    min-max scaled over the dense candidates (a chunk missing from a list gets 0 for it)."""
    top_lexical = max(lexical.values(), default=1.0) or 1.0
    low, high = min(dense.values(), default=0.0), max(dense.values(), default=1.0)
    span = (high - low) or 1.0
    fused: dict[int, float] = {}
    for chunk_id, value in lexical.items():
        fused[chunk_id] = value / top_lexical
    for chunk_id, value in dense.items():
        fused[chunk_id] = fused.get(chunk_id, 0.0) + weight * (value - low) / span
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:10]


def score(
    pipeline: Pipeline, ranked: list[Ranked], documents: dict[str, str], weight: float, depth: int, rrf_k: int
):
    chunks = pipeline.index.chunks
    first_hits = []
    for item in ranked:
        lexical = dict(itertools.islice(item.lexical.items(), depth))
        dense = dict(itertools.islice(item.dense.items(), depth))
        if rrf_k:
            best = fuse([(1.0, lexical), (weight, dense)], 10, rrf_k)
        else:
            best = score_fusion(lexical, dense, weight)
        first = None
        for rank, (chunk_id, _) in enumerate(best, start=1):
            chunk = chunks[chunk_id]
            passage = Passage(
                doc=chunk.doc,
                title=chunk.title,
                start=chunk.start,
                end=chunk.end,
                text=chunk.text,
                score=0.0,
                chunk_id=chunk_id,
            )
            if hits(passage, item.gold, documents):
                first = rank
                break
        first_hits.append(first)
    n = max(len(first_hits), 1)
    return (
        sum(f == 1 for f in first_hits) / n,
        sum(f is not None and f <= 5 for f in first_hits) / n,
        sum(1 / f for f in first_hits if f) / n,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--eval-root", type=Path, required=True, help="the directory holding dev.jsonl and ext/"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "out" / "fusion")
    parser.add_argument("--embedder", default="e5")
    parser.add_argument(
        "--chunk-chars", type=int, nargs="+", default=[None], help="chunk sizes (default: the embedder's own)"
    )
    parser.add_argument("--sets", nargs="+", help="only these gold sets (default: all)")
    args = parser.parse_args()
    chosen = [g for g in gold_sets(args.eval_root) if not args.sets or g.name in args.sets]

    print("set\tquestions\tchunk_chars\tlexicon\tdense_weight\tdepth\trrf_k\trecall@1\trecall@5\tMRR@10")
    for gold_set, chunk_chars in itertools.product(chosen, args.chunk_chars):
        settings = Settings(
            corpus=gold_set.corpus,
            # Named as ../shared/tools/eval-all names its indexes, so --out can reuse that cache.
            index=args.out
            / (f"{gold_set.index_name}-c{chunk_chars}" if chunk_chars else gold_set.index_name),
            embedder=args.embedder,
            chunk_chars=chunk_chars,
        )
        pipeline = Pipeline.open(settings)
        chunk_chars = pipeline.index.manifest.chunking["chunk_chars"]
        gold = read_gold(gold_set.questions)
        documents = {d.doc: d.text for d in load_corpus(gold_set.corpus)}
        has_english = any(detect_language(g.question) == "en" for g in gold)
        for lexicon in (True, False) if has_english else (True,):
            ranked = rankings(pipeline, gold, lexicon)
            subsets = {"all": ranked}
            if has_english:
                subsets["en"] = [r for r in ranked if detect_language(r.gold.question) == "en"]
            for weight, depth, rrf_k in itertools.product(WEIGHTS, DEPTHS, RRF_KS):
                for subset, items in subsets.items():
                    r1, r5, mrr = score(pipeline, items, documents, weight, depth, rrf_k)
                    print(
                        f"{gold_set.name}\t{subset}\t{chunk_chars}\t{'on' if lexicon else 'off'}\t{weight:g}"
                        f"\t{depth}\t{rrf_k}\t{r1:.3f}\t{r5:.3f}\t{mrr:.3f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
