"""Article main-text extraction on hand-written pages: phrases present/absent, in the style of trafilatura's tests.

The pages under tests/fixtures/extraction/ are made up for these tests (English and Spanish): an article body
surrounded by the furniture news sites add to it, some of it inside the body where trafilatura keeps it.
"""

from __future__ import annotations

import copy
from pathlib import Path

import lxml.html
import pytest
from lxml import etree
from trafilatura.utils import load_html

from flows.extraction import Extracted, extract_article, is_boilerplate_line, parse_html

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "extraction"


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def en() -> Extracted:
    return extract_article(page("en_border_article.html"), "https://frontier-ledger.example/news/2025/03/asylum")


@pytest.fixture(scope="module")
def es() -> Extracted:
    return extract_article(page("es_border_article.html"), "https://diario-fronterizo.example/frontera/albergue")


EN_BODY = [
    "Immigration judges resumed in-person asylum hearings at the Paso del Norte port of entry on Tuesday",
    "Lawyers who represent migrants said the first day ran smoothly",
    "a backlog that now exceeds forty thousand cases in the El Paso sector alone.",
    "Shelter directors in Ciudad Juárez said they hoped the reopening would ease crowding",
    "whether similar facilities would open in Laredo and Brownsville later this year.",
]
ES_BODY = [
    "El albergue para migrantes ubicado en la colonia Obrera de Tijuana reabrió sus puertas este martes",
    "la mayoría familias con niños pequeños.",
    "Las autoridades municipales informaron que revisarán otros doce albergues",
    "Los migrantes que esperan una cita para solicitar asilo en Estados Unidos",
]


def test_english_body_sentences_kept_in_order(en: Extracted) -> None:
    positions = [en.text.find(s) for s in EN_BODY]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)
    assert "\n" in en.text and "\n\n" not in en.text  # one paragraph per line


def test_spanish_body_sentences_kept_in_order(es: Extracted) -> None:
    positions = [es.text.find(s) for s in ES_BODY]
    assert all(p >= 0 for p in positions), positions
    assert positions == sorted(positions)


def test_headline_and_dateline_not_repeated_in_body(en: Extracted, es: Extracted) -> None:
    assert en.text.startswith("Immigration judges resumed")
    assert "Asylum hearings resume at El Paso port of entry" not in en.text
    assert "March 4, 2025" not in en.text.split("\n")
    assert es.text.startswith("El albergue para migrantes")
    assert "Reabren albergue para migrantes en Tijuana tras las lluvias" not in es.text
    assert "18:05 hrs" not in es.text


def test_share_buttons_dropped(en: Extracted, es: Extracted) -> None:
    assert "Share on Facebook" not in en.text
    assert "Compartir en Facebook" not in es.text
    assert "WhatsApp" not in es.text


@pytest.mark.parametrize(
    "phrase",
    ["Sign up for our daily Border Briefing newsletter", "Follow us on Facebook", "Reporting by Dana Whitfield"],
)
def test_english_promos_and_credits_dropped(en: Extracted, phrase: str) -> None:
    assert phrase not in en.text


@pytest.mark.parametrize(
    "phrase", ["Suscríbete a nuestro boletín", "Síguenos en Twitter", "Con información de EFE", "Lee también"]
)
def test_spanish_promos_and_credits_dropped(es: Extracted, phrase: str) -> None:
    assert phrase not in es.text


def test_advertisement_labels_dropped(en: Extracted, es: Extracted) -> None:
    assert "Advertisement" not in en.text
    assert "Publicidad" not in es.text


def test_related_stories_dropped(en: Extracted, es: Extracted) -> None:
    for phrase in ("Related stories", "Texas expands buoy barrier", "READ MORE", "record occupancy"):
        assert phrase not in en.text
    for phrase in ("Noticias relacionadas", "Deportan a 300 mexicanos", "Aumenta la llegada de familias"):
        assert phrase not in es.text


def test_comments_dropped(en: Extracted, es: Extracted) -> None:
    assert "borderfan99" not in en.text and "Comments" not in en.text
    assert "Anónimo dijo" not in es.text and "Comentarios" not in es.text


def test_cookie_banners_and_footer_dropped(en: Extracted, es: Extracted) -> None:
    assert "cookie" not in en.text.lower()
    assert "cookies" not in es.text.lower()
    assert "All rights reserved" not in en.text
    assert "Todos los derechos reservados" not in es.text


def test_image_credit_lines_dropped(en: Extracted, es: Extracted) -> None:
    assert "Luis Ortega" not in en.text
    assert "Getty Images" not in en.text
    assert "Cuartoscuro" not in es.text


def test_embedded_tweet_kept(en: Extracted) -> None:
    # trafilatura alone drops it with its "social"/"embed" wrapper
    assert "Families lined up before sunrise with their paperwork in plastic folders." in en.text
    assert "Hearings are back on at the bridge this morning." in en.text


def test_metadata_comes_from_trafilatura(en: Extracted, es: Extracted) -> None:
    assert en.document is not None and es.document is not None
    assert en.document.title == "Asylum hearings resume at El Paso port of entry"
    assert en.document.author == "Dana Whitfield"
    assert en.document.date == "2025-03-04"
    assert en.document.sitename == "Frontier Ledger"
    assert es.document.title == "Reabren albergue para migrantes en Tijuana tras las lluvias"
    assert es.document.author == "Mariana Soto"


