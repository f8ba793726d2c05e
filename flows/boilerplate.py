"""Per-source template boilerplate: lines that recur across many articles of one outlet.

trafilatura sees one page at a time; a crawler sees the outlet. A paragraph that appears in the extracted
text of several different articles of the same source ("Support our journalism: become a member", a
newsletter box inside the story body, a standing credit line) is template, not news. The statistics live
in the database (boilerplate_lines) and grow with every run; once a line crosses the threshold it is removed
from new articles and from the articles stored earlier.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

_WS = re.compile(r"\s+")
_MIN_CHARS = 12  # shorter lines ("Photo", "AP") carry too little to judge by repetition alone


def normalise(line: str) -> str:
    return _WS.sub(" ", line).strip().lower()


def line_key(line: str) -> str:
    return hashlib.sha1(normalise(line).encode("utf-8")).hexdigest()[:16]


def text_lines(text: str) -> dict[str, str]:
    """The distinct lines of an article's text worth counting, by key."""
    out: dict[str, str] = {}
    for line in text.split("\n"):
        if len(normalise(line)) >= _MIN_CHARS:
            out.setdefault(line_key(line), line.strip())
    return out


def strip_lines(text: str, keys: Iterable[str]) -> str:
    """The text without the lines whose key is in `keys`."""
    keys = set(keys)
    if not keys:
        return text
    kept = [line for line in text.split("\n") if not line.strip() or line_key(line) not in keys]
    return "\n".join(kept).strip()
