"""How the citation check treats a labelled set of claims drawn from the three gold sets.

`benchmarks/data/citecheck_claims.jsonl` (built by `make_citecheck_claims.py`) holds one-sentence
answers citing passages around each gold evidence quote: verbatim and paraphrased claims should be
kept (padded ones on their own passage only), the rest (number changed, entity swapped, negated,
invented event, instruction text) dropped. The checker's thresholds were tuned on the cmrc-trial
claims only; dev and drcd-dev are reported as held out.

`--claims FILE` scores hand-written claims in the row format of `data/citecheck_handwritten.jsonl`
(`id` of a gold row, `kind`, `claim`) instead, each citing the passage of its row's verbatim claim:
`data/citecheck_heldout.jsonl` is such a set, written apart from the checker and never tuned on.
Run from the repository root:

    PYTHONPATH=src python benchmarks/citecheck_claims.py [--claims FILE] [--show KIND]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from functools import cache
from pathlib import Path

from make_citecheck_claims import cited

from aiqa.citecheck import check_answer
from aiqa.llm import instructions
from aiqa.models import Passage
from aiqa.retrieval import make_query

DATA = Path(__file__).resolve().parent / "data"
CLAIMS = DATA / "citecheck_claims.jsonl"
HELD_OUT = DATA / "citecheck_heldout.jsonl"
SETS = ["cmrc-trial", "dev", "drcd-dev"]
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
KEPT = ("verbatim", "paraphrased", "padded citations")
TARGETS = {
    "verbatim": 0.9,
    "paraphrased": 0.9,
    "entity swapped": 0.95,
    "negated": 0.95,
    "invented event": 0.95,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=Path, help="hand-written claims to score (id, kind, claim rows)")
    parser.add_argument("--show", help="print the claims of this kind that the check gets wrong")
    options = parser.parse_args()
    claims = handwritten(options.claims) if options.claims else labelled(CLAIMS)
    tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for claim in claims:
        right = judge(claim)
        for key in ((claim["set"], claim["kind"]), ("all", claim["kind"])):
            tally[key][0] += right
            tally[key][1] += 1
        if not right and options.show == claim["kind"]:
            print(f"  {claim['set']} {claim['row']}: {claim['answer']}")
    if options.claims:
        print(f"{len(claims)} hand-written claims from {options.claims.name}.\n")
    else:
        print(f"{len(claims)} claims from {CLAIMS.name} (tuned on {', '.join(sorted(TUNED_ON))}).\n")
    print(f"| kind | expected | {' | '.join(SETS)} | all | target |")
    print("|---|---|" + "---|" * (len(SETS) + 2))
    for kind in KINDS:
        cells = []
        for part in (*SETS, "all"):
            right, total = tally[(part, kind)]
            cells.append(f"{right}/{total} ({right / total:.0%})" if total else "-")
        if not tally[("all", kind)][1]:
            continue
        expected = "kept" if kind in KEPT else "dropped"
        target = f">= {TARGETS[kind]:.0%}" if kind in TARGETS else ""
        print(f"| {kind} | {expected} | {' | '.join(cells)} | {target} |")


def labelled(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def handwritten(path: Path) -> list[dict]:
    """Claims written as `id`, `kind`, `claim`, each asked as its gold row's question and citing the
    passage its row's verbatim claim cites."""
    rows = {claim["row"]: claim for claim in labelled(CLAIMS) if claim["kind"] == "verbatim"}
    claims = []
    for hand in labelled(path):
        row = rows[hand["id"]]
        claims.append(
            {
                **row,
                "kind": hand["kind"],
                "answer": cited(hand["claim"].rstrip("。.")),
                "passages": row["passages"][:1],
                "expect": "kept" if hand["kind"] in KEPT else "dropped",
            }
        )
    return claims


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