def test_body_split_around_an_ad_is_joined_but_next_article_is_not() -> None:
    got = extract_article(page("split_body.html"), "https://example.org/remittances")
    assert "reached another record last year" in got.text
    assert "used to take most of a day." in got.text
    # the second chunk of the same body, after a full-width ad
    assert "the reliance on remittances worries some officials" in got.text
    assert got.text.index("used to take most of a day.") < got.text.index("worries some officials")
    assert "from a single relative abroad." in got.text
    # a different story below its own <h1>, in a container with the same class
    assert "seasonal farmworker visas" not in got.text
    assert "Advertisement" not in got.text


@pytest.mark.parametrize(
    "line",
    [
        "Advertisement",
        "Publicidad",
        "ADVERTISEMENT",
        "Related:",
        "Related stories",
        "Noticias relacionadas",
        "Te puede interesar:",
        "Lee también: Deportan a 300 mexicanos por Nogales",
        "Read more: Border crossings fell in February",
        "Sign up for our newsletter to get the news in your inbox every morning.",
        "Suscríbete a nuestro boletín",
        "Click here to get the app",
        "Haz clic aquí para recibir alertas",
        "Follow us on Twitter",
        "Síguenos en Facebook",
        "We use cookies to improve your experience. Accept all cookies",
        "Utilizamos cookies para mejorar tu experiencia.",
        "Photo: Jane Doe/Reuters",
        "Foto: Cuartoscuro",
        "A Border Patrol agent at the fence near Sunland Park. (Getty Images)",
        "5 min read",
        "12 comments",
        "Comentarios",
        "https://www.example.org/story/123",
        "(Reporting by Ana Ruiz; Editing by Tom Brown)",
        "Con información de EFE y AFP",
        # case-blind like the patterns' re.I, which also folds "İ", "ı" and "ſ" to i/s
        "SIGN UP FOR THE MORNİNG BRİEFİNG",
        "Get the ınbox newsletter for free",
        "This ſite uses cookies",
        "Jane Doe contributed to this report.",
    ],
)
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "The agency said it would subscribe to a new data service to track crossings, according to a memo.",
        "More than 2,500 migrants crossed near Eagle Pass on Sunday, officials said.",
        "The company declined to comment, according to Reuters.",
        "Los comentarios del gobernador provocaron críticas de organizaciones civiles en Chihuahua.",
        "El sitio web de la agencia utiliza datos de la Patrulla Fronteriza para estimar los cruces.",
        "Share prices of private prison operators rose after the announcement.",
        "Related charges were filed against two other smugglers in federal court in Tucson.",
    ],
)
def test_article_sentences_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate_line(line)


@pytest.mark.parametrize("html", ["", "   ", "<html></html>", "not html at all"])
def test_empty_or_junk_input_gives_empty_text(html: str) -> None:
    got = extract_article(html, "https://example.org/x")
    assert isinstance(got, Extracted)
    assert got.text == ""


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "hello",
        "<p>x</p>",
        "<div>a</div><div>b</div>",
        "<html><head><title>t</title></head></html>",
        "<!DOCTYPE html/>\n<html><body><p>a</p></body></html>",
        "<!DOCTYPE html/><html><body><p>a</p></body></html>",
        "<html/>\n<body><p>x</p></body>",
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>',
        "<html><body><p>\x00\x01a\ufffe b\x0c</p></body></html>",
        "\ud800<html><body>x</body></html>",
    ]
    + [page(name) for name in ("en_border_article.html", "es_border_article.html")],
)
def test_parse_html_is_trafilaturas_load_html(html: str) -> None:
    """parse_html skips load_html's character clean-up pass when there is nothing to delete: same tree."""

    def serialised(tree: object) -> str | None:
        return None if tree is None else etree.tostring(tree, encoding="unicode")

    assert serialised(parse_html(html)) == serialised(load_html(html))


def test_parse_html_elements_are_lxml_html_elements() -> None:
    """parse_html picks element classes without lxml.html's per-element Python lookup: every element, form fields
    too, is still an HtmlElement (text_content, drop_tree: trafilatura calls them), and its copies keep that."""
    tree = parse_html(
        "<html><body><form><label>a</label><input value='x'><select></select></form><p>b</p></body></html>"
    )
    assert all(isinstance(el, lxml.html.HtmlElement) for el in tree.iter())
    assert all(isinstance(el, lxml.html.HtmlElement) for el in copy.copy(tree).iter())
    assert tree.text_content() == "ab"


def test_precision_merge_keeps_lines_the_precise_pass_has_in_any_spacing_or_case() -> None:
    from flows.extraction import _merge_with_precision

    long_line = "Officials at the port of entry said the new rule " * 3  # 30 words: kept even if dropped
    lines = ["Border agents processed claims.", "Share this story", "MORE NEWS: the wall", long_line, "Fin."]
    precise = ["Border agents processed claims.", "more news  the wall", "Fin."]
    assert _merge_with_precision(lines, precise) == [lines[0], "MORE NEWS: the wall", long_line, "Fin."]
    assert _merge_with_precision(lines, []) == lines
