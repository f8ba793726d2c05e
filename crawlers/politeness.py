"""Politeness and backoff: robots.txt Crawl-delay, Retry-After on 429/503, exponential backoff for transient
errors. One shared per-host schedule decides when a request may go out; the downloader middleware here
waits for it, so every request (retries included) honours it."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

log = logging.getLogger(__name__)

NOT_BEFORE = "bw_not_before"  # request.meta: monotonic time before which a retry must not go out


class SharedHosts(Protocol):
    """A schedule of hosts kept for several crawler processes (crawlers.frontier.RedisFrontier)."""

    def reserve_host(self, host: str, spacing: float, at_least: float = 0.0) -> float: ...

    def pause_host(self, host: str, seconds: float) -> None: ...


class HostSchedule:
    """When each host may be sent its next request: Crawl-delay spacing and Retry-After pauses.

    With `shared` (several processes crawling one run through a shared frontier), the schedule is the shared one:
    each request reserves a time on it, spaced by the larger of the configured delay (SHARED_HOST_DELAY; Scrapy's
    own per-process delay is then off) and the host's Crawl-delay, so N processes together send a host no more
    than one process would."""

    def __init__(self, max_crawl_delay: float, shared_delay: float = 0.0, shared: SharedHosts | None = None):
        self.max_crawl_delay = max_crawl_delay
        self.shared_delay = shared_delay
        self.shared = shared
        self.crawl_delay: dict[str, float] = {}
        self.next_at: dict[str, float] = {}

    @classmethod
    def of(cls, crawler: Crawler) -> HostSchedule:
        # one instance per crawl, shared by the middlewares below
        if not hasattr(crawler, "bw_schedule"):
            settings = crawler.settings
            shared = None
            if settings.get("FRONTIER_REDIS_URL"):
                from crawlers.frontier import frontier_of  # the shared frontier keeps the shared schedule

                shared = frontier_of(crawler)
            crawler.bw_schedule = cls(  # type: ignore[attr-defined]
                settings.getfloat("MAX_CRAWL_DELAY", 30.0), settings.getfloat("SHARED_HOST_DELAY", 0.0), shared
            )
        return crawler.bw_schedule  # type: ignore[attr-defined]

    def set_crawl_delay(self, host: str, delay: float) -> None:
        if delay > self.max_crawl_delay:
            log.warning("%s asks for Crawl-delay %.0f s; using %.0f s", host, delay, self.max_crawl_delay)
            delay = self.max_crawl_delay
        self.crawl_delay[host] = delay

    def pause(self, host: str, until: float) -> None:
        if self.shared is not None:
            self.shared.pause_host(host, until - time.monotonic())
            return
        self.next_at[host] = max(self.next_at.get(host, 0.0), until)

    def reserve(self, host: str, not_before: float = 0.0) -> float:
        """Seconds to wait before this request; reserves the host's next slot for the one after it."""
        now = time.monotonic()
        if self.shared is not None:
            spacing = max(self.shared_delay, self.crawl_delay.get(host, 0.0))
            return self.shared.reserve_host(host, spacing, not_before - now)
        start = max(now, self.next_at.get(host, 0.0), not_before)
        delay = self.crawl_delay.get(host)
        if delay:
            self.next_at[host] = start + delay
        return start - now


class RobotsCrawlDelayMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, plus the Crawl-delay it ignores."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.schedule = HostSchedule.of(crawler)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        """The host's parsed robots.txt (None when it could not be fetched).

        Scrapy 2.19 hands a request that arrives while its host's robots.txt is still downloading the
        pending Deferred, and awaits it through Deferred.asFuture under the asyncio reactor. asFuture consumes
        the result: the first waiter gets the parser, every later waiter gets None, which Scrapy reads as
        "no robots.txt, everything allowed". So when three or more requests for a host wait at once (a shared
        crawl's worker taking a batch of article URLs from the queue before it has read that host's
        robots.txt), all but the first two were fetched whatever robots.txt said. Once the wait is over the
        parser (or None after a failed download) is stored in _parsers: read it from there."""
        rp = await super().robot_parser(request)
        settled = self._parsers.get(urlparse_cached(request).netloc, rp)
        return rp if isinstance(settled, Deferred) else settled

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        host = urlparse_cached(request).netloc
        if rp is not None and host not in self.schedule.crawl_delay:
            ua = self._robotstxt_useragent or request.headers.get(b"User-Agent", self._default_useragent)
            delay = rp.crawl_delay(ua)
            self.schedule.set_crawl_delay(host, float(delay or 0.0))
        super().process_request_2(rp, request)


class HostScheduleMiddleware:
    """Waits until the host schedule lets a request go (runs after robots.txt, before the download)."""

    def __init__(self, crawler: Crawler):
        self.schedule = HostSchedule.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostScheduleMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        wait = self.schedule.reserve(urlparse_cached(request).netloc, request.meta.get(NOT_BEFORE, 0.0))
        if wait > 0:
            await asyncio.sleep(wait)
        return None


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but spaced out: Retry-After when a 429/503 gives one (and the whole host waits),
    exponential backoff with jitter otherwise. A Retry-After beyond MAX_RETRY_AFTER gives up at once: the
    URL is recorded with its status and tried again next run."""

    def __init__(self, settings: Any):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.max_backoff = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.max_retry_after = settings.getfloat("MAX_RETRY_AFTER", 300.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = cls(crawler.settings)
        mw.crawler = crawler
        mw.schedule = HostSchedule.of(crawler)
        return mw

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Any:
        if response.status in (429, 503) and not request.meta.get("dont_retry"):
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait is not None:
                if wait > self.max_retry_after:
                    log.warning(
                        "%s: Retry-After %.0f s is over the %.0f s cap; giving up for this run",
                        request.url,
                        wait,
                        self.max_retry_after,
                    )
                    return response
                host = urlparse_cached(request).netloc
                self.schedule.pause(host, time.monotonic() + wait)  # the whole host asked for a break
                retry = self._retry(request, f"{response.status} with Retry-After {wait:.0f} s")
                if retry is None:
                    return response
                retry.meta[NOT_BEFORE] = time.monotonic() + wait
                return retry
        return super().process_response(request, response, spider)

    def _retry(self, request: Request, reason: str | Exception | type[Exception]) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            attempt = retry.meta.get("retry_times", 1)
            backoff = min(self.max_backoff, self.base * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
            retry.meta[NOT_BEFORE] = time.monotonic() + backoff  # a Retry-After, when given, overrides this
        return retry
