"""Finding article URLs in feeds, sitemaps and section pages. Pure functions of bytes, no network."""

from __future__ import annotations

import io
import json
import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
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


# a feed lists recent items; anything bigger is not a feed worth parsing
MAX_FEED_BYTES = 5 * 1024 * 1024  # real feeds are well under 1 MB; feedparser needs ~30 µs an element
# feedparser resolves relative links against this stand-in host instead of the feed's, so they can be told apart
# afterwards: a guid like "12345" would otherwise come back looking like a URL on the feed's own site
_STAND_IN_HOST = "relative.borderwatch.invalid"
_ABSOLUTE_HTTP = re.compile(r"^https?://", re.I)
_MEDIA_TYPE = re.compile(r"^(audio|video|image)/|^application/pdf", re.I)
_BAD_URL_CHAR = re.compile(r"[\x00-\x20\x7f]")
_MAX_ENTRY_PROBLEMS = 20
# DTD screening works on bytes, before feedparser decodes anything
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_FIRST_ELEMENT = re.compile(rb"<\w")
_DTD_SPECIAL = re.compile(rb"[\"'\[\]>]|<!--|<\?")
_DTD_CLOSER = {b'"': b'"', b"'": b"'", b"<!--": b"-->", b"<?": b"?>"}


def _doctype_end(data: bytes, start: int) -> int | None:
    """Index just past the DOCTYPE at `start`, None if it never closes. Literals, comments and PIs are skipped
    with one find each, so a hostile body cannot make this quadratic."""
    depth, pos = 0, start + 2
    while (m := _DTD_SPECIAL.search(data, pos)) is not None:
        token = m.group()
        if token in _DTD_CLOSER:
            close = data.find(_DTD_CLOSER[token], m.end())
            if close < 0:
                return None
            pos = close + len(_DTD_CLOSER[token])
            continue
        pos = m.end()
        if token == b"[":
            depth += 1
        elif token == b"]":
            depth = max(depth - 1, 0)
        elif depth == 0:
            return pos
    return None


def _defuse_dtd(data: bytes) -> tuple[bytes, str | None]:
    """The body without a DOCTYPE that declares entities, and a problem when one was cut out.

    feedparser's strict pass (expat) fetches no external entity and stops nested entity bombs, but after any error
    it reparses with its loose parser, which expands the flat internal entities it kept: one 200 kB entity used
    2,000 times is 400 MB. Real feeds need no entity declarations, so they go before parsing.
    Raises ValueError when they cannot be cut out cleanly; the feed is then refused."""
    wide = b"\x00" in data[:4] or data[:2] in (b"\xff\xfe", b"\xfe\xff")
    view = data.replace(b"\x00", b"") if wide else data  # UTF-16/32 markup read as ASCII, for screening only
    doctype = _DOCTYPE.search(view)
    if doctype is None:
        return data, None  # without a DOCTYPE neither parser honours entity declarations
    start, end = doctype.start(), _doctype_end(view, doctype.start())
    if not _ENTITY_DECL.search(view, start, len(view) if end is None else end):
        return data, None
    if end is None or wide:
        raise ValueError("DOCTYPE with entity declarations that cannot be removed safely")
    data = data[:start] + data[end:]
    first = _FIRST_ELEMENT.search(data)
    if _ENTITY_DECL.search(data, 0, first.start() if first else len(data)):
        raise ValueError("entity declarations outside the first DOCTYPE")
    return data, "DOCTYPE with entity declarations removed (XXE / entity expansion guard)"


def _iso_utc(value: Any) -> str | None:
    """ISO 8601 UTC of a date feedparser parsed (a UTC struct_time) or of a JSON Feed date string."""

    try:
        if isinstance(value, tuple):
            dt = datetime(*value[:6], tzinfo=UTC)
        elif isinstance(value, str):
            try:
                dt = datetime.fromisoformat(value)
            except ValueError:
                dt = parsedate_to_datetime(value)  # some JSON feeds carry RFC 822 dates
        else:
            return None
    except (ValueError, TypeError, OverflowError):
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


@dataclass
class _FeedItem:
    """One entry of any feed format: the link to follow ("" if none) and what the feed says about it."""

    link: str
    title: str | None = None
    dates: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # published/updated: (raw, ISO UTC)
    enclosures: set[str] = field(default_factory=set)


