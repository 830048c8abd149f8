"""Text from the corpus, a model or an upload, made safe to show: no control or text-direction codes.

A terminal obeys escape sequences (`ESC ]0;…` retitles the window, `ESC [2J` clears it), and bidi
overrides reorder what a reader sees (a name can read as something it is not).
"""

from __future__ import annotations

import json
import re
from typing import Any

# Bidi embeddings, overrides and isolates, and the invisible direction marks.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]")
# An escape sequence goes whole (a CSI like ESC[2J or an OSC like ESC]0;title BEL), not only its ESC.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
# What json.dumps(ensure_ascii=False) leaves raw that a terminal may still obey (C1 codes) or that
# reorders the line (bidi controls); JSON can spell them as \uXXXX escapes instead.
_RAW_IN_JSON = re.compile(f"[\x7f-\x9f{BIDI_CONTROLS}]")
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def printable(text: str) -> str:
    """The text as a terminal should show it: line breaks and tabs kept, escape sequences and other
    control or text-direction characters removed."""
    return _UNSAFE_IN_LINES.sub("", _ESCAPE_SEQUENCE.sub("", text))


def escaped(name: str) -> str:
    """The name with every control or text-direction character written as a \\uXXXX escape."""
    return _UNSAFE.sub(_as_escape, name)


def json_line(data: Any) -> str:
    """One line of JSON, readable UTF-8, with nothing a terminal would obey: control characters all
    escaped (json.dumps escapes only C0 ones), so the text it decodes to is exactly the data."""
    return _RAW_IN_JSON.sub(_as_escape, json.dumps(data, ensure_ascii=False)) + "\n"


def _as_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
