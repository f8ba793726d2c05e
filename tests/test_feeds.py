"""parse_feed over real-world feed shapes (RSS 0.91/1.0/2.0, Atom, JSON Feed) and hostile ones (XXE, entity bombs,
oversized and malformed bodies). Fixtures live in tests/fixtures/feeds/."""

from __future__ import annotations

import gzip
import io
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from crawlers import discovery

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
SECRET = "TOP-SECRET-7f3a9c-BORDERWATCH"


def parse(name: str, base_url: str | None = None) -> tuple[list[discovery.Link], list[str]]:
    return discovery.parse_feed((FEEDS / name).read_bytes(), base_url or f"https://feeds.example/{name}")


def urls(links: list[discovery.Link]) -> list[str]:
    return [link.url for link in links]


def everything(links: list[discovery.Link], problems: list[str]) -> str:
    """All output as one string, to search for leaked content."""
    return json.dumps([[link.url, link.hints] for link in links]) + json.dumps(problems)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


@pytest.fixture
def listener() -> Iterator[tuple[int, socket.socket]]:
    """A port on 127.0.0.1 that records whether anything connected (the handshake completes without accept())."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock.getsockname()[1], sock
    sock.close()


def connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


# -- formats ---------------------------------------------------------------------------------------------------


def test_rss091_with_netscape_doctype() -> None:
    links, problems = parse("rss091.xml")
    assert urls(links) == [
        "https://fronteranorte.example/2026/11/migrantes-varados-tijuana-citas-asilo.html",
        "https://fronteranorte.example/2026/11/guardia-nacional-retenes-chiapas.html",
        "https://fronteranorte.example/2026/11/el-chaparral-reabre.html",
    ]
    assert links[1].hints == {"via": "feed", "feed_title": "Guardia Nacional refuerza retenes en Chiapas"}
    assert problems == []  # a DOCTYPE without entity declarations is left alone


def test_rss10_rdf_link_rdf_about_and_dc_date() -> None:
    links, problems = parse("rss10_rdf.xml")
    assert urls(links) == [
        "https://borderwire.example/2026/11/12/asylum-cap-court-ruling",
        "https://borderwire.example/2026/11/11/eagle-pass-buoys-appeal",  # no <link>: rdf:about names the item
    ]
    assert links[0].hints["feed_updated"] == "2026-11-12T09:30:00-06:00"
    assert links[0].hints["feed_updated_iso"] == "2026-11-12T15:30:00+00:00"
    assert problems == ["entry 2 has no link"]  # a relative rdf:about is not a URL to follow


def test_rss20_relative_links_resolved_against_xml_base() -> None:
    links, _ = parse("rss20_cdata_relative.xml")
    assert urls(links) == [
        "https://www.borderreport.example/news/2026/11/12/title-42-ends-ports-of-entry/",  # channel xml:base
        "https://www.borderreport.example/news/2026/11/11/operation-lone-star-val-verde-arrests/",  # root-relative
        "https://www.borderreport.example/es/2026/11/10/comar-record-solicitudes-refugio/",  # item xml:base="/es/"
        "https://cdn.borderreport.example/interactivos/2026/mapa-cruces-juarez/",  # scheme-relative
    ]


def test_rss20_cdata_titles_whitespace_and_embedded_html_doctype() -> None:
    links, problems = parse("rss20_cdata_relative.xml")
    assert links[0].hints["feed_title"] == "Title 42 ends: what changes at ports of entry & between them"
    assert links[2].hints["feed_title"] == "Récord de solicitudes de refugio en México: COMAR rebasa las 150 mil"
    assert links[0].hints["feed_published_iso"] == "2026-11-12T14:05:00+00:00"
    assert links[1].hints["feed_published_iso"] == "2026-11-11T15:00:00+00:00"  # -0600 normalised to UTC
    assert not any("DOCTYPE" in p or "leniently" in p for p in problems)  # <!DOCTYPE html> inside CDATA is content


def test_non_http_links_are_skipped_as_problems() -> None:
    _, problems = parse("rss20_cdata_relative.xml")
    assert [p.split(":", 1)[0] for p in problems] == ["entry 4", "entry 5", "entry 6"]
    assert "javascript:void" in problems[0] and "mailto:tips@" in problems[1] and "data:text/html" in problems[2]


def test_duplicate_links_returned_once() -> None:
    links, _ = parse("rss20_cdata_relative.xml")  # item 3 repeats item 0 with a #comments fragment
    assert len(urls(links)) == len(set(urls(links))) == 4
    assert links[0].hints["feed_title"].startswith("Title 42 ends")  # the first occurrence wins


def test_atom_alternate_links_not_enclosures() -> None:
    links, problems = parse("atom10.xml")
    assert urls(links) == [
        "https://diario-frontera.example/migracion/2026/11/12/caravana-avanza-oaxaca",  # not the .jpg enclosure
        "https://diario-frontera.example/podcast/2026/11/campamentos-reynosa",  # not the .mp3 enclosure
        "https://diario-frontera.example/en/2026/11/10/matamoros-asylum-appointments",  # only an http(s) id
    ]
    assert problems == []  # the PDF-only entry is a document, not a broken entry


def test_atom_dates_raw_and_iso() -> None:
    links, _ = parse("atom10.xml")
    assert links[0].hints == {
        "via": "feed",
        "feed_title": "Caravana migrante avanza hacia Oaxaca pese a operativo del INM",
        "feed_published": "2026-11-12T08:15:00-06:00",
        "feed_published_iso": "2026-11-12T14:15:00+00:00",
        "feed_updated": "2026-11-12T15:40:00-06:00",
        "feed_updated_iso": "2026-11-12T21:40:00+00:00",
    }
    # only <updated>: no published hint is made up (feedparser's own get() would pass one off as the other)
    assert "feed_published" not in links[1].hints and links[1].hints["feed_updated"] == "2026-11-11T12:00:00Z"


def test_jsonfeed11_links() -> None:
    assert b'"https://jsonfeed.org/version/1.1"' in (FEEDS / "jsonfeed11.json").read_bytes()
    links, problems = parse("jsonfeed11.json", "https://lalinea.example/feed.json")
    assert urls(links) == [
        "https://lalinea.example/2026/11/12/deportaciones-vuelos-villahermosa",
        "https://lalinea.example/2026/11/11/cbp-one-citas-nuevas-reglas",  # relative, padded url
        "https://lalinea.example/2026/11/10/remain-in-mexico-returns",  # id is a URL
        "https://otro-medio.example/2026/11/10/gobernadores-fronterizos-reunion",  # external_url
    ]  # the audio-only item yields nothing, the duplicate is dropped
    assert problems == ["entry 5 has no link", "entry 6: TypeError: item is a JSON str, not an object"]


def test_jsonfeed_dates() -> None:
    links, _ = parse("jsonfeed11.json", "https://lalinea.example/feed.json")
    assert links[0].hints["feed_published_iso"] == "2026-11-12T16:00:00+00:00"
    assert links[0].hints["feed_updated_iso"] == "2026-11-12T19:20:00+00:00"
    assert links[0].hints["feed_title"] == "Aumentan los vuelos de deportación a Villahermosa"
    assert links[2].hints["feed_published"] == "yesterday" and "feed_published_iso" not in links[2].hints
    assert links[3].hints["feed_published_iso"] == "2026-11-10T17:45:00+00:00"  # no zone: taken as UTC


def test_jsonfeed10_and_json_that_is_not_a_feed() -> None:
    feed10 = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Border Beat",
        "items": [{"id": 7, "url": "https://borderbeat.example/2026/11/ice-detention-count", "title": "ICE count"}],
    }
    links, problems = discovery.parse_feed(json.dumps(feed10).encode(), "https://borderbeat.example/feed.json")
    assert urls(links) == ["https://borderbeat.example/2026/11/ice-detention-count"] and problems == []
    links, problems = discovery.parse_feed(b'{"results": []}', "https://x.example/api")
    assert links == [] and problems == ["feed refused: JSON but not a JSON Feed"]
    start = time.monotonic()
    links, problems = discovery.parse_feed(b'{"items": ' + b"[" * 200_000, "https://x.example/feed.json")
    assert links == [] and problems[0].startswith("feed refused") and time.monotonic() - start < 2


# -- broken entries ---------------------------------------------------------------------------------------------


def test_broken_item_in_the_middle_keeps_the_others() -> None:
    links, problems = parse("broken_item_middle.xml")
    assert urls(links) == [
        "https://valleyborder.example/2026/11/12/hidalgo-shelters-families/",
        "https://valleyborder.example/2026/11/10/brownsville-cargo-lanes/",
    ]
    assert problems[0].startswith("feed parsed leniently: SAXParseException")
    assert problems[1:] == ["entry 1 has no link"]


def test_malformed_links_are_entry_problems() -> None:
    body = b"""<rss version="2.0"><channel><title>t</title>
