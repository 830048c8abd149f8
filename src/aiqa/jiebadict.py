"""A jieba tokenizer that loads its dictionary one first character at a time.

jieba unmarshals its whole prefix dictionary (about 580,000 entries, 0.45 s on a 2-core machine)
before it cuts a single word, which was most of the time `aiqa ask` took. A question needs the
entries of a few dozen characters. Every dictionary lookup jieba makes while cutting a text is a
substring of that text, so loading the entries whose first character occurs in the text, before
cutting it, gives exactly the segmentation the full dictionary gives.

The entries are kept grouped by first character in a cache file beside jieba's own, written the
first time from a fully loaded dictionary; without a usable cache the tokenizer is plain jieba.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import tempfile
import threading
from collections import defaultdict
from pathlib import Path

import jieba

log = logging.getLogger(__name__)

_FORMAT = 1


class LazyTokenizer(jieba.Tokenizer):
    """jieba.Tokenizer with the default dictionary, loaded per first character on demand."""

    FREQ: dict[str, int]
    total: int
    initialized: bool

    def __init__(self) -> None:
        super().__init__()
        self._shards: dict[str, bytes] | None = None  # None once everything is loaded
        self._shard_lock = threading.Lock()

    def initialize(self, dictionary: str | None = None) -> None:
        if self.initialized:
            return
        with self.lock:
            if self.initialized:
                return
            cache = _cache_path()
            loaded = _read_shards(cache) if cache else None
            if loaded is None:
                super().initialize(dictionary)
                if cache:
                    _write_shards(cache, self.FREQ, self.total)
                return
            self.total, self._shards = loaded
            self.FREQ = {}
            self.initialized = True

    def cut(self, sentence, cut_all=False, HMM=True, use_paddle=False):
        self._load_for(jieba.strdecode(sentence))
        return super().cut(sentence, cut_all=cut_all, HMM=HMM, use_paddle=use_paddle)

    def add_word(self, word, freq=None, tag=None):
        # A word's prefixes must not be taken for unknown before the dictionary's entries for
        # its first character are in.
        self._load_for(jieba.strdecode(word))
        super().add_word(word, freq, tag)

    def load_for(self, text: str) -> None:
        """Load the dictionary entries `text` can need (what `cut` does first)."""
        self._load_for(text)

    def _load_for(self, text: str) -> None:
        self.check_initialized()
        shards = self._shards
        if not shards:
            return
        missing = [ch for ch in set(text) if ch in shards]
        if not missing:
            return
        with self._shard_lock:
            for ch in missing:
                blob = shards.pop(ch, None)
                if blob is None:  # another thread loaded it meanwhile
                    continue
                entries = marshal.loads(blob)
                # Words added with add_word win over the dictionary's entries.
                for key in entries.keys() & self.FREQ.keys():
                    entries[key] = self.FREQ[key]
                self.FREQ.update(entries)


class LazyTags:
    """The part-of-speech tag of each word of jieba's default dictionary, loaded per first character.

    jieba.posseg would do the tagging, but importing it loads all 350,000 tags (0.9 s, about 100 MB
    with the full dictionary it then needs); a follow-up question needs the tags of a few words.
    """

    def __init__(self) -> None:
        self._tags: dict[str, str] = {}
        self._lock = threading.Lock()
        cache = _cache_path("tags")
        loaded = _read_shards(cache) if cache else None
        if loaded is None:
            tags = _dictionary_tags()
            if cache:
                _write_shards(cache, tags, 0)
            self._tags, self._shards = tags, None
        else:
            self._shards = loaded[1]

    def get(self, word: str, default: str | None = None) -> str | None:
        shards = self._shards
        if shards and word and word[0] in shards:
            with self._lock:
                blob = shards.pop(word[0], None)
                if blob is not None:
                    self._tags.update(marshal.loads(blob))
        return self._tags.get(word, default)


def _dictionary_tags() -> dict[str, str]:
    tags = {}
    with jieba.Tokenizer().get_dict_file() as handle:
        for line in handle:
            parts = line.decode("utf-8").split()
            if len(parts) == 3:
                tags[parts[0]] = parts[2]
    return tags


def _cache_path(kind: str = "shards") -> Path | None:
    """The `kind` cache for the installed jieba dictionary (keyed by its size and mtime)."""
    dictionary = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    try:
        stat = dictionary.stat()
    except OSError:
        return None
    key = f"{_FORMAT}:{jieba.__version__}:{dictionary}:{stat.st_size}:{stat.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"aiqa-jieba-{digest}.{kind}"


def _read_shards(path: Path) -> tuple[int, dict[str, bytes]] | None:
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_uid != os.getuid():
                return None  # the temporary directory is shared: only trust a cache of our own
            total, shards = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(total, int) or not isinstance(shards, dict):
        return None
    return total, shards


def _write_shards(path: Path, freq: dict[str, int] | dict[str, str], total: int) -> None:
    grouped: dict[str, dict] = defaultdict(dict)
    for key, value in freq.items():
        grouped[key[0]][key] = value
    shards = {ch: marshal.dumps(entries) for ch, entries in grouped.items()}
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    except OSError as error:
        log.debug("cannot write the jieba shard cache %s: %s", path, error)
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            marshal.dump((total, shards), handle)
        os.replace(temporary, path)
    except OSError as error:
        log.debug("cannot write the jieba shard cache %s: %s", path, error)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
