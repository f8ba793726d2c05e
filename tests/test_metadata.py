"""flows.metadata on small hand-written pages (English and Spanish): titles, people, wire credits, dates."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import lxml.html
import pytest

from flows.metadata import Metadata, extract_metadata

URL = "https://www.example-news.com/2019/11/19/border-story/"


def page(
    body: str = "", head: str = "", jsonld: dict | list | None = None, url: str | None = URL, document=None
) -> Metadata:
    ld = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>' if jsonld is not None else ""
    html = f"<html><head>{head}{ld}</head><body>{body}</body></html>"
    return extract_metadata(lxml.html.document_fromstring(html), url, document)


def article(headline: str, byline: str = "", dateline: str = "", text: str = "Lorem ipsum dolor sit amet. " * 20):
    return (
        f"<header><h1>{headline}</h1>{byline}{dateline}</header>"
        f"<div class='article-body'><p>{text}</p><p>{text}</p></div>"
    )


# ------------------------------------------------------------------------------------------------ titles


@pytest.mark.parametrize(
    ("title_tag", "site", "expected"),
    [
        (
            "Border wall funding stalls in Senate | The Daily Planet",
            "The Daily Planet",
            "Border wall funding stalls in Senate",
        ),
        (
            "Border wall funding stalls in Senate - The Daily Planet",
            "The Daily Planet",
            "Border wall funding stalls in Senate",
        ),
        (
            "Border wall funding stalls in Senate — The Daily Planet",
            "The Daily Planet",
            "Border wall funding stalls in Senate",
        ),
        (
            "The Daily Planet: Border wall funding stalls in Senate",
            "The Daily Planet",
            "Border wall funding stalls in Senate",
        ),
        (
            "Crece el flujo migratorio en Tijuana | Noticias | El Heraldo",
            "El Heraldo",
            "Crece el flujo migratorio en Tijuana",
        ),
    ],
)
def test_title_site_decorations_are_stripped(title_tag, site, expected):
    meta = page(head=f"<title>{title_tag}</title><meta property='og:site_name' content='{site}'>")
    assert meta.title == expected
    assert meta.site_name == site


def test_title_site_recognised_from_the_host_alone():
    meta = page(head="<title>Llegan 300 migrantes a Ciudad Juárez - Diario de Juárez</title>",
                url="https://diariodejuarez.com/nota/123")  # fmt: skip
    assert meta.title == "Llegan 300 migrantes a Ciudad Juárez"


def test_title_keeps_separators_that_belong_to_the_headline():
    meta = page(
        head="<title>Tijuana | A city at the border - Frontera Today</title>"
        "<meta property='og:site_name' content='Frontera Today'>",
        body=article("Tijuana | A city at the border"),
    )
    assert meta.title == "Tijuana | A city at the border"


def test_visible_h1_wins_over_an_seo_title_and_ignores_the_logo_h1():
    meta = page(
        head="<title>Asylum rule blocked by judge | Border Wire</title>"
        "<meta property='og:title' content='Judge blocks asylum rule'>"
        "<meta property='og:site_name' content='Border Wire'>",
        body="<div class='logo'><h1>Border Wire</h1></div>"
        + article("Federal judge blocks Trump administration’s new asylum rule"),
        jsonld={"@type": "NewsArticle", "headline": "Judge blocks new asylum rule"},
    )
    assert meta.title == "Federal judge blocks Trump administration’s new asylum rule"


def test_title_falls_back_to_trafilatura_when_the_page_has_none():
    meta = page(body="<p>text</p>", document=SimpleNamespace(title="Deportaciones récord en 2019", author=None,
                                                                date=None, sitename=None, text=""))  # fmt: skip
    assert meta.title == "Deportaciones récord en 2019"


# ------------------------------------------------------------------------------------------------ people


@pytest.mark.parametrize(
    ("byline", "authors", "credits"),
    [
        ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"], []),
        ("By Jane Doe, John Roe", ["Jane Doe", "John Roe"], []),
        ("By Doe, Jane", ["Jane Doe"], []),
        ("Por Juan Pérez y María López", ["Juan Pérez", "María López"], []),
        ("Por: Juan Pérez | Corresponsal", ["Juan Pérez"], []),
        ("By Jane Doe, Staff Writer", ["Jane Doe"], []),
        ("By Jane Doe | Staff Writer | jane.doe@example.com", ["Jane Doe"], []),
        ("By Jane Doe @janedoe Updated Nov 19, 2019, 10:31 pm", ["Jane Doe"], []),
        ("By TOM KRISHER, AP Auto Writer", ["Tom Krisher"], ["AP"]),
        ("By MEG KINNARD and ERRIN HAINES, Associated Press", ["Meg Kinnard", "Errin Haines"], ["AP"]),
        ("Reuters, Washington", [], ["Reuters"]),
        ("Redacción", [], []),
        ("Agencias", [], []),
        ("Staff Reports", [], []),
        ("Texto: Ana María García / EFE", ["Ana María García"], ["EFE"]),
        ("Bruce Y. Lee, Senior Contributor", ["Bruce Y. Lee"], []),
    ],
)
def test_byline_shapes(byline, authors, credits):
    meta = page(body=article("Migrants wait at the border in Tijuana", byline=f"<div class='byline'>{byline}</div>"))
    assert meta.authors == authors
    assert meta.credits == credits


def test_jsonld_person_and_organization_authors():
    ld = {
        "@type": "NewsArticle",
        "headline": "Migrant caravan reaches Mexico City",
        "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Organization", "name": "El Universal"}],
        "publisher": {"@type": "Organization", "name": "El Universal"},
    }
    assert page(jsonld=ld, body=article("Migrant caravan reaches Mexico City")).authors == ["Jane Doe"]


def test_jsonld_author_that_is_a_wire_goes_to_credits():
    ld = {"@type": "NewsArticle", "headline": "Border crossings fall", "author": {"@type": "Person", "name": "Reuters"}}
    meta = page(jsonld=ld, body=article("Border crossings fall"))
    assert meta.authors == []
    assert meta.credits == ["Reuters"]


def test_jsonld_author_resolved_through_graph_ids():
    ld = {
        "@graph": [
            {"@type": "Article", "headline": "Aduanas refuerza controles", "author": {"@id": "#p1"}},
            {"@type": "Person", "@id": "#p1", "name": "Lucía Hernández"},
        ]
    }
    assert page(jsonld=ld, body=article("Aduanas refuerza controles")).authors == ["Lucía Hernández"]


def test_publisher_accounts_and_site_names_are_not_people():
    for name in ("admin", "The Border Desk", "Example News", "webmaster42"):
        ld = {"@type": "NewsArticle", "headline": "Story", "author": {"@type": "Person", "name": name}}
        meta = page(jsonld=ld, head="<meta property='og:site_name' content='Example News'>")
        assert meta.authors == [], name


def test_meta_author_and_comment_authors():
    body = article("Shelters in Juárez are full") + (
        "<section id='comments'><div class='comment-author'>By Troll Person</div>"
        "<time datetime='2019-11-21T10:00:00Z'>Nov 21</time></section>"
    )
    meta = page(head="<meta name='author' content='Jane Doe'>", body=body)
    assert meta.authors == ["Jane Doe"]


@pytest.mark.parametrize(
    ("text", "credits"),
    [
        ("CIUDAD DE MÉXICO (EFE).- El gobierno anunció hoy nuevas medidas migratorias.", ["EFE"]),
        ("HAYWARD, Calif. (AP) — Authorities say a stabbing killed a passenger.", ["AP"]),
        ("(Reuters) - The New York State Attorney General is investigating.", ["Reuters"]),
        ("Nearly 150 Indians returned home on Wednesday after being deported.\nPTI", ["PTI"]),
        ("MADRID, 20 Nov. (EUROPA PRESS) - El Gobierno ha aprobado el plan.", ["Europa Press"]),
    ],
)
def test_wire_credits_in_the_story_text(text, credits):
    doc = SimpleNamespace(title=None, author=None, date=None, sitename=None, text=text)
    assert page(body=article("Story"), document=doc).credits == credits


# ------------------------------------------------------------------------------------------------- dates


def test_published_converted_to_utc_and_the_local_day_kept():
    meta = page(head="<meta property='article:published_time' content='2019-11-18T23:04:24-05:00'>"
                "<meta property='article:modified_time' content='2019-11-19T13:23:59-05:00'>")  # fmt: skip
    assert meta.published_at == datetime(2019, 11, 19, 4, 4, 24, tzinfo=UTC)
    assert meta.published_date == date(2019, 11, 18)
    assert meta.modified_at == datetime(2019, 11, 19, 18, 23, 59, tzinfo=UTC)


def test_date_without_time_is_midnight_utc_of_that_day():
    meta = page(jsonld={"@type": "NewsArticle", "headline": "x", "datePublished": "2019-11-19"})
    assert meta.published_at == datetime(2019, 11, 19, tzinfo=UTC)
    assert meta.published_date == date(2019, 11, 19)


def test_utc_timestamp_with_the_pages_own_timezone_in_the_dateline():
    meta = page(
        head="<meta property='article:published_time' content='2019-11-20T05:14:35Z'>",
        body=article(
            "Cat found in New Mexico",
            dateline="<span class='timestamp'>Updated 11:21 pm CST, Tuesday, November 19, 2019</span>",
        ),  # fmt: skip
    )
    assert meta.published_at == datetime(2019, 11, 20, 5, 14, 35, tzinfo=UTC)
    assert meta.published_date == date(2019, 11, 19)


def test_visible_dateline_gives_the_day_when_metadata_is_utc():
    meta = page(
        head="<meta property='article:published_time' content='2019-11-19T07:03:25+00:00'>",
        body=article("WeWork under investigation", dateline="<time class='the-time'>November 18, 2019 11:03 PM</time>"),
        url="https://example.com/story",
    )
    assert meta.published_date == date(2019, 11, 18)


def test_spanish_visible_date_and_updated_date_skipped():
    meta = page(
        body=article(
            "Llegan solicitantes de asilo a Mexicali",
            byline="<div class='autor'>Por Juan Pérez</div>",
            dateline="<div class='fecha'>Actualizado: 21 de noviembre de 2019 | Publicado: 20 de noviembre de 2019</div>",
        ),
        url="https://example.mx/nota",
    )
    assert meta.published_date == date(2019, 11, 20)
    assert meta.authors == ["Juan Pérez"]


def test_image_comment_related_and_footer_dates_are_ignored():
    body = (
        "<nav><span class='date'>Wednesday, November 20, 2019</span></nav>"
        + article(
            "Border agents seize record fentanyl load",
            dateline="<figure><img src='a.jpg'><figcaption>Photo taken March 3, 2015</figcaption></figure>"
            "<p class='byline'>By Jane Doe</p><span class='date'>November 18, 2019</span>",
        )
        + "<div class='related-stories'><span class='date'>November 2, 2019</span></div>"
        "<section class='comments'><time datetime='2019-11-25T10:00:00Z'>Nov 25</time></section>"
        "<footer>© 2004-2019 Example Media. <time datetime='2019-01-01'>2019</time></footer>"
    )
    ld = {"@type": "ImageObject", "datePublished": "2015-03-03", "uploadDate": "2015-03-03"}
    meta = page(body=body, jsonld=ld, url="https://example.com/story")
    assert meta.published_date == date(2019, 11, 18)
    assert meta.authors == ["Jane Doe"]


def test_no_date_stated_gives_none():
    body = article("Acerca de nosotros") + "<footer>Copyright 2015 Example Media</footer>"
    meta = page(body=body, url="https://example.com/about")
    assert meta.published_at is None and meta.published_date is None


def test_future_and_bogus_dates_are_dropped():
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    ld = {"@type": "NewsArticle", "headline": "Two prison officers charged", "datePublished": "0001-01-01T00:00:00Z"}
    meta = page(
        head=f"<meta property='article:published_time' content='{future}'>",
        jsonld=ld,
        body=article(
            "Two prison officers charged", dateline="<div class='publish-date'>Published 7:07 PM EST Nov 19, 2019</div>"
        ),
        url="https://example.com/story",
    )
    assert meta.published_date == date(2019, 11, 19)
    assert meta.published_at == datetime(2019, 11, 20, 0, 7, tzinfo=UTC)


def test_trafilatura_date_is_the_last_resort():
    doc = SimpleNamespace(title="t", author="Jane Doe", date="2019-11-13", sitename="Example", text="")
    meta = page(body="<p>Some text</p>", document=doc, url="https://example.com/x")
    assert meta.published_date == date(2019, 11, 13)
    assert meta.published_at == datetime(2019, 11, 13, tzinfo=UTC)


def test_broken_jsonld_still_read():
    html = (
        '<html><head><script type=\'application/ld+json\'>{"@type": "NewsArticle", "headline": "Caravana",'
        ' "datePublished": "2019-11-20T12:42:06-06:00", "author": {"@type": "Person", "name": "Ana Ruiz"},'
        ' "keywords": ["a", "b", ],}</script></head><body><h1>Caravana</h1></body></html>'
    )
    meta = extract_metadata(lxml.html.document_fromstring(html), "https://example.mx/n")
    assert meta.authors == ["Ana Ruiz"]
    assert meta.published_at == datetime(2019, 11, 20, 18, 42, 6, tzinfo=UTC)
    assert meta.published_date == date(2019, 11, 20)


def test_logo_heading_linking_home_is_not_the_headline():
    doc = SimpleNamespace(title="Cierran garita en Nogales", author=None, date=None, sitename=None, text="")
    meta = page(
        body="<div id='header'><a href='/'><h1>Noticias del Norte</h1></a></div><h2>Cierran garita en Nogales</h2>",
        url="https://nn.example.mx/nota?id=1",
        document=doc,
    )
    assert meta.title == "Cierran garita en Nogales"


def test_byline_box_with_outlet_and_date_reads_the_names_element():
    byline = (
        "<div class='byline-section'><span class='author'>Lisa Kaczke and Trevor J. Mitchell</span> "
        "Sioux Falls Argus Leader <span>Published 10:02 AM EST Nov 19, 2019</span></div>"
    )
    meta = page(body=article("South Dakota says meth campaign works", byline=byline), url="https://example.com/s")
    assert meta.authors == ["Lisa Kaczke", "Trevor J. Mitchell"]
    assert meta.published_date == date(2019, 11, 19)


@pytest.mark.parametrize(
    ("meta_author", "authors"),
    [
        ("Analysis by Chris Cillizza, CNN Editor-at-large", ["Chris Cillizza"]),
        ("Jill Disis, CNN Business", ["Jill Disis"]),
        ("Redacción El Universal", []),
        ("Staff / El Universal", []),
        ("Ilana Muhlstein, MS, RDN", ["Ilana Muhlstein"]),
    ],
)
def test_meta_author_cleanup(meta_author, authors):
    assert page(head=f"<meta name='author' content='{meta_author}'>").authors == authors


def test_site_name_from_jsonld_publisher():
    ld = {
        "@type": "NewsArticle",
        "headline": "x",
        "publisher": {"@type": "Organization", "name": "El Diario de Sonora"},
    }
    assert page(jsonld=ld).site_name == "El Diario de Sonora"


@pytest.mark.parametrize(
    ("lang", "shown", "expected"),
    [
        ("es-MX", "Publicado: 05/10/2018 - 10:30", date(2018, 10, 5)),
        ("en-US", "Posted 11/05/2019 9:15 AM", date(2019, 11, 5)),
    ],
)
def test_numeric_dateline_read_in_the_pages_language(lang, shown, expected):
    html = f"<html lang='{lang}'><body>{article('Cruce fronterizo cerrado', dateline=f'<small>{shown}</small>')}</body></html>"
    meta = extract_metadata(lxml.html.document_fromstring(html), "https://example.com/n")
    assert meta.published_date == expected


HEADLINE_PAGE = """<html><head><title>First | Site</title></head><body>
<svg><title>an icon</title></svg>
<div class="page-title">Section</div><h2>Sub</h2><span class="Headline">Big</span><p class="titulo">T</p>
<meta itemprop="headline" content="x"><div itemprop="headline">Marked</div><h1>Top</h1>
<header class="entry-title"><h3 class="subtitle">S</h3></header><a class="title">not a candidate</a>
</body></html>"""


def test_headline_candidates_are_the_xpath_ones_in_document_order() -> None:
    """The strong and weak headline searches (rewritten for speed) find what the original XPaths found."""
    from flows.metadata import _STRONG_HEADLINE_XPATH, _weak_headlines

    tree = lxml.html.document_fromstring(HEADLINE_PAGE)
    strong = "//h1 | //*[@itemprop='headline'][not(self::meta)]"
    weak = (
        "//h2 | //*[self::p or self::div or self::span or self::dt or self::h3 or self::header]"
        "[contains(@class,'title') or contains(@class,'Title') or contains(@class,'headline') "
        "or contains(@class,'Headline') or contains(@class,'titul')]"
    )
    assert tree.xpath(_STRONG_HEADLINE_XPATH) == tree.xpath(strong)
    assert _weak_headlines(tree) == tree.xpath(weak)
    assert len(tree.xpath(weak)) == 6


def test_the_page_title_is_the_first_title_outside_svg() -> None:
    got = page(head="", body="<svg><title>Close icon</title></svg><p>x</p>").title
    assert got != "Close icon"
    got = page(head="<title>Migrants wait at the border bridge in Juárez</title>").title
    assert got == "Migrants wait at the border bridge in Juárez"


def test_wire_named_by_an_author_link_is_a_credit() -> None:
    body = article("Migrants wait at the border bridge in Juárez", byline="<p>By <a rel='author'>Reuters</a></p>")
    body += "<footer><a rel='author' href='/ap'>Associated Press</a></footer>"
    got = page(body=body)
    assert "Reuters" in got.credits
    assert "AP" not in got.credits  # the footer's link is not this article's


@pytest.mark.parametrize(
    "markup",
    [
        '<div itemprop="headline">Marked</div>',
        "<div ITEMPROP = 'headline'>Marked</div>",
        "<div itemProp=headline>Marked</div>",
        '<div class="story" itemprop="headline" id="h">Marked</div>',
    ],
)
def test_itemprop_headline_is_found_from_the_source_shortcut(markup: str) -> None:
    """The cleaner passes the page's source so that the itemprop=headline search is skipped where the source cannot
    hold one; every way of writing the attribute is still found, and the candidates are the XPath's."""
    from flows.extraction import page_elements
    from flows.metadata import _STRONG_HEADLINE_XPATH, _may_have_headline_prop, _Page, _strong_headlines

    source = f"<html><head><title>x</title></head><body><h1>Top</h1>{markup}<h1>Other</h1></body></html>"
    tree = lxml.html.document_fromstring(source)
    assert _may_have_headline_prop(source)
    found = _strong_headlines(_Page(tree, None, None, page_elements(tree), source))
    assert found == tree.xpath(_STRONG_HEADLINE_XPATH)
    assert [el.text for el in found] == ["Top", "Marked", "Other"]


