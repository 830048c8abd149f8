"""Which lexical side for the Milvus store: aiqa's own tokens as BM25 sparse vectors (what
milvus_store.py does), or Milvus's BM25 function with its jieba analyzer over the normalized chunk
text. Lexical retrieval alone, so the dense half does not hide the difference.

    python benchmarks/milvus_lexical.py QUESTIONS.jsonl CORPUS_DIR [QUESTIONS.jsonl CORPUS_DIR ...]

Builds each corpus into a temporary Milvus Lite file with the offline embedder, copies the chunk
records into a second collection with the BM25 function, asks every answerable question of both,
and prints recall@1, recall@5 and MRR@10 per set (evaluation.py's evidence matching).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

DEPTH = 10


def main() -> None:
    pairs = sys.argv[1:]
    if not pairs or len(pairs) % 2:
        raise SystemExit(__doc__)
    print("| set | lexical side | recall@1 | recall@5 | MRR@10 |\n|---|---|---|---|---|")
    for questions_path, corpus in zip(pairs[::2], pairs[1::2], strict=True):
        measure(Path(questions_path), Path(corpus))


def measure(questions_path: Path, corpus_dir: Path) -> None:
    from pymilvus import DataType, Function, FunctionType

    from aiqa.chinese import normalize
    from aiqa.embedders import choose_embedder
    from aiqa.evaluation import hits, read_gold
    from aiqa.milvus_store import MilvusStore
    from aiqa.models import Chunk, Passage
    from aiqa.pipeline import chunking_params
    from aiqa.retrieval import make_query
    from aiqa.settings import Settings

    settings = Settings(corpus=corpus_dir, embedder="offline")
    store = MilvusStore(str(Path(tempfile.mkdtemp()) / "lexical.db"), "aiqa_lexical")
    embedder = choose_embedder(settings).embedder
    store.build(corpus_dir, embedder, chunking_params(settings, embedder))
    index = store.load()
    client = store.client
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field(
        "text",
        DataType.VARCHAR,
        max_length=65535,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "jieba"},
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    params = client.prepare_index_params()
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection("jieba_bm25", schema=schema, index_params=params, consistency_level="Strong")
    chunks: dict[int, Chunk] = {}
    for row in store._iterate(index.collection, "id >= 0", ["record"]):
        chunk = Chunk.model_validate_json(row["record"])
        chunks[chunk.id] = chunk
    rows = [{"id": chunk.id, "text": chunk.indexed} for chunk in chunks.values()]
    for first in range(0, len(rows), 500):
        client.insert("jieba_bm25", rows[first : first + 500])

    def jieba_ranking(question: str) -> list[int]:
        hits = client.search(
            "jieba_bm25",
            data=[normalize(question)],
            anns_field="sparse",
            limit=DEPTH,
            output_fields=["id"],
            search_params={"metric_type": "BM25"},
        )
        return [int(hit["id"]) for hit in hits[0]]

    def own_ranking(question: str) -> list[int]:
        query = make_query(question, index.lexicon)
        return list(index.lexical_candidates(query.tokens, DEPTH)) if query.tokens else []

    gold = [g for g in read_gold(questions_path) if g.answerable and g.evidence]
    documents = {
        path.name: path.read_text(encoding="utf-8") for path in corpus_dir.rglob("*") if path.is_file()
    }
    for label, ranking in (
        ("aiqa tokens (chosen)", own_ranking),
        ("Milvus jieba analyzer", jieba_ranking),
    ):
        first_hits = []
        for question in gold:
            passages = [
                Passage(**chunks[i].model_dump(exclude={"id", "indexed"}), score=0.0, chunk_id=i)
                for i in ranking(question.question)
            ]
            first_hits.append(
                next((rank for rank, p in enumerate(passages, 1) if hits(p, question, documents)), None)
            )
        count = len(first_hits)
        r1 = sum(h == 1 for h in first_hits) / count
        r5 = sum(h is not None and h <= 5 for h in first_hits) / count
        mrr = sum(1 / h for h in first_hits if h) / count
        print(f"| {questions_path.parent.name} ({count}) | {label} | {r1:.3f} | {r5:.3f} | {mrr:.3f} |")


if __name__ == "__main__":
    main()
