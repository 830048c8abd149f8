"""Corpus administration for a running server: what is indexed, and adding uploaded files safely."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from .loading import SUFFIXES, DecodeError, corpus_files, decode, relative_name
from .safe_text import escaped
from .store import Manifest, corpus_changes

# Uploads are prose documents typed or exported by people; anything larger is almost surely a
# mistake (a dump, a log) and would slow every rebuild.
MAX_UPLOAD_BYTES = 5 * 2**20

FileStatus = Literal["indexed", "new", "changed", "removed", "skipped"]


class CorpusFile(BaseModel):
    name: str
    title: str
    chunks: int
    status: FileStatus


def corpus_listing(corpus: Path, manifest: Manifest) -> list[CorpusFile]:
    """Every corpus file and every indexed file, with its chunk count and how it stands to the index."""
    changes = corpus_changes(corpus, manifest)
    status_of: dict[str, FileStatus] = {name: "skipped" for name in manifest.skipped}
    status_of |= {name: "new" for name in changes.added}  # includes skipped files changed since
    status_of |= {name: "changed" for name in changes.changed}
    status_of |= {name: "removed" for name in changes.removed}
    names = {relative_name(path, corpus) for path in corpus_files(corpus)} | set(manifest.files)
    listing = []
    for name in sorted(names):
        entry = manifest.files.get(name)
        listing.append(
            CorpusFile(
                name=name,
                title=entry.title if entry else "",
                chunks=entry.chunks if entry else 0,
                status=status_of.get(name, "indexed"),
            )
        )
    return listing


class UploadOutcome(BaseModel):
    """What happened to one uploaded file; `message` is one sentence for the person who uploaded it."""

    name: str
    added: bool
    message: str


def add_uploads(corpus: Path, uploads: list[Path], *, replace: bool = False) -> list[UploadOutcome]:
    """Copy uploaded .txt/.md files into the corpus after checking each; never overwrite silently.

    A file whose name is already taken by different content is rejected unless `replace` is set,
    and then the outcome says it replaced the old one.
    """
    return [_add_upload(corpus, path, replace=replace) for path in uploads]


def _add_upload(corpus: Path, upload: Path, *, replace: bool) -> UploadOutcome:
    name = upload.name

    def rejected(why: str) -> UploadOutcome:
        shown = escaped(name)
        return UploadOutcome(name=shown, added=False, message=f"{shown} was not added: {why}.")

    if name.startswith(".") or not name.lower().endswith(SUFFIXES):
        return rejected("only .txt and .md files can be added")
    if escaped(name) != name:
        return rejected("its name has control or text-direction characters; rename it")
    if not Path(name).stem.strip():
        return rejected("its name is only blank space; rename it")
    size = upload.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        return rejected(f"it is {size / 2**20:.1f} MB, the limit is {MAX_UPLOAD_BYTES // 2**20} MB")
    raw = upload.read_bytes()
    try:
        text = decode(raw)
    except (DecodeError, UnicodeDecodeError) as error:
        return rejected(f"it is not readable text ({error}); save it as UTF-8 and upload it again")
    if not text.strip():
        return rejected("it is empty")
    target = corpus / name
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        # Reading a FIFO would hang, and a directory or a link is not a document to replace.
        return rejected("something that is not a regular file has this name in the corpus; rename it")
    replaced = existing is not None
    if replaced:
        if target.read_bytes() == raw:
            return UploadOutcome(
                name=name, added=False, message=f"{name} is already in the corpus with the same content."
            )
        if not replace:
            return rejected(
                "a different file with this name is already in the corpus; rename it, or choose to "
                "replace existing files"
            )
    _write_atomically(target, raw, None if existing is None else stat.S_IMODE(existing.st_mode))
    verb = "replaced the file of the same name" if replaced else "added to the corpus"
    return UploadOutcome(name=name, added=True, message=f"{name}: {verb}.")


def _write_atomically(target: Path, raw: bytes, mode: int | None) -> None:
    """A half-written file would be indexed as a document, so write aside and rename into place.

    The file gets the mode of the one it replaces, or of any new file (0666 less the umask), not
    mkstemp's private 0600, so that the corpus stays readable by whoever reads it.
    """
    temporary = target.with_name(f".upload-{secrets.token_hex(8)}")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
