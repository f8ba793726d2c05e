"""Teaser and paywall detection: an article cut off by a paywall is flagged, not stored as if complete."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# phrases a paywall or registration wall puts where the story stops (English and Spanish); plain substrings
# of the page's lowercased text: a regex alternation over a whole page cost more than trafilatura itself
WALL_PHRASES = (
    "subscribe to continue reading",
    "subscribe now to continue reading",
    "subscribe to keep reading",
    "to continue reading, please",
    "to continue reading, subscribe",
    "to continue reading, log in",
    "this article is for subscribers",
    "this article is only available to subscribers",
    "this story is only available to subscribers",
    "this content is only available to subscribers",
    "this article is exclusive to subscribers",
    "available to subscribers only",
    "subscribers only",
    "already a subscriber?",
    "already a member?",
    "unlock this article",
    "unlock this story",
    "para seguir leyendo",
    "para continuar leyendo",
    "contenido exclusivo para suscriptores",
    "contenido exclusivo para miembros",
    "suscríbete para seguir leyendo",
    "suscríbete para continuar",
    "este contenido es exclusivo",
    "ya eres suscriptor",
)
_WALL_TAILS = (
    "ontinue reading",
    "eep reading",
    "ubscribers",
    "lready a",
    "nlock this",
    "eguir leyendo",
    "ontinuar leyendo",
    "xclusivo",
    "uscriptor",
    "uscríbete para",
    "xclusive to",
    "vailable to",
)
_CUT = re.compile(r"(\.\.\.|…|\[\.\.\.\])\s*$")


def _false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def partial_reason(
    text: str, page_text: str | Callable[[], str], jsonld: list[dict[str, Any]], words: int | None = None
) -> str | None:
    """Why the extracted `text` looks like a teaser of a longer article, or None.

    `page_text` is the visible text of the whole page (where the wall's own words are), or a function that
    returns it, called only when the extracted text is short enough for the wall's words to matter; `jsonld`
    the page's JSON-LD objects. Publishers mark metered articles `isAccessibleForFree: false` even when the HTML
    holds the whole story, so the flag alone is not enough: the text must also be short against what they declare.
    `words`: the text's word count (whitespace-separated), when the caller has it.
    """
    words = len(text.split()) if words is None else words
    for obj in jsonld:
        if _false(obj.get("isAccessibleForFree")):
            declared = obj.get("wordCount")
            try:
                declared = int(declared) if declared is not None else None
            except (TypeError, ValueError):
                declared = None
            if declared and words < 0.6 * declared:
                return f"marked not free; {words} of {declared} words extracted"
            if declared is None and words < 250:
                return f"marked not free; only {words} words extracted"
    # case-blind prefilter without lowering the whole page: the phrases' tails, most pages have none
    if words < 400 and not isinstance(page_text, str):
        page_text = page_text()
    if words < 400 and any(tail in page_text for tail in _WALL_TAILS):
        low = page_text.lower()
        wall = next((phrase for phrase in WALL_PHRASES if phrase in low), None)
        if wall:
            return f"paywall text on the page ({wall!r}); {words} words extracted"
    if words < 200 and _CUT.search(text[-16:]):
        return f"text ends cut off ({words} words)"
    return None
