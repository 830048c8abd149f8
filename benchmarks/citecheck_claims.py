"""How the citation check treats synthetic claims built from the dev set's gold evidence.

For every gold evidence quote found in a passage retrieved for its question, three claims:
the quote citing its passage (should be kept), the quote with its first number changed (should be
dropped), and the quote citing a retrieved passage that does not contain it (its marker should go,
unless that passage happens to state the same fact). Run from the repository root:

    PYTHONPATH=src python benchmarks/citecheck_claims.py [--index DIR]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from aiqa.chinese import normalize
from aiqa.citecheck import check_answer
from aiqa.pipeline import Pipeline
from aiqa.retrieval import make_query
from aiqa.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--gold", type=Path, default=Path("eval/dev.jsonl"))
    options = parser.parse_args()
    pipeline = Pipeline.open(Settings(index=options.index, embedder="offline"))
    counts = {"kept": [0, 0], "wrong number dropped": [0, 0], "wrong passage unmarked": [0, 0]}
    for line in options.gold.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        query = make_query(row["question"])
        passages = pipeline.ask(row["question"], answerer="extractive").retrieved[: pipeline.settings.k]
        for evidence in row["evidence"]:
            quote = evidence["quote"]
            holding = [n for n, p in enumerate(passages, 1) if normalize(quote) in normalize(p.text)]
            if not holding:
                continue
            n = holding[0]
            tally(counts["kept"], check_answer(f"{quote}[{n}]。", query, passages).answerable)
            number = re.search(r"\d+", quote)
            if number:
                changed = quote[: number.start()] + str(int(number.group()) + 3) + quote[number.end() :]
                draft = check_answer(f"{changed}[{n}]。", query, passages)
                tally(counts["wrong number dropped"], not draft.answerable)
            others = [m for m in range(1, len(passages) + 1) if m not in holding]
            if others:
                draft = check_answer(f"{quote}[{n}][{others[0]}]。", query, passages)
                tally(counts["wrong passage unmarked"], len(draft.citations) == 1)
    for name, (hits, total) in counts.items():
        print(f"{name}: {hits}/{total}")


def tally(count: list[int], ok: bool) -> None:
    count[0] += ok
    count[1] += 1


if __name__ == "__main__":
    main()
