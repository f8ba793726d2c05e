"""The news spider: discovers article URLs from each source's feeds, sitemaps, section pages (and robots.txt
`Sitemap:` lines, or the GDELT DOC API for a `gdelt` source) and fetches them; every response and every
failure becomes a FetchItem for the raw archive.

Incremental: the plan carries what earlier runs learned of each URL (url_state). A known article is not
downloaded again unless discovery says it changed (a newer sitemap lastmod or feed date), and then with a
conditional request; feeds, sitemaps and section pages are always fetched conditionally.

Every URL is requested once per run: the spider claims its URL key in the frontier before requesting it
(crawlers/frontier.py: a set in this process, or one set in Redis shared by every process of the run).
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Response
from scrapy.http.headers import Headers
from twisted.python.failure import Failure

from crawlers import discovery, gdelt
from crawlers.frontier import Frontier, LocalFrontier, frontier_of
from crawlers.items import FetchItem
from crawlers.middlewares import BlockedAddress
from storage.archive import FetchRecord, discovery_date, parse_date
from storage.urls import url_key

MAX_SITEMAP_DEPTH = 3
HTML_TYPES = ("text/html", "application/xhtml+xml")
# a known URL whose last fetch ended like this is not fetched again unless discovery says it changed
SETTLED_STATUSES = {200, 304, 404, 410}
SETTLED_OUTCOMES = {"robots", "blocked", "skipped", "off_topic"}
TITLE_HINTS = ("feed_title", "news_title", "link_text")
_HOST_PREFIX = re.compile(r"^(www|www\d|feeds?|rss|m|amp|mobile)\.")


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _fold(text: str) -> str:
    """Lowercase without accents, as the topic file's title screen is written."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def screened_out(title: str, screen: dict[str, list[str]]) -> str | None:
    """The skip phrase that marks `title` as clearly off topic, or None. Strong evidence only: a skip phrase,
    and no keep word outside it ("Border Patrol's border collies" is fetched)."""
    folded = _fold(title)
    hits = [phrase for phrase in screen.get("skip", []) if phrase in folded]
    if not hits:
        return None
    for phrase in hits:
        folded = folded.replace(phrase, " ")
    if any(re.search(r"(?<![a-z0-9])" + re.escape(word), folded) for word in screen.get("keep", [])):
        return None
    return hits[0]


