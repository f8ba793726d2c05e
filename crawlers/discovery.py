"""Finding article URLs in feeds, sitemaps and section pages. Pure functions of bytes, no network."""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml import etree, html

log = logging.getLogger(__name__)

# a gzip sitemap may expand far beyond its download size; 50 MiB is the sitemap protocol's own limit
MAX_DECOMPRESSED = 50 * 1024 * 1024

NOT_ARTICLE_EXT = re.compile(
    r"\.(pdf|jpe?g|png|gif|webp|svg|mp3|mp4|m4a|mov|zip|gz|docx?|xlsx?|pptx?|css|js|xml|rss|atom|json)$", re.I
)


@dataclass
class Link:
    url: str
    hints: dict[str, Any] = field(default_factory=dict)


def _gunzip(body: bytes) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = d.decompress(body, MAX_DECOMPRESSED)
    if d.unconsumed_tail:
        raise ValueError(f"gzip body expands beyond {MAX_DECOMPRESSED} bytes")
    return out


def parse_feed(body: bytes, base_url: str) -> tuple[list[Link], list[str]]:
    """Article links of an RSS/Atom feed, and a list of problems (broken entries are skipped, not fatal)."""
    problems: list[str] = []
    parsed = feedparser.parse(_gunzip(body), response_headers={"content-location": base_url})
    if parsed.bozo and not parsed.entries:
        problems.append(f"unparseable feed: {parsed.get('bozo_exception')!r}")
        return [], problems
    links: list[Link] = []
    for i, entry in enumerate(parsed.entries):
        href = (entry.get("link") or "").strip()
        if not href and str(entry.get("id", "")).startswith(("http://", "https://")):
            href = entry["id"].strip()  # items with only a guid that is a permalink
        if not href:
            problems.append(f"entry {i} has no link")
            continue
        url = urljoin(base_url, href)
        if NOT_ARTICLE_EXT.search(urlsplit(url).path):
            continue
        hints = {"via": "feed", "feed_title": (entry.get("title") or "").strip() or None}
        for key in ("published", "updated"):
            if entry.get(key):
                hints[f"feed_{key}"] = entry[key]
        links.append(Link(url, hints))
    return links, problems


def _safe_xml_parser() -> etree.XMLParser:
    # entities are never resolved and nothing is fetched: a sitemap must not read local files (XXE)
    return etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False, load_dtd=False)


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


@dataclass
class Sitemap:
    child_sitemaps: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def parse_sitemap(body: bytes, base_url: str) -> Sitemap:
    """A sitemap index's child sitemaps or a urlset's URLs with lastmod and Google News fields."""
    root = etree.fromstring(_gunzip(body), parser=_safe_xml_parser())
    out = Sitemap()
    if root is None:
        raise ValueError("empty or unparseable sitemap")
    kind = _local(root.tag)
    for node in root:
        if _local(node.tag) not in ("sitemap", "url"):
            continue
        fields: dict[str, str] = {}
        for child in node.iter():
            name = _local(child.tag)
            if name in ("loc", "lastmod", "publication_date", "title") and child.text:
                fields[name] = child.text.strip()
        loc = fields.get("loc")
        if not loc:
            continue
        url = urljoin(base_url, loc)
        if kind == "sitemapindex":
            out.child_sitemaps.append(url)
        else:
            hints: dict[str, Any] = {"via": "sitemap"}
            if "lastmod" in fields:
                hints["lastmod"] = fields["lastmod"]
            if "publication_date" in fields:
                hints["news_published"] = fields["publication_date"]
            if "title" in fields:
                hints["news_title"] = fields["title"]
            out.links.append(Link(url, hints))
    return out


# paths that look like stories: a date, a long slug, or a numeric id
_DATE_PATH = re.compile(r"/(19|20)\d{2}/\d{1,2}/")
_SLUG = re.compile(r"/[^/]*[a-z0-9]+(-[a-z0-9]+){3,}[^/]*/?$", re.I)
_NUMERIC_ID = re.compile(r"\d{5,}")
_NON_ARTICLE_PATH = re.compile(
    r"/(tag|tags|category|categories|author|authors|autor|page|pagina|search|buscar|login|subscribe|"
    r"suscripcion|newsletter|about|contact|contacto|privacy|privacidad|terms|feed|rss)(/|$)",
    re.I,
)
_NEXT_TEXT = re.compile(r"^\s*(next|next page|older|older posts|siguiente|página siguiente|más|»|›|>)\s*$", re.I)


def looks_like_article(url: str, pattern: re.Pattern[str] | None = None) -> bool:
    """Article links of a section page: the source's pattern when it has one, otherwise URL heuristics."""
    if pattern is not None:
        return bool(pattern.search(url))
    path = urlsplit(url).path
    if NOT_ARTICLE_EXT.search(path) or _NON_ARTICLE_PATH.search(path):
        return False
    return bool(_DATE_PATH.search(path) or _SLUG.search(path) or _NUMERIC_ID.search(path))


def parse_section(
    body: bytes, page_url: str, encoding: str | None = None, pattern: re.Pattern[str] | None = None
) -> tuple[list[Link], list[str]]:
    """Article links on a listing page (same site only) and the URLs of its next pages."""
    try:
        doc = html.document_fromstring(body, parser=html.HTMLParser(encoding=encoding, recover=True))
    except (etree.ParserError, ValueError) as exc:
        raise ValueError(f"unparseable section page: {exc}") from exc
    host = urlsplit(page_url).hostname
    articles: list[Link] = []
    next_pages: list[str] = []
    seen: set[str] = set()
    for a in doc.iter("a", "link"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        url = urljoin(page_url, href).split("#", 1)[0]
        rel = (a.get("rel") or "").lower().split()
        if "next" in rel or (a.tag == "a" and _NEXT_TEXT.match(a.text_content() or "")):
            if urlsplit(url).hostname == host and url not in next_pages:
                next_pages.append(url)
            continue
        if a.tag != "a" or url in seen:
            continue
        seen.add(url)
        # a section page vouches for its own site's stories only; other sites are reached via their sources
        if urlsplit(url).hostname == host and looks_like_article(url, pattern):
            title = " ".join((a.text_content() or "").split()) or None
            articles.append(Link(url, {"via": "section", "link_text": title}))
    return articles, next_pages


def sitemaps_from_robots(body: bytes, base_url: str) -> list[str]:
    """`Sitemap:` lines of a robots.txt."""
    out = []
    for line in body.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            out.append(urljoin(base_url, value.strip()))
    return out
