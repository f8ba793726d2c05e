"""Cleaning on saved pages: phrases present/absent (trafilatura-style), metadata, and what is not an article."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from flows.clean import PageJob, clean_html, clean_pages
from flows.demo_site import SAMPLE_SITE
from flows.language import detect_language

EXPECTED = json.loads((SAMPLE_SITE / "expected.json").read_text(encoding="utf-8"))
ARTICLES = EXPECTED["articles"]


def page_bytes(outlet: str, path: str) -> bytes:
    file = SAMPLE_SITE / "outlets" / outlet / path.lstrip("/")
    if file.is_dir():
        file = file / "index.html"
    # what the sample-site server does: {{base:<key>}} becomes that outlet's base URL
    return re.sub(rb"\{\{base:([a-z0-9_-]+)\}\}", rb"https://\1.example", file.read_bytes())


@pytest.mark.parametrize("article", ARTICLES, ids=[a["id"] for a in ARTICLES])
def test_saved_page(article: dict) -> None:
    url = f"https://{article['outlet']}.example{article['path']}"
    c = clean_html(page_bytes(article["outlet"], article["path"]), url, "text/html; charset=utf-8")
    assert c.is_article, c.reason
    assert c.title == article["title"]
    assert c.published_at == datetime.fromisoformat(article["published"])
    assert c.authors == article["authors"]
    assert c.language == article["language"]
    for phrase in article["present"]:
        assert phrase in c.text
    for phrase in article["absent"]:
        assert phrase not in c.text


@pytest.mark.parametrize("outlet", sorted(EXPECTED["outlets"]))
def test_home_and_section_pages_are_not_articles(outlet: str) -> None:
    info = EXPECTED["outlets"][outlet]
    for path in ["/", *info["section_pages"]]:
        c = clean_html(page_bytes(outlet, path), f"https://{outlet}.example{path}", "text/html")
        assert not c.is_article, path


def test_pdf_and_empty_and_junk() -> None:
    pdf = clean_html(b"%PDF-1.4 ...", "https://x.example/r.pdf", "application/pdf")
    assert not pdf.is_article and "application/pdf" in (pdf.reason or "")
    assert not clean_html(b"   ", "https://x.example/a", "text/html").is_article
    junk = clean_html(b"\x00\xff<<<>>>\x00" * 100, "https://x.example/a", "text/html")
    assert not junk.is_article


def test_charset_from_the_header_and_from_meta() -> None:
    body = (
        "<html><head><meta charset='windows-1252'><meta property='og:type' content='article'></head><body>"
        "<article><p>"
        + "La política migratoria de México cambió según la secretaría. " * 30
        + "</p></article></body></html>"
    ).encode("cp1252")
    c = clean_html(body, "https://x.example/2026/11/politica-migratoria-mexico", "text/html")
    assert c.is_article and "política migratoria" in c.text and c.language == "es"


def test_process_pool_gives_the_same_result_as_inline() -> None:
    jobs = [
        PageJob(i, page_bytes(a["outlet"], a["path"]), f"https://{a['outlet']}.example{a['path']}", "text/html", None)
        for i, a in enumerate(ARTICLES)
    ]
    pooled = clean_pages(jobs, workers=2)
    inline = clean_pages(jobs, workers=1)
    assert pooled.keys() == inline.keys() == set(range(len(jobs)))
    assert all(pooled[k].text == inline[k].text for k in pooled)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The Border Patrol said the number of migrants crossing the river fell in October, officials said.", "en"),
        (
            "La Patrulla Fronteriza dijo que el número de migrantes que cruzan el río bajó en octubre, según las autoridades.",
            "es",
        ),
        ("CBP INM DHS", None),
    ],
)
def test_language_detection(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_charset_from_a_byte_order_mark_beats_a_wrong_header() -> None:
    text = "La política migratoria de México cambió según la secretaría. " * 30
    body = "\ufeff".encode() + (
        "<html><head><meta property='og:type' content='article'></head><body><article><p>"
        + text
        + "</p></article></body></html>"
    ).encode("utf-8")
    c = clean_html(body, "https://x.example/2026/11/politica-migratoria-mexico", "text/html; charset=iso-8859-1")
    assert "política migratoria de México cambió según" in c.text
