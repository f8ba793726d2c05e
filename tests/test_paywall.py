"""Teaser and paywall detection."""

from __future__ import annotations

import pytest

from flows.clean import clean_html
from flows.paywall import partial_reason

LONG = "Asylum seekers waited at the bridge as officers processed claims. " * 60  # 600 words
SHORT = "Asylum seekers waited at the bridge as officers processed claims. " * 12  # 120 words


def test_marked_not_free_and_much_shorter_than_declared() -> None:
    jsonld = [{"@type": "NewsArticle", "isAccessibleForFree": "False", "wordCount": 900}]
    assert "120 of 900" in (partial_reason(SHORT, "", jsonld) or "")
    # metered sites mark everything not free but ship the whole text: not partial
    assert partial_reason(LONG, "", [{"isAccessibleForFree": False, "wordCount": 610}]) is None


def test_wall_phrases_in_english_and_spanish() -> None:
    assert partial_reason(SHORT, "<div>Subscribe to continue reading this story</div>", []) is not None
    assert partial_reason(SHORT, "<p>Contenido exclusivo para suscriptores</p>", []) is not None
    assert partial_reason(SHORT, "<p>Suscríbete para seguir leyendo</p>", []) is not None
    assert partial_reason(LONG, "<div>Subscribe to continue reading</div>", []) is None  # the whole story is here


def test_text_cut_off_mid_story() -> None:
    assert partial_reason(SHORT + " The officials said that the …", "", []) is not None
    assert partial_reason(SHORT, "", []) is None


def test_clean_html_flags_a_teaser_page() -> None:
    page = (
        "<html><head><meta property='og:type' content='article'><title>Asylum limits</title>"
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Asylum limits",'
        ' "datePublished": "2026-11-20T10:00:00Z", "isAccessibleForFree": false, "wordCount": 1200}</script>'
        f"</head><body><article><h1>Asylum limits</h1><p>{SHORT}</p></article>"
        "<div class='paywall'>Subscribe to continue reading. Already a subscriber? Log in.</div></body></html>"
    )
    c = clean_html(page.encode(), "https://n.example/2026/11/20/asylum-limits", "text/html")
    assert c.is_article and c.is_partial and c.partial_reason


def _teaser_page(after_story: str) -> bytes:
    return (
        "<html><head><meta property='og:type' content='article'><title>Asylum limits</title>"
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Asylum limits",'
        ' "datePublished": "2026-11-20T10:00:00Z"}</script>'
        f"</head><body><article><h1>Asylum limits</h1><p>{SHORT}</p></article>{after_story}</body></html>"
    ).encode()


@pytest.mark.parametrize(
    ("after_story", "partial"),
    [
        ("<div class='wall'><b>Subscribe</b> to <i>continue reading</i>.</div>", True),  # words split by tags
        ("<div class='wall'>Suscr&iacute;bete para seguir leyendo</div>", True),  # written as a character reference
        ("<script>var wall = {text: 'Subscribe to continue reading'};</script>", False),  # a script's string
        ("<noscript>To continue reading, please enable JavaScript.</noscript>", False),  # not a paywall
        ("<style>.subscribers-only{display:none}</style><div>Photo: Reuters</div>", False),
    ],
)
def test_wall_words_are_read_from_the_visible_text(after_story: str, partial: bool) -> None:
    c = clean_html(_teaser_page(after_story), "https://n.example/2026/11/20/asylum-limits", "text/html")
    assert c.is_article
    assert c.is_partial is partial, c.partial_reason


def test_the_page_text_is_only_read_for_a_short_text() -> None:
    """The cleaner hands the visible text as a function: reading it costs a walk of the page."""
    calls: list[int] = []

    def page_text() -> str:
        calls.append(1)
        return "Subscribe to continue reading"

    assert partial_reason(LONG, page_text, []) is None
    assert calls == []
    assert partial_reason(SHORT, page_text, []) is not None
    assert calls == [1]