def test_headline_word_elsewhere_does_not_force_the_itemprop_search() -> None:
    from flows.extraction import page_elements
    from flows.metadata import _may_have_headline_prop, _Page, _strong_headlines

    source = (
        '<html><head><script type="application/ld+json">{"headline": "A"}</script>'
        '<meta itemprop="name" content="headline"></head><body><h1 class="headline">A</h1>'
        "<p>The headline said so.</p></body></html>"
    )
    assert not _may_have_headline_prop(source)
    tree = lxml.html.document_fromstring(source)
    assert _strong_headlines(_Page(tree, None, None, page_elements(tree), source)) == tree.xpath("//h1")


def test_metadata_is_the_same_with_and_without_the_source() -> None:
    from flows.extraction import page_elements

    source = (
        "<html><head><title>Border wall funding stalls | Valley News</title></head><body><h1>Valley News</h1>"
        '<article><span itemprop="headline">Border wall funding stalls</span><p class="byline">By Ana Ruiz</p>'
        "<p>Congress left the border wall money out of the bill on Tuesday, officials said.</p></article></body></html>"
    )
    tree = lxml.html.document_fromstring(source)
    plain = extract_metadata(tree, "https://valleynews.example/n/1")
    shortcut = extract_metadata(tree, "https://valleynews.example/n/1", elements=page_elements(tree), source=source)
    assert shortcut == plain
    assert shortcut.title == "Border wall funding stalls" and shortcut.authors == ["Ana Ruiz"]
