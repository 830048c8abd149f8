"""Which paths a build may replace: an index directory is aiqa's, or it is refused and left untouched.

A build writes the new index beside the old one, renames the old one aside and deletes it. That is
only safe on a path that holds nothing but aiqa's own files: pointed at a document folder, the
corpus, the working directory or a device, it would delete whatever was there.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from .embedding_cache import DIRECTORY as EMBEDDINGS_DIRECTORY
from .errors import IndexStateError
from .lexicon import LEXICON_FILE

MANIFEST = "manifest.json"
# Every name a build writes into an index directory (store.py's module docstring lists them); a
# directory holding anything else is not ours to replace.
INDEX_ENTRIES = frozenset(
    {
        MANIFEST,
        ".manifest.json.tmp",
        "chunks.jsonl",
        "tokens.jsonl",
        "dense.faiss",
        "bm25",
        EMBEDDINGS_DIRECTORY,
        LEXICON_FILE,
        ".gitignore",
    }
)


def absolute(directory: Path) -> Path:
    """The path made absolute without following links, so that `.` and `..` have a name."""
    return Path(os.path.abspath(directory))


def foreign_entry(directory: Path) -> str | None:
    """A name in `directory` that no aiqa build wrote, or None when everything there is aiqa's.

    A manifest.json that is a JSON object without aiqa's schema_version (a web app's manifest, say)
    counts as foreign; anything else there is a damaged index of ours, which a rebuild repairs.
    """
    for entry in sorted(os.listdir(directory)):
        if entry not in INDEX_ENTRIES:
            return entry
    try:
        manifest = json.loads((directory / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and "schema_version" not in manifest:
        return MANIFEST
    return None


def is_ours(directory: Path) -> bool:
    """True when `directory` is a directory holding only aiqa index files."""
    try:
        if not stat.S_ISDIR(os.stat(directory).st_mode):
            return False
        return foreign_entry(directory) is None
    except OSError:
        return False


def check_index_path(directory: Path, corpus: Path) -> None:
    """Raise IndexStateError, touching nothing, unless `directory` is missing, empty or an aiqa index."""
    reason = _refusal(directory, corpus)
    if reason:
        raise IndexStateError(
            f"{directory} cannot be used as the index directory ({reason}); nothing was changed, "
            "choose another --index."
        )


def _refusal(directory: Path, corpus: Path) -> str | None:
    resolved = Path(os.path.realpath(directory))
    working = Path(os.path.realpath(Path.cwd()))
    if resolved == working or resolved in working.parents:
        return "it is the working directory or one of its parents"
    real_corpus = Path(os.path.realpath(corpus))
    if resolved == real_corpus or resolved in real_corpus.parents:
        return "it is the corpus directory or one of its parents"
    try:
        mode = os.stat(directory).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None  # nothing there yet; the build makes it (or says why it cannot)
    except OSError as error:
        return error.strerror or str(error)
    if not stat.S_ISDIR(mode):
        return f"it is {_kind(mode)}, not a directory"
    try:
        foreign = foreign_entry(directory)
    except OSError as error:
        return error.strerror or str(error)
    if foreign is not None:
        return f"it holds {foreign!r}, which is not part of an aiqa index"
    return None


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a directory"
