"""Discovery parsers on hostile and odd input: feeds, sitemaps (XXE, gzip bombs), section pages."""

from __future__ import annotations

import gzip

import pytest

from crawlers import discovery

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title>
<item><title><![CDATA[Asylum rule  changes]]></title><link>
   /2026/11/10/asylum-rule-changes/  </link><pubDate>Tue, 10 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>Only a guid</title><guid isPermaLink="true">https://news.example/2026/11/09/guid-only-story/</guid></item>
<item><title>No link at all</title><description>nothing</description></item>
<item><title>Report</title><link>https://news.example/files/report.pdf</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title>
<entry><title>Caravana migrante avanza</title><link rel="alternate" href="https://diario.example/noticias/2026/11/caravana.html"/>
<id>tag:diario.example,2026:1</id><updated>2026-11-12T10:00:00Z</updated><published>2026-11-11T10:00:00Z</published></entry>
</feed>"""


def test_rss_relative_links_cdata_guid_and_broken_entries() -> None:
    links, problems = discovery.parse_feed(RSS, "https://news.example/feed.rss")
    urls = [link.url for link in links]
    assert urls == [
        "https://news.example/2026/11/10/asylum-rule-changes/",
        "https://news.example/2026/11/09/guid-only-story/",
    ]
    assert links[0].hints["feed_title"] == "Asylum rule  changes"
    assert "feed_published" in links[0].hints
    assert problems == ["entry 2 has no link"]


def test_atom_feed() -> None:
    links, problems = discovery.parse_feed(ATOM, "https://diario.example/rss/frontera.atom")
    assert [link.url for link in links] == ["https://diario.example/noticias/2026/11/caravana.html"]
    assert problems == []


def test_garbage_feed_is_a_problem_not_a_crash() -> None:
    links, problems = discovery.parse_feed(b"<html><body>not a feed", "https://x.example/feed")
    assert links == []


SITEMAP_INDEX = b"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://n.example/sitemaps/news.xml</loc></sitemap>
<sitemap><loc>/sitemaps/pages.xml.gz</loc></sitemap></sitemapindex>"""

NEWS_SITEMAP = b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://n.example/2026/11/12/port-of-entry-closed/</loc><lastmod>2026-11-12T10:00:00Z</lastmod>
<news:news><news:publication><news:name>N</news:name><news:language>en</news:language></news:publication>
<news:publication_date>2026-11-12T08:30:00-07:00</news:publication_date><news:title>Port of entry closed</news:title></news:news></url>
</urlset>"""


def test_sitemap_index_and_news_fields() -> None:
    idx = discovery.parse_sitemap(SITEMAP_INDEX, "https://n.example/sitemap.xml")
    assert idx.child_sitemaps == ["https://n.example/sitemaps/news.xml", "https://n.example/sitemaps/pages.xml.gz"]
    news = discovery.parse_sitemap(gzip.compress(NEWS_SITEMAP), "https://n.example/sitemaps/news.xml.gz")
    (link,) = news.links
    assert link.url == "https://n.example/2026/11/12/port-of-entry-closed/"
    assert link.hints["news_title"] == "Port of entry closed"
    assert link.hints["news_published"] == "2026-11-12T08:30:00-07:00"
    assert link.hints["lastmod"] == "2026-11-12T10:00:00Z"


def test_sitemap_xxe_does_not_read_local_files(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    evil = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file://{secret}">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://n.example/a-b-c-d/&xxe;</loc></url></urlset>"""
    sm = discovery.parse_sitemap(evil.encode(), "https://n.example/sitemap.xml")
    assert all("TOP-SECRET" not in link.url for link in sm.links)


def test_sitemap_billion_laughs_is_not_expanded() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://n.example/x/&lol3;</loc></url></urlset>"""
    sm = discovery.parse_sitemap(bomb, "https://n.example/sitemap.xml")
    assert all(len(link.url) < 200 for link in sm.links)


def test_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (discovery.MAX_DECOMPRESSED + 10))
    with pytest.raises(ValueError, match="expands beyond"):
        discovery.parse_sitemap(bomb, "https://n.example/sitemap.xml.gz")


SECTION = b"""<html><body><nav><a href="/">Home</a><a href="/about/">About</a><a href="/tag/border/">Tag</a></nav>
<main>
<a href="/2026/11/12/asylum-seekers-wait-at-bridge/">Asylum seekers wait</a>
<a href="/news/border/buoys-removed-from-river-12345.html?ref=home">Buoys removed</a>
<a href="https://other.example/2026/11/12/some-other-site-story/">Elsewhere</a>
<a href="/files/report.pdf">PDF</a>
<a href="#top">Top</a><a href="mailto:x@y">Mail</a>
</main><a href="/immigration/page/2/" rel="next">Next page</a></body></html>"""


def test_section_links_same_site_articles_and_next_page() -> None:
    links, next_pages = discovery.parse_section(SECTION, "https://n.example/immigration/")
    assert [link.url for link in links] == [
        "https://n.example/2026/11/12/asylum-seekers-wait-at-bridge/",
        "https://n.example/news/border/buoys-removed-from-river-12345.html?ref=home",
    ]
    assert next_pages == ["https://n.example/immigration/page/2/"]


def test_robots_sitemap_lines() -> None:
    body = b"User-agent: *\nDisallow: /members/\nSitemap: https://n.example/sitemap.xml\nsitemap: /s2.xml\n"
    assert discovery.sitemaps_from_robots(body, "https://n.example/robots.txt") == [
        "https://n.example/sitemap.xml",
        "https://n.example/s2.xml",
    ]
