"""The news spider: discovers article URLs from each source's feeds, sitemaps and section pages and
fetches them; every response and every failure becomes a FetchItem for the raw archive."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers import discovery
from crawlers.items import FetchItem
from crawlers.middlewares import BlockedAddress
from storage.archive import FetchRecord
from storage.urls import canonicalize_url

MAX_SITEMAP_DEPTH = 3


def _now() -> str:
    return datetime.now(UTC).isoformat()


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, plan: dict[str, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.plan = plan
        crawl = plan.get("crawl", {})
        self.max_pages = int(crawl.get("max_pages_per_source", 500))
        self.max_section_pages = int(crawl.get("max_section_pages", 3))
        self.sources = {s["key"]: s for s in plan["sources"]}
        self.patterns = {
            key: re.compile(s["article_pattern"]) if s.get("article_pattern") else None
            for key, s in self.sources.items()
        }
        self.seen: set[str] = set()
        self.scheduled: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        plan_path = kwargs.pop("plan_path")
        with open(plan_path, encoding="utf-8") as fh:
            plan = json.load(fh)
        spider = cls(plan, *args, **kwargs)
        spider._set_crawler(crawler)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for key, source in self.sources.items():
            for url in source.get("feeds", []):
                yield self._request(url, key, "feed", self.parse_feed)
            for url in source.get("sitemaps", []):
                yield self._request(url, key, "sitemap", self.parse_sitemap, depth=0)
            for url in source.get("sections", []):
                yield self._request(url, key, "section", self.parse_section, depth=0)

    # -- requests and records -------------------------------------------------------------------------

    def _key(self, url: str) -> str:
        """Seen-set key: the canonical URL, so tracking-parameter and AMP variants are fetched once."""
        try:
            return canonicalize_url(url)
        except ValueError:
            return url

    def _request(self, url: str, source: str, kind: str, callback: Any, **meta: Any) -> scrapy.Request:
        self.seen.add(self._key(url))
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=True,  # we keep our own seen-set so every request gets an outcome, loops included
            meta={"source": source, "kind": kind, **meta},
        )

    def _article_requests(self, links: list[discovery.Link], source: str) -> Iterator[scrapy.Request]:
        for link in links:
            if self._key(link.url) in self.seen:
                continue
            if self.scheduled[source] >= self.max_pages:
                self.logger.info("source %s reached max_pages_per_source=%d", source, self.max_pages)
                return
            self.scheduled[source] += 1
            yield self._request(link.url, source, "article", self.parse_article, hints=link.hints)

    def _item(self, response: Response, outcome: str = "fetched", reason: str | None = None) -> FetchItem:
        meta = response.meta
        request_url = (meta.get("redirect_urls") or [response.url])[0]
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        record = FetchRecord(
            url=request_url,
            final_url=response.url,
            source=meta["source"],
            kind=meta["kind"],
            outcome=outcome if response.status < 400 else "http_error",
            reason=reason if response.status < 400 else f"HTTP {response.status}",
            http_status=response.status,
            content_type=ctype,
            fetched_at=_now(),
            hints=meta.get("hints", {}),
        )
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items() for v in values]
        return FetchItem(record=record, body=response.body, headers=headers)

    def on_error(self, failure: Failure) -> Iterator[FetchItem]:
        request = failure.request
        exc = failure.value
        if isinstance(exc, BlockedAddress):
            outcome = "blocked"
        elif isinstance(exc, IgnoreRequest) and "robots.txt" in str(exc):
            outcome = "robots"
        else:
            outcome = "error"
        reason = str(exc) or type(exc).__name__
        if "max redirections" in reason:
            reason = "too many redirects (redirect loop?)"
        self.logger.warning("%s %s: %s", outcome, request.url, reason)
        yield FetchItem(
            FetchRecord(
                url=(request.meta.get("redirect_urls") or [request.url])[0],
                final_url=request.url,
                source=request.meta["source"],
                kind=request.meta["kind"],
                outcome=outcome,
                reason=f"{type(exc).__name__}: {reason}" if outcome == "error" else reason,
                fetched_at=_now(),
                hints=request.meta.get("hints", {}),
            )
        )

    # -- callbacks --------------------------------------------------------------------------------------

    def parse_feed(self, response: Response) -> Iterator[Any]:
        if response.status >= 400:
            yield self._item(response)
            return
        links, problems = discovery.parse_feed(response.body, response.url)
        for problem in problems:
            self.logger.warning("feed %s: %s", response.url, problem)
        yield self._item(response, reason="; ".join(problems) or None)
        yield from self._article_requests(links, response.meta["source"])

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        if response.status >= 400:
            yield self._item(response)
            return
        try:
            sitemap = discovery.parse_sitemap(response.body, response.url)
        except (ValueError, SyntaxError) as exc:
            self.logger.warning("sitemap %s unreadable: %s", response.url, exc)
            yield self._item(response, outcome="error", reason=f"unreadable sitemap: {exc}")
            return
        yield self._item(response)
        source, depth = response.meta["source"], response.meta.get("depth", 0)
        for child in sitemap.child_sitemaps:
            if depth + 1 > MAX_SITEMAP_DEPTH:
                self.logger.warning("sitemap nesting deeper than %d at %s", MAX_SITEMAP_DEPTH, child)
                break
            if self._key(child) not in self.seen:
                yield self._request(child, source, "sitemap", self.parse_sitemap, depth=depth + 1)
        yield from self._article_requests(sitemap.links, source)

    def parse_section(self, response: Response) -> Iterator[Any]:
        if response.status >= 400:
            yield self._item(response)
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
        if depth + 1 < self.max_section_pages:
            for url in next_pages[:1]:
                if self._key(url) not in self.seen:
                    yield self._request(url, source, "section", self.parse_section, depth=depth + 1)

    def parse_article(self, response: Response) -> Iterator[FetchItem]:
        yield self._item(response)
