"""Scrapy settings for borderwatch: polite defaults, components switched on here, knobs from the crawl plan."""

from __future__ import annotations

from typing import Any

BOT_NAME = "borderwatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

DEFAULT_USER_AGENT = "borderwatch/0.1 (+https://github.com/borderwatch/borderwatch; news research crawler)"

BASE_SETTINGS: dict[str, Any] = {
    "BOT_NAME": BOT_NAME,
    "SPIDER_MODULES": SPIDER_MODULES,
    "NEWSPIDER_MODULE": NEWSPIDER_MODULE,
    "USER_AGENT": DEFAULT_USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
    "DOWNLOAD_DELAY": 1.0,
    "RANDOMIZE_DOWNLOAD_DELAY": True,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 1.0,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "DOWNLOAD_TIMEOUT": 30,
    # a huge or endless response is cut, not buffered; Scrapy applies the limit to the decompressed body
    # too, so a gzip bomb stops there (10 MiB is far above any article page)
    "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 2 * 1024 * 1024,
    "REDIRECT_MAX_TIMES": 5,
    "RETRY_TIMES": 2,
    "COOKIES_ENABLED": False,
    # Scrapy starts this many asyncio workers for every callback's output; ours yield one item per page, so
    # the default 100 cost a quarter of the crawl's CPU (measured by bench/crawl_rate.py)
    "CONCURRENT_ITEMS": 4,
    # Scrapy 2.19's remote-control extension runs a local HTTP server that accepts Python code; the telnet
    # console is the same risk. Neither has a place in an unattended crawler.
    "REMOTE_CONTROL_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "INFO",
    "DOWNLOADER_MIDDLEWARES": {
        # before robots.txt and the downloader, so a refused address never sees a packet
        "crawlers.middlewares.NetworkGuardMiddleware": 50,
        # Scrapy's robots.txt and retry middlewares, extended with Crawl-delay, Retry-After and backoff
        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
        "crawlers.politeness.RobotsCrawlDelayMiddleware": 100,
        "crawlers.politeness.HostScheduleMiddleware": 120,
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawlers.politeness.BackoffRetryMiddleware": 550,
    },
    # the host schedule waits with asyncio.sleep: pin the reactor it needs (Scrapy's default too)
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    # a redirect chain or a nested sitemap deeper than this is a trap, not news
    "DEPTH_LIMIT": 8,
    "ITEM_PIPELINES": {"crawlers.pipelines.RawArchivePipeline": 300},
    # every response reaches the spider so its outcome is recorded (404s, 500s included)
    "HTTPERROR_ALLOW_ALL": True,
    "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
}


def settings_for_plan(plan: dict[str, Any], worker: str | None = None) -> dict[str, Any]:
    """Scrapy settings from the crawl plan's `crawl` section (already validated by the flow's config).
    `worker` names this process when several share the run's frontier (its archive part and lease)."""
    crawl = plan.get("crawl", {})
    settings = dict(BASE_SETTINGS)
    settings.update(
        {
            "ROBOTSTXT_OBEY": bool(crawl.get("obey_robots", True)),
            "CONCURRENT_REQUESTS_PER_DOMAIN": int(crawl.get("concurrency_per_host", 2)),
            "DOWNLOAD_DELAY": float(crawl.get("download_delay", 1.0)),
            "AUTOTHROTTLE_START_DELAY": max(float(crawl.get("download_delay", 1.0)), 0.1),
            "DOWNLOAD_TIMEOUT": float(crawl.get("download_timeout", 30)),
            "DOWNLOAD_MAXSIZE": int(crawl.get("max_response_bytes", 10 * 1024 * 1024)),
            "RETRY_TIMES": int(crawl.get("retries", 2)),
            "RETRY_BACKOFF_BASE": float(crawl.get("retry_backoff", 1.0)),
            "MAX_RETRY_AFTER": float(crawl.get("max_retry_after", 300)),
            "MAX_CRAWL_DELAY": float(crawl.get("max_crawl_delay", 30)),
            "USER_AGENT": crawl.get("user_agent") or DEFAULT_USER_AGENT,
            "NETWORK_GUARD_ALLOW": list(crawl.get("allow_private_hosts", [])),
            "RAW_RUN_DIR": plan["run_dir"],
            "LOG_LEVEL": crawl.get("log_level", "INFO"),
        }
    )
    if crawl.get("frontier"):
        # several processes, one run: requests, claimed URLs and page caps live in Redis under the run id;
        # each process writes its own archive part
        settings.update(
            {
                "SCHEDULER": "crawlers.frontier.RedisScheduler",
                "FRONTIER_REDIS_URL": crawl["frontier"],
                "FRONTIER_RUN_ID": plan["run_id"],
                "CRAWL_WORKER": worker,
                "FRONTIER_WORKERS": int(crawl.get("processes", 1)),  # the flow's processes start together
                "ARCHIVE_PART": worker,
                # per-host politeness is the processes' shared schedule (crawlers.politeness.HostSchedule): a
                # request waits there for its turn, spaced by the delay, right before it goes out; Scrapy's own
                # per-process delays would come after that turn and bunch requests of different processes
                "SHARED_HOST_DELAY": float(crawl.get("download_delay", 1.0)),
                "DOWNLOAD_DELAY": 0.0,
                "AUTOTHROTTLE_ENABLED": False,
            }
        )
    if crawl.get("download_delay", 1.0) == 0:
        # AutoThrottle would add its own delay on top of an explicit "no delay" (demo and tests)
        settings["AUTOTHROTTLE_ENABLED"] = False
    return settings
