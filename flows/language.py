"""A small English/Spanish language guess from the text itself (pages lie in their `lang` attribute)."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_STOP = {
    "en": set(
        "the of and to in is that for it was on with as by at from this be are have has had not but they "
        "said were which their will would been who an its or more after about than".split()
    ),
    "es": set(
        "el la los las de del y en que por con para una un es se su sus al lo como más pero fue han ha "
        "son este esta entre sobre también desde porque muy dijo según".split()
    ),
}


def detect_language(text: str, fallback: str | None = None, sample_words: int = 400) -> str | None:
    """'en' or 'es' when the stop-word evidence is clear, otherwise `fallback`."""
    words = [w.lower() for w in _WORD.findall(text[: sample_words * 12])[:sample_words]]
    if len(words) < 8:
        return fallback
    counts = {lang: sum(map(stop.__contains__, words)) for lang, stop in _STOP.items()}
    best = max(counts, key=lambda k: counts[k])
    other = min(counts.values())
    # words like "a", "de", "no" are shared; demand a clear margin and a real share of stop words
    if counts[best] >= max(3, 1.5 * other) and counts[best] / len(words) > 0.08:
        return best
    return fallback