def _feedparser_item(entry: Any, netloc: str) -> _FeedItem:
    def restore(url: str) -> tuple[str, bool]:
        """The URL with the feed's own host back in place of the stand-in, and whether it was relative."""
        parts = urlsplit(url.strip())
        if parts.hostname != _STAND_IN_HOST:
            return url.strip(), False
        return parts._replace(netloc=netloc).geturl(), True

    raw_link, ident, guid_is_link = entry.get("link") or "", entry.get("id") or "", entry.get("guidislink")
    if not raw_link and guid_is_link is None:  # RSS 1.0: rdf:about names the item
        raw_link = ident
    link, relative = restore(raw_link)
    # feedparser makes a permalink guid (or Atom id) the link; it counts only as an absolute http(s) URL
    if guid_is_link is not False and raw_link == ident and (relative or not _ABSOLUTE_HTTP.match(link)):
        link = ""
    enclosures = {
        restore(ln["href"])[0]
        for ln in entry.get("links") or []
        if ln.get("href") and (ln.get("rel") == "enclosure" or _MEDIA_TYPE.match(ln.get("type") or ""))
    }
    dates = {}
    for key in ("published", "updated"):
        raw = dict.get(entry, key)  # not entry.get: feedparser passes `published` off as `updated`
        if raw:
            dates[key] = (raw, _iso_utc(dict.get(entry, f"{key}_parsed")))
    return _FeedItem(link, (entry.get("title") or "").strip() or None, dates, enclosures)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _json_feed_item(item: Any) -> _FeedItem:
    if not isinstance(item, dict):
        raise TypeError(f"item is a JSON {type(item).__name__}, not an object")
    link = _text(item.get("url")) or _text(item.get("external_url"))
    if not link and _ABSOLUTE_HTTP.match(_text(item.get("id"))):
        link = _text(item.get("id"))  # an id that is a URL is the permalink
    dates = {}
    for key, name in (("published", "date_published"), ("updated", "date_modified")):
        if raw := _text(item.get(name)):
            dates[key] = (raw, _iso_utc(raw))
    attachments = item.get("attachments") if isinstance(item.get("attachments"), list) else []
    enclosures = {_text(a.get("url")) for a in attachments if isinstance(a, dict) and _text(a.get("url"))}
    return _FeedItem(link, _text(item.get("title")) or None, dates, enclosures)


def _feed_entries(data: bytes, base_url: str, problems: list[str]) -> tuple[list[Any], bool]:
    """The raw entries of a JSON Feed (True) or of a feed feedparser reads (False); each is turned into a _FeedItem
    by the caller, so a broken one costs only itself. Raises ValueError for an unusable feed."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":  # feedparser 6.0 reads no JSON Feed
        try:
            doc = json.loads(data)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
        if not isinstance(doc, dict) or not _text(doc.get("version")).startswith("https://jsonfeed.org/version/"):
            raise ValueError("JSON but not a JSON Feed")
        if not isinstance(doc.get("items"), list):
            raise ValueError("JSON Feed without an items list")
        return doc["items"], True

    data, defused = _defuse_dtd(data)
    if defused:
        problems.append(defused)
    parts = urlsplit(base_url)
    stand_in = parts._replace(netloc=_STAND_IN_HOST).geturl() if parts.scheme in ("http", "https") else base_url
    # a BytesIO, never bytes: feedparser.parse(bytes) reads a local file if the body names one; the content type
    # makes it read an undeclared encoding as UTF-8 (as XML says) instead of ISO-8859-1
    parsed = feedparser.parse(
        io.BytesIO(data), response_headers={"content-location": stand_in, "content-type": "application/xml"}
    )
    if parsed.bozo:
        exc = parsed.get("bozo_exception")
        if not parsed.entries:
            raise ValueError(f"unparseable feed: {type(exc).__name__}: {exc}")
        problems.append(f"feed parsed leniently: {type(exc).__name__}: {exc}")
    elif not parsed.entries and not parsed.get("version"):
        problems.append("not a feed: no RSS, Atom or JSON Feed root")
    return parsed.entries, False


def parse_feed(body: bytes, base_url: str) -> tuple[list[Link], list[str]]:
    """Article links of an RSS 0.9x/1.0/2.0, Atom or JSON Feed, and a list of problems (a broken entry is
    skipped and noted; the rest of the feed is still used)."""
    problems: list[str] = []
    try:
        if len(body) > MAX_FEED_BYTES:
            raise ValueError(f"{len(body)} bytes is over {MAX_FEED_BYTES}")
        data = _gunzip(body)
        if len(data) > MAX_FEED_BYTES:
            raise ValueError(f"{len(data)} bytes unzipped is over {MAX_FEED_BYTES}")
        entries, is_json = _feed_entries(data, base_url, problems)
    except (ValueError, zlib.error) as exc:
        return [], [*problems, f"feed refused: {exc}"]
    links: list[Link] = []
    seen: set[str] = set()
    entry_problems: list[str] = []
    for i, entry in enumerate(entries):
        try:
            item = _json_feed_item(entry) if is_json else _feedparser_item(entry, urlsplit(base_url).netloc)
            if not item.link:
                if not item.enclosures:  # an item with only an enclosure is a podcast or document, not broken
                    entry_problems.append(f"entry {i} has no link")
                continue
            url = urljoin(base_url, item.link).split("#", 1)[0]
            if _BAD_URL_CHAR.search(url):
                raise ValueError(f"malformed link {item.link[:100]!r}")
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                entry_problems.append(f"entry {i}: not an http(s) link, skipped: {item.link[:100]!r}")
                continue
            enclosures = {urljoin(base_url, e).split("#", 1)[0] for e in item.enclosures}
        except Exception as exc:  # hostile input: one broken entry must not cost the rest of the feed
            entry_problems.append(f"entry {i}: {type(exc).__name__}: {exc}")
            continue
        if url in seen or url in enclosures or NOT_ARTICLE_EXT.search(parts.path):
            continue
        seen.add(url)
        hints: dict[str, Any] = {"via": "feed", "feed_title": item.title}
        for key, (raw, iso) in item.dates.items():
            hints[f"feed_{key}"] = raw
            if iso:
                hints[f"feed_{key}_iso"] = iso
        links.append(Link(url, hints))
    problems += entry_problems[:_MAX_ENTRY_PROBLEMS]
    if len(entry_problems) > _MAX_ENTRY_PROBLEMS:
        problems.append(f"and {len(entry_problems) - _MAX_ENTRY_PROBLEMS} more entry problems")
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