<item><title>ok</title><link>https://n.example/2026/11/asylum-office-backlog</link></item>
<item><title>control char</title><link>https://n.example/2026/11/bad&#1;link</link></item>
<item><title>space inside</title><link>https://n.example/2026/11/two words</link></item>
<item><title>bad IPv6 host</title><link>http://[2001:db8::1/2026/11/dos</link></item>
<item><title>ok too</title><link>https://n.example/2026/11/ports-of-entry-staffing</link></item>
</channel></rss>"""
    links, problems = discovery.parse_feed(body, "https://n.example/feed")
    assert urls(links) == [
        "https://n.example/2026/11/asylum-office-backlog",
        "https://n.example/2026/11/ports-of-entry-staffing",
    ]
    entry_problems = [p for p in problems if p.startswith("entry")]
    assert entry_problems[0].startswith("entry 1: ValueError: malformed link")
    assert entry_problems[1].startswith("entry 2: ValueError: malformed link")
    assert entry_problems[2] == "entry 3 has no link"  # feedparser already drops a URL it cannot split


def test_entry_problems_are_capped() -> None:
    items = "".join(f"<item><title>Sin enlace {i}</title></item>" for i in range(500))
    body = f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
    links, problems = discovery.parse_feed(body, "https://n.example/feed")
    assert links == [] and len(problems) == 21 and problems[-1] == "and 480 more entry problems"


# -- enclosures, dates, guids -------------------------------------------------------------------------------------


def test_enclosure_only_items_yield_nothing() -> None:
    links, problems = parse("enclosure_only.xml")
    # episodes with only an enclosure, a guid equal to the enclosure, a non-permalink guid or a link that is the
    # enclosure itself are skipped silently; the item with a link and a PDF enclosure yields its link
    assert urls(links) == ["https://borderlandsradio.example/2026/11/gao-surveillance-towers-analysis/"]
    assert problems == []


def test_odd_dates_keep_raw_and_add_iso_only_when_parsed() -> None:
    links, problems = parse("odd_dates.xml")
    hints = {link.url.rsplit("/", 2)[-2]: link.hints for link in links}
    assert problems == [] and len(links) == 5
    assert not any(k.startswith("feed_published") for k in hints["bota-wait-times"])
    assert hints["juarez-shelters-venezuelans"]["feed_published"] == "yesterday"
    assert "feed_published_iso" not in hints["juarez-shelters-venezuelans"]
    assert hints["fort-bliss-dhs-contract"]["feed_published"] == "Tue, 10 Nov 2026 10:00:00 CST"
    assert hints["fort-bliss-dhs-contract"]["feed_published_iso"] == "2026-11-10T16:00:00+00:00"
    assert hints["senado-reforma-ley-migracion"]["feed_published_iso"] == "2026-11-09T18:45:00+00:00"
    assert hints["sb4-fifth-circuit-hearing"]["feed_published_iso"] == "2026-11-08T07:30:00+00:00"
    assert hints["sb4-fifth-circuit-hearing"]["feed_updated_iso"] == "2026-11-08T08:00:00+00:00"  # dc:date


def test_guid_only_items_follow_only_http_permalinks() -> None:
    links, problems = parse("guid_only.xml")
    assert urls(links) == [
        "https://sonorafrontera.example/2026/11/12/nogales-traficantes-deconcini",  # isPermaLink absent
        "https://sonorafrontera.example/2026/11/11/arizona-ranchers-wall-lawsuit",  # "true", padded
        "https://sonorafrontera.example/2026/11/08/altar-punto-de-partida",  # <link> wins over a non-permalink guid
    ]
    # isPermaLink="false", "184467", a relative path and a urn: are ids, not URLs
    assert problems == [f"entry {i} has no link" for i in (2, 3, 4, 5)]


# -- hostile input ------------------------------------------------------------------------------------------------


def test_xxe_file_entity_leaks_nothing(secret_file: Path) -> None:
    body = (FEEDS / "xxe_file.xml").read_bytes().replace(b"@SECRET_PATH@", str(secret_file).encode())
    links, problems = discovery.parse_feed(body, "https://evil-feed.example/feed")
    assert SECRET not in everything(links, problems)
    assert "https://evil-feed.example/2026/11/lukeville-fentanyl-seizure" in urls(links)  # the feed is still used
    assert problems[0] == "DOCTYPE with entity declarations removed (XXE / entity expansion guard)"


def test_feedparser_alone_does_not_resolve_external_entities(secret_file: Path) -> None:
    """Why the guard is belt and braces for XXE: feedparser 6 strips entity declarations it considers unsafe and
    its expat pass has external general entities off, so even unguarded the secret is not read."""
    body = (FEEDS / "xxe_file.xml").read_bytes().replace(b"@SECRET_PATH@", str(secret_file).encode())
    result = feedparser.parse(io.BytesIO(body), response_headers={"content-type": "application/xml"})
    assert len(result.entries) == 2 and SECRET not in repr(result)


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/leak">]>',
        '<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{secret}">\n]>',
        '<!DOCTYPE rss [<!ENTITY % dtd SYSTEM "http://127.0.0.1:{port}/evil.dtd"> %dtd;]>',
        '<!DOCTYPE rss SYSTEM "http://127.0.0.1:{port}/external.dtd">',
        "<!DOCTYPE rss [\n<!ENTITY xxe PUBLIC \"-//x//EN\" 'file://{secret}'>\n]>",
    ],
    ids=["http-entity", "file-entity-multiline", "parameter-entity", "external-dtd", "public-id"],
)
def test_xxe_variants_fetch_and_leak_nothing(doctype: str, secret_file: Path, listener) -> None:
    port, sock = listener
    head = doctype.format(port=port, secret=secret_file)
    body = f"""<?xml version="1.0"?>\n{head}\n<rss version="2.0"><channel><title>t</title>
