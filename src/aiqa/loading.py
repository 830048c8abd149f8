"""Loading: find corpus files, decode them, and give each a title."""

from __future__ import annotations

import codecs
import errno
import hashlib
import logging
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

from .errors import CorpusError
from .models import Document

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md")
# Files larger than this are almost never prose; they are skipped rather than slowing every build.
MAX_FILE_BYTES = 64 * 1024 * 1024

_MARKDOWN_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_ORIGINAL_TITLE = re.compile(r"原[标標][题題][:：]\s*《([^》\n]+)》")
_MEANINGFUL = re.compile(r"[\w\u3400-\u9fff]")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])")
_IMAGE_STUB = re.compile(r"^!\[[^\]]*\]\([^)]*\)$")
_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x7fELF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b")


class DecodeError(ValueError):
    pass


def decode(raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 (with BOM) or GB18030; reject binary data."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    if raw.startswith(_MAGIC):
        raise DecodeError("binary file")
    if b"\x00" in raw[:4096]:
        # UTF-16 without a BOM shows NULs between ASCII characters; anything else with NULs is binary.
        return _first_text(raw, ("utf-16-le", "utf-16-be"), failure="binary file")
    return _first_text(raw, ("utf-8", "gb18030"), failure="not UTF-8, UTF-16 or GB18030 text")


def _first_text(raw: bytes, encodings: tuple[str, ...], failure: str) -> str:
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise DecodeError(failure)


def _looks_like_text(text: str) -> bool:
    sample = text[:4096]
    if not sample:
        return True
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return control / len(sample) < 0.01 and "\x00" not in sample


def title_of(text: str, fallback: str) -> str:
    """A 原标题:《…》 line, a Markdown heading that opens the text, or else the first meaningful line.

    A heading further down titles a section, not the document.
    """
    original = _ORIGINAL_TITLE.search(text)
    if original:
        return original.group(1).strip()[:120]
    for line in text.splitlines():
        line = line.strip()
        if not _MEANINGFUL.search(line) or _IMAGE_STUB.match(line):
            continue
        heading = _MARKDOWN_HEADING.match(line)
        if heading:
            return heading.group(1).strip()[:120]
        first_sentence = _SENTENCE_END.split(line, maxsplit=1)[0]
        return first_sentence[:60] + ("…" if len(first_sentence) > 60 else "")
    return fallback


def corpus_files(corpus: Path) -> Iterator[Path]:
    """Every .txt/.md file below `corpus`, sorted, following directory links at most once."""
    if not corpus.is_dir():
        raise CorpusError(
            f"Corpus directory {corpus} does not exist; create it and put .txt or .md files in it."
        )
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(corpus, followlinks=True):
        try:
            stat = os.stat(root)
        except OSError:
            dirs[:] = []
            continue
        if (stat.st_dev, stat.st_ino) in seen:  # a directory link loop
            dirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(SUFFIXES) and not name.startswith("."):
                path = Path(root) / name
                relative = relative_name(path, corpus)
                if _undecodable(relative):
                    # The index, its JSON and every citation name files by text; this one has none.
                    shown = os.fsencode(relative).decode("utf-8", "backslashreplace")
                    log.warning("skipped %s: its file name is not valid UTF-8; rename it", shown)
                    continue
                yield path


def _undecodable(name: str) -> bool:
    """Whether the name holds bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    return any("\ud800" <= ch <= "\udfff" for ch in name)


def read_bytes(path: Path) -> bytes:
    """The file's bytes; OSError for anything but a regular file (reading a FIFO would block)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    if info.st_size > MAX_FILE_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_FILE_BYTES // 2**20} MB", str(path))
    return path.read_bytes()


def relative_name(path: Path, corpus: Path) -> str:
    return path.relative_to(corpus).as_posix()


def read_document(path: Path, corpus: Path) -> Document | None:
    """The decoded document, or None (with one warning) when the file is unusable or empty."""
    name = relative_name(path, corpus)
    try:
        raw = read_bytes(path)
    except OSError as error:
        log.warning("skipped %s: cannot read it (%s)", name, error.strerror or error)
        return None
    return parse_document(raw, name, fallback_title=path.stem)


def parse_document(raw: bytes, name: str, fallback_title: str) -> Document | None:
    """The document in a file's bytes, or None (with one warning) when they are not usable text."""
    try:
        text = decode(raw)
    except (DecodeError, UnicodeDecodeError) as error:
        log.warning("skipped %s: %s", name, error)
        return None
    if not text.strip():
        log.warning("skipped %s: empty", name)
        return None
    return Document(doc=name, title=title_of(text, fallback=fallback_title), text=text, sha256=sha256(raw))


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def load_corpus(corpus: Path) -> list[Document]:
    return [doc for path in corpus_files(corpus) if (doc := read_document(path, corpus)) is not None]