def site_key(url: str) -> str:
    """What "the same site" means for offsite checks: the host without www./feeds./m. prefixes; for an IP
    address the host and port (the sample sites share 127.0.0.1)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        return parts.netloc.lower()
    except ValueError:
        return _HOST_PREFIX.sub("", host)


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, plan: dict[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.plan = plan
        crawl = plan.get("crawl", {})
        self.max_pages = int(crawl.get("max_pages_per_source", 500))
        self.max_section_pages = int(crawl.get("max_section_pages", 3))
        max_age = float(crawl.get("max_age_days", 0) or 0)
        self.oldest = datetime.now(UTC) - timedelta(days=max_age) if max_age else None
        self.sources = {s["key"]: s for s in plan["sources"]}
        self.patterns = {
            key: re.compile(s["article_pattern"]) if s.get("article_pattern") else None
            for key, s in self.sources.items()
        }
        self.domains = {
            key: {site_key(u) for kind in ("feeds", "sitemaps", "sections") for u in s.get(kind, [])}
            | {_HOST_PREFIX.sub("", d.lower()) for d in s.get("domains", [])}
            for key, s in self.sources.items()
        }
        self.state: dict[str, dict[str, Any]] = {}
        if plan.get("state_file"):
            with open(plan["state_file"], encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    self.state[row["key"]] = row
        self.title_screen: dict[str, list[str]] = plan.get("title_screen") or {}
        self.frontier: Frontier = LocalFrontier()  # the crawl's own (maybe shared) one, set in from_crawler
        self.worker: str | None = None
        self.counts: dict[str, Counter[str]] = {key: Counter() for key in self.sources}

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        plan_path = kwargs.pop("plan_path")
        with open(plan_path, encoding="utf-8") as fh:
            plan = json.load(fh)
        spider = cls(plan, *args, **kwargs)
        spider._set_crawler(crawler)
        spider.frontier = frontier_of(crawler)
        spider.worker = crawler.settings.get("CRAWL_WORKER")
        crawler.signals.connect(spider.on_headers, signal=signals.headers_received)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for key, source in self.sources.items():
            if source.get("type") == "gdelt":
                url = gdelt.build_query_url(
                    source["query"],
                    api=source.get("gdelt_api") or gdelt.DEFAULT_API,
                    timespan=source.get("timespan") or "1d",
                    max_records=int(source.get("max_records") or 250),
                )
                for claimed in self._claimed([url]):
                    yield self._request(claimed, key, "gdelt", self.parse_gdelt, conditional=False)
                continue
            # in a shared crawl every process starts here: whichever claims a feed first fetches it
            for url in self._claimed(source.get("feeds", [])):
                yield self._request(url, key, "feed", self.parse_feed)
            for url in self._claimed(source.get("sitemaps", [])):
                yield self._request(url, key, "sitemap", self.parse_sitemap, depth=0)
            for url in self._claimed(source.get("sections", [])):
                yield self._request(url, key, "section", self.parse_section, depth=0)
            if source.get("robots_sitemaps"):
                roots = {
                    f"{p.scheme}://{p.netloc}"
                    for p in map(urlsplit, (*source.get("feeds", []), *source.get("sections", [])))
                }
                for url in self._claimed(f"{root}/robots.txt" for root in sorted(roots)):
                    yield self._request(url, key, "robots", self.parse_robots, conditional=False)
        # last run's transient failures are tried again, whether or not discovery lists them today
        retry = [row for row in self.plan.get("retry", []) if row["source"] in self.sources]
        claimed = self.frontier.claim_many([row["key"] for row in retry])
        for row, mine in zip(retry, claimed, strict=True):
            if mine:
                self.counts[row["source"]]["retried"] += 1
                yield self._request(row["url"], row["source"], "article", self.parse_article, hints={"via": "retry"})

    # -- requests and records -------------------------------------------------------------------------

    def _claimed(self, urls: Iterable[str]) -> list[str]:
        """The URLs this process claimed first (in order): only those are requested."""
        urls = list(urls)
        return [u for u, mine in zip(urls, self.frontier.claim_many([url_key(u) for u in urls]), strict=True) if mine]

    def _request(
        self, url: str, source: str, kind: str, callback: Any, conditional: bool = True, **meta: Any
    ) -> scrapy.Request:
        """A request for a URL already claimed in the frontier."""
        key = url_key(url)
        headers = {}
        known = self.state.get(key) if conditional else None
        if known and known.get("http_status") in (200, 304):
            if known.get("etag"):
                headers["If-None-Match"] = known["etag"]
            if known.get("last_modified"):
                headers["If-Modified-Since"] = known["last_modified"]
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            headers=headers,
            dont_filter=True,  # frontier claims instead, so every request gets an outcome, redirect loops included
            meta={"source": source, "kind": kind, "dont_obey_robotstxt": kind == "robots", **meta},
        )

    def _on_site(self, source: str, url: str) -> bool:
        key = site_key(url)
        return any(key == d or key.endswith("." + d) for d in self.domains[source])

    def _article_requests(self, links: list[discovery.Link], source: str, anywhere: bool = False) -> Iterator[Any]:
        counts = self.counts[source]
        # one round trip for the whole list when the frontier is shared
        keys = [url_key(link.url) for link in links]
        for link, key, mine in zip(links, keys, self.frontier.claim_many(keys), strict=True):
            if not mine:
                continue
            counts["discovered"] += 1
            if not anywhere and not self._on_site(source, link.url):
                counts["offsite"] += 1  # links leaving the source's domains are not followed
                continue
            changed = discovery_date(link.hints)
            known = self.state.get(key)
            if known and self._settled(known) and not self._changed(known, changed):
                counts["skipped_known"] += 1
                continue
            if known is None and self.oldest and changed and changed < self.oldest:
                counts["over_limit"] += 1  # an old sitemap entry: older than max_age_days
                continue
            title = next((link.hints[k] for k in TITLE_HINTS if link.hints.get(k)), None)
            phrase = screened_out(title, self.title_screen) if title else None
            if phrase:
                counts["screened"] += 1  # recorded, not downloaded
                yield FetchItem(
                    FetchRecord(
                        url=link.url,
                        final_url=link.url,
                        source=source,
                        kind="article",
                        outcome="off_topic",
                        fetched_at=_now(),
                        hints=link.hints,
                        reason=f"title screened before download ({phrase!r})",
                    )
                )
                continue
            if not self.frontier.take_slot(source, self.max_pages):  # the cap holds across processes
                counts["over_limit"] += 1
                continue
            yield self._request(link.url, source, "article", self.parse_article, hints=link.hints)

    @staticmethod
    def _settled(known: dict[str, Any]) -> bool:
        return known.get("http_status") in SETTLED_STATUSES or known.get("outcome") in SETTLED_OUTCOMES

    @staticmethod
    def _changed(known: dict[str, Any], reported: datetime | None) -> bool:
        if reported is None:
            return False  # nothing says it changed
        stored = parse_date(known.get("lastmod"))
        return stored is None or reported > stored

    def _record(self, request: scrapy.Request, **fields: Any) -> FetchRecord:
        meta = request.meta
        return FetchRecord(
            url=(meta.get("redirect_urls") or [request.url])[0],
            source=meta["source"],
            kind=meta["kind"],
            fetched_at=_now(),
            hints=meta.get("hints", {}),
            **fields,
        )

    def _item(self, response: Response, outcome: str = "fetched", reason: str | None = None) -> FetchItem:
        status = response.status
        if status == 304:
            outcome = "not_modified"
        elif status >= 400:
            outcome, reason = "http_error", f"HTTP {status}"
        headers = response.headers
        record = self._record(
            response.request,
            final_url=response.url,
            outcome=outcome,
            reason=reason,
            http_status=status,
            content_type=headers.get(b"Content-Type", b"").decode("latin-1") or None,
            etag=headers.get(b"ETag", b"").decode("latin-1") or None,
            last_modified=headers.get(b"Last-Modified", b"").decode("latin-1") or None,
        )
        if status >= 400:
            self.counts[record.source]["errors"] += 1
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in headers.items() for v in values]
        return FetchItem(record=record, body=None if status == 304 else response.body, headers=pairs)

    def on_headers(self, headers: Headers, body_length: int, request: scrapy.Request, spider: scrapy.Spider) -> None:
        """Stop downloading an "article" that is a PDF, a video or an image: recorded as skipped."""
        # the signal carries no status: a redirect (with its Location) is followed whatever its type says
        if request.meta.get("kind") != "article" or b"Location" in headers:
            return
        ctype = headers.get(b"Content-Type", b"").decode("latin-1").split(";")[0].strip().lower()
        if ctype and ctype not in HTML_TYPES:
            raise StopDownload(fail=True)

    def on_error(self, failure: Failure) -> Iterator[FetchItem]:
        request = failure.request
        exc = failure.value
        status = None
        if isinstance(exc, StopDownload):
            response = getattr(exc, "response", None)
            status = response.status if response is not None else None
            ctype = response.headers.get(b"Content-Type", b"").decode("latin-1") if response is not None else ""
            outcome, reason = "skipped", f"not an HTML page ({ctype or 'unknown type'})"
        elif isinstance(exc, BlockedAddress):
            outcome, reason = "blocked", str(exc)
        elif isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
            outcome, reason = "robots", str(exc)
        else:
            outcome, reason = "error", f"{type(exc).__name__}: {exc or type(exc).__name__}"
            if "max redirections" in reason:
                reason = "too many redirects (redirect loop?)"
            self.counts[request.meta["source"]]["errors"] += 1
        self.logger.warning("%s %s: %s", outcome, request.url, reason)
        yield FetchItem(
            self._record(request, final_url=request.url, outcome=outcome, reason=reason, http_status=status)
        )

    def on_closed(self, spider: scrapy.Spider, reason: str) -> None:
        """Per-source discovery figures for the flow: what was found, skipped and why."""
        path = self.plan.get("stats_file")
        if path and self.worker:
            # one file per process of a shared crawl; the flow adds them up
            path = str(Path(path).with_name(f"{Path(path).stem}-{self.worker}{Path(path).suffix}"))
        if path:
            with open(path, "w", encoding="utf-8") as fh:
                json.dump({k: dict(v) for k, v in self.counts.items()}, fh)

    # -- callbacks --------------------------------------------------------------------------------------

    def _unchanged_or_failed(self, response: Response) -> FetchItem | None:
        if response.status == 304 or response.status >= 400:
            return self._item(response)
        return None

    def parse_feed(self, response: Response) -> Iterator[Any]:
        if done := self._unchanged_or_failed(response):
            yield done
            return
        links, problems = discovery.parse_feed(response.body, response.url)
        for problem in problems:
            self.logger.warning("feed %s: %s", response.url, problem)
        yield self._item(response, reason="; ".join(problems)[:500] or None)
        yield from self._article_requests(links, response.meta["source"])

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        if done := self._unchanged_or_failed(response):
            yield done
            return
        try:
            sitemap = discovery.parse_sitemap(response.body, response.url)
        except (ValueError, SyntaxError) as exc:
            self.logger.warning("sitemap %s unreadable: %s", response.url, exc)
            yield self._item(response, outcome="error", reason=f"unreadable sitemap: {exc}")
            return
        yield self._item(response)
        source, depth = response.meta["source"], response.meta.get("depth", 0)
        children = sitemap.child_sitemaps
        if children and depth + 1 > MAX_SITEMAP_DEPTH:
            self.logger.warning("sitemap nesting deeper than %d at %s", MAX_SITEMAP_DEPTH, children[0])
            children = []
        for child in self._claimed(children):
            yield self._request(child, source, "sitemap", self.parse_sitemap, depth=depth + 1)
        yield from self._article_requests(sitemap.links, source)

    def parse_section(self, response: Response) -> Iterator[Any]:
        if done := self._unchanged_or_failed(response):
            yield done
            return
        source, depth = response.meta["source"], response.meta.get("depth", 0)
        try:
            links, next_pages = discovery.parse_section(
                response.body, response.url, getattr(response, "encoding", None), self.patterns[source]
            )
        except ValueError as exc:
            yield self._item(response, outcome="error", reason=str(exc))
            return
        yield self._item(response)
        yield from self._article_requests(links, source)
        # pagination stops at max_section_pages: endless "next" links (crawler traps) end there
        if depth + 1 < self.max_section_pages:
            for url in self._claimed(next_pages[:1]):
                yield self._request(url, source, "section", self.parse_section, depth=depth + 1)

    def parse_robots(self, response: Response) -> Iterator[Any]:
        if done := self._unchanged_or_failed(response):
            yield done
            return
        yield self._item(response)
        source = response.meta["source"]
        on_site = [u for u in discovery.sitemaps_from_robots(response.body, response.url) if self._on_site(source, u)]
        for url in self._claimed(on_site):
            yield self._request(url, source, "sitemap", self.parse_sitemap, depth=0)

    def parse_gdelt(self, response: Response) -> Iterator[Any]:
        if done := self._unchanged_or_failed(response):
            yield done
            return
        articles, problems = gdelt.parse_artlist(response.body)
        for problem in problems:
            self.logger.warning("GDELT %s: %s", response.url, problem)
        outcome = "error" if problems and not articles else "fetched"
        yield self._item(response, outcome=outcome, reason="; ".join(problems)[:500] or None)
        links = [
            discovery.Link(
                urljoin(response.url, a.url),
                {
                    "via": "gdelt",
                    "feed_title": a.title,
                    "gdelt_seen": a.seen_at,
                    "gdelt_domain": a.domain,
                    "gdelt_language": a.language,
                },
            )
            for a in articles
        ]
        # GDELT is discovery across the whole news web: its links may leave the source's domains
        yield from self._article_requests(links, response.meta["source"], anywhere=True)

    def parse_article(self, response: Response) -> Iterator[FetchItem]:
        yield self._item(response)
