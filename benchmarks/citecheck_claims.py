"""How the citation check treats a labelled set of claims drawn from the three gold sets.

`benchmarks/data/citecheck_claims.jsonl` (built by `make_citecheck_claims.py`) holds one-sentence
answers citing passages around each gold evidence quote: verbatim and paraphrased claims should be
kept (padded ones on their own passage only), the rest (number changed, entity swapped, negated,
invented event, instruction text) dropped. The checker's thresholds were tuned on the cmrc-trial
claims only; dev and drcd-dev are reported as held out. Run from the repository root:

    PYTHONPATH=src python benchmarks/citecheck_claims.py [--show KIND]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from functools import cache
from pathlib import Path

from aiqa.citecheck import check_answer
from aiqa.llm import instructions
from aiqa.models import Passage
from aiqa.retrieval import make_query

DATA = Path(__file__).resolve().parent / "data"
CLAIMS = DATA / "citecheck_claims.jsonl"
TUNED_ON = {"cmrc-trial"}
KINDS = [
    "verbatim",
    "paraphrased",
    "padded citations",
    "number changed",
    "entity swapped",
    "negated",
    "invented event",
    "instruction text",
]
TARGETS = {
    "verbatim": 0.9,
    "paraphrased": 0.9,
    "entity swapped": 0.95,
    "negated": 0.95,
    "invented event": 0.95,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", help="print the claims of this kind that the check gets wrong")
    options = parser.parse_args()
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in CLAIMS.read_text(encoding="utf-8").splitlines():
        claim = json.loads(line)
        right = judge(claim)
        part = "tuned" if claim["set"] in TUNED_ON else "held out"
        for key in ((part, claim["kind"]), ("all", claim["kind"])):
            tally[key][0] += right
            tally[key][1] += 1
        if not right and options.show == claim["kind"]:
            print(f"  {claim['set']} {claim['row']}: {claim['answer']}")
    print(f"Tuned on: {', '.join(sorted(TUNED_ON))}; held out: the other sets.\n")
    print("| kind | expected | tuned | held out | all | target |")
    print("|---|---|---|---|---|---|")
    for kind in KINDS:
        cells = []
        for part in ("tuned", "held out", "all"):
            right, total = tally[(part, kind)]
            cells.append(f"{right}/{total} ({right / total:.0%})" if total else "-")
        expected = "kept" if kind in ("verbatim", "paraphrased", "padded citations") else "dropped"
        target = f">= {TARGETS[kind]:.0%}" if kind in TARGETS else ""
        print(f"| {kind} | {expected} | {' | '.join(cells)} | {target} |")


@cache
def _passages() -> dict[str, Passage]:
    """The cited passages by key, as retrieval would hand them to the check."""
    passages = {}
    for n, line in enumerate((DATA / "citecheck_passages.jsonl").read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        sentences = [tuple(span) for span in row.pop("sentences")]
        passages[row.pop("key")] = Passage(score=1.0, chunk_id=n, sentences=sentences, **row)
    return passages


def judge(claim: dict) -> bool:
    """Whether the check did what the claim's label says."""
    query = make_query(claim["question"])
    passages = [_passages()[key] for key in claim["passages"]]
    draft = check_answer(claim["answer"], query, passages, instructions=instructions(query))
    if claim["expect"] == "dropped":
        return not draft.answerable
    if claim["kind"] == "padded citations":
        return draft.answerable and [(c.doc, c.start) for c in draft.citations] == [
            (passages[0].doc, passages[0].start)
        ]
    return draft.answerable


if __name__ == "__main__":
    main()