<item><title>Tunnel &xxe;</title><link>https://evil-feed.example/2026/11/tunnel</link><description>&xxe;</description></item>
</channel></rss>""".replace("&xxe;", "&xxe;" if "xxe" in head else "")
    links, problems = discovery.parse_feed(body.encode(), "https://evil-feed.example/feed")
    assert not connected(sock)
    assert SECRET not in everything(links, problems)
    assert urls(links) == ["https://evil-feed.example/2026/11/tunnel"]


def test_billion_laughs_is_fast_and_bounded() -> None:
    start = time.monotonic()
    links, problems = parse("billion_laughs.xml")
    assert time.monotonic() - start < 2
    assert len(everything(links, problems)) < 5_000 and "lollollol" not in everything(links, problems)
    assert "https://lol-feed.example/2026/11/arizona-desert-deaths" in urls(links)
    assert problems[0].startswith("DOCTYPE with entity declarations removed")


def flat_entity_bomb(entity_kb: int, uses: int) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "{"A" * 1024 * entity_kb}">\n]>\n'
        f'<rss version="2.0"><channel><title>t</title><item><title>Wall &big;</title>'
        f"<link>https://n.example/2026/11/wall</link><description>{'&big;' * uses}</description></item></channel></rss>"
    ).encode()


def test_feedparser_alone_expands_a_flat_entity_in_its_loose_parser() -> None:
    """Why the DOCTYPE is cut out before parsing: expat stops at its amplification limit, but feedparser then
    reparses loosely and expands the 'safe' flat entity it kept: 100 kB used 100 times is 10 MB of summary."""
    result = feedparser.parse(io.BytesIO(flat_entity_bomb(100, 100)), response_headers={"content-type": "text/xml"})
    assert "amplification" in str(result.bozo_exception)
    assert len(result.entries[0].summary) >= 100 * 100 * 1024


def test_flat_entity_bomb_is_fast_and_bounded() -> None:
    start = time.monotonic()
    links, problems = discovery.parse_feed(flat_entity_bomb(200, 2000), "https://n.example/feed")  # 400 MB unguarded
    assert time.monotonic() - start < 2
    assert urls(links) == ["https://n.example/2026/11/wall"] and len(everything(links, problems)) < 5_000


@pytest.mark.parametrize(
    "body",
    [
        flat_entity_bomb(1, 10).decode().encode("utf-16"),  # markup the byte screen cannot cut cleanly: refused
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "x"',  # a DOCTYPE that never closes
        b'<!DOCTYPE rss [<!ENTITY a "x">]>\n<!DOCTYPE rss [\n<!ENTITY big "yyy">\n]>\n<rss version="2.0"/>',
    ],
    ids=["utf-16", "unterminated", "second-doctype"],
)
def test_entity_declarations_that_cannot_be_cut_out_refuse_the_feed(body: bytes) -> None:
    links, problems = discovery.parse_feed(body, "https://n.example/feed")
    assert links == [] and len(problems) == 1 and problems[0].startswith("feed refused: ")


def test_feed_over_the_size_cap_is_refused() -> None:
    item = b"<item><title>Border</title><link>https://n.example/2026/11/a</link></item>"
    body = b'<rss version="2.0"><channel>' + b" " * discovery.MAX_FEED_BYTES + item + b"</channel></rss>"
    assert discovery.parse_feed(body, "https://n.example/feed") == (
        [],
        [f"feed refused: {len(body)} bytes is over {discovery.MAX_FEED_BYTES}"],
    )
    links, problems = discovery.parse_feed(gzip.compress(body), "https://n.example/feed.gz")  # small when zipped
    assert links == [] and problems == [f"feed refused: {len(body)} bytes unzipped is over {discovery.MAX_FEED_BYTES}"]


def test_gzip_feed_and_gzip_bomb() -> None:
    links, problems = discovery.parse_feed(gzip.compress((FEEDS / "rss091.xml").read_bytes()), "https://x.example/f")
    assert len(links) == 3 and problems == []
    bomb = gzip.compress(b"\0" * (60 * 1024 * 1024))
    assert discovery.parse_feed(bomb, "https://x.example/f")[1] == [
        "feed refused: gzip body expands beyond 52428800 bytes"
    ]
    links, problems = discovery.parse_feed(b"\x1f\x8b\x08garbage", "https://x.example/f")
    assert links == [] and problems[0].startswith("feed refused: ")


def test_body_naming_a_local_file_is_not_read(tmp_path: Path) -> None:
    """feedparser.parse(bytes) opens the bytes as a file path when one exists; parse_feed must hand it a stream."""
    local = tmp_path / "local-feed.xml"
    local.write_bytes((FEEDS / "rss091.xml").read_bytes())
    assert len(feedparser.parse(str(local).encode()).entries) == 3  # the trap, shown on feedparser itself
    links, problems = discovery.parse_feed(str(local).encode(), "https://evil.example/feed")
    assert links == [] and problems and "fronteranorte" not in everything(links, problems)


def test_undeclared_encoding_is_read_as_utf8() -> None:
    body = '<rss version="2.0"><channel><item><title>Migración en Reynosa</title><link>https://n.example/2026/11/reynosa</link></item></channel></rss>'
    links, problems = discovery.parse_feed(body.encode(), "https://n.example/feed")
    assert links[0].hints["feed_title"] == "Migración en Reynosa" and problems == []
    links, _ = discovery.parse_feed(
        body.replace("<rss", '<?xml version="1.0" encoding="utf-16"?><rss').encode("utf-16"), "https://n.example/f"
    )
    assert links[0].hints["feed_title"] == "Migración en Reynosa"


@pytest.mark.parametrize("name", sorted(p.name for p in FEEDS.iterdir()))
def test_every_fixture_yields_unique_http_links_with_feed_hints(name: str, secret_file: Path) -> None:
    body = (FEEDS / name).read_bytes().replace(b"@SECRET_PATH@", str(secret_file).encode())
    links, problems = discovery.parse_feed(body, f"https://feeds.example/{name}")
    assert links, name
    assert all(link.url.startswith(("http://", "https://")) and "#" not in link.url for link in links)
    assert len(set(urls(links))) == len(links)
    assert all(link.hints["via"] == "feed" and "feed_title" in link.hints for link in links)
    assert all(isinstance(p, str) for p in problems)
