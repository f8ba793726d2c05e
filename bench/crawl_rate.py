"""Crawl rate and incremental cost against a local site of small article pages. Prints JSON.

1. baseline: a bare Scrapy spider (no middlewares of ours, no archive) fetches every page.
2. borderwatch: `python -m crawlers.run` (network guard, robots, host schedule, backoff retry, seen-set on
   canonical URLs, WARC archive and ledger) fetches the same pages from the site's sitemap, politeness off.
3. second run: the same crawl with the state the first run left in DuckDB (what `borderwatch run` does):
   article pages downloaded (target 0), requests made, wall time as a ratio of the first run.

Usage: .venv/bin/python bench/crawl_rate.py [--pages 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from flows.config import parse_config
from flows.crawl import run_crawler, write_plan
from flows.demo_site import serve_sample_site
from flows.pipeline import url_state_rows
from storage.archive import read_ledger
from storage.db import connection
from storage.load import load_run, start_run
from storage.queries import crawl_state

PAGE = "<html><head><title>Story {i}</title></head><body><article><p>{text}</p></article></body></html>"

BASELINE = textwrap.dedent(
    """
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class Bare(scrapy.Spider):
        name = "bare"
        def __init__(self, urls, **kw):
            super().__init__(**kw)
            self.urls = urls
        async def start(self):
            for url in self.urls:
                yield scrapy.Request(url, dont_filter=True)
        def parse(self, response):
            pass

    urls = json.load(open(sys.argv[1]))
    process = CrawlerProcess({"CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING",
                              "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False, "ROBOTSTXT_OBEY": False,
                              "COOKIES_ENABLED": False})
    process.crawl(Bare, urls=urls)
    process.start()
    """
)


def make_site(root: Path, pages: int) -> list[str]:
    outlet = root / "outlets" / "o"
    (outlet / "news").mkdir(parents=True)
    (outlet / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
    text = "Border Patrol agents said asylum seekers waited at the port of entry. " * 12
    paths = [f"/news/story-number-{i}-about-the-border.html" for i in range(pages)]
    for i, path in enumerate(paths):
        (outlet / path.lstrip("/")).write_text(PAGE.format(i=i, text=text))
    urls = "".join(f"<url><loc>{{{{base:o}}}}{p}</loc><lastmod>2026-11-20</lastmod></url>" for p in paths)
    (outlet / "sitemap.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    return paths


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn) -> tuple[float, float]:
    cpu0, t0 = child_cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, child_cpu() - cpu0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=2000)
    args = ap.parse_args()
    out: dict[str, object] = {"pages": args.pages}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        paths = make_site(tmp / "site", args.pages)
        with serve_sample_site(tmp / "site") as web:
            base = web.bases["o"]
            urls_file = tmp / "urls.json"
            urls_file.write_text(json.dumps([base + p for p in paths]))
            script = tmp / "bare.py"
            script.write_text(BASELINE)
            env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
            wall, cpu = timed(
                lambda: subprocess.run([sys.executable, str(script), str(urls_file)], check=True, env=env)
            )
            out["baseline_scrapy"] = {
                "seconds": round(wall, 2),
                "pages_per_s": round(args.pages / wall, 1),
                "cpu_ms_per_page": round(1000 * cpu / args.pages, 2),
            }

            cfg = parse_config(
                {
                    "crawl": {
                        "download_delay": 0,
                        "concurrency_per_host": 16,
                        "obey_robots": True,
                        "max_age_days": 0,
                        "max_pages_per_source": args.pages * 2,
                        "allow_private_hosts": ["127.0.0.1"],
                    },
                    "sources": [
                        {
                            "key": "o",
                            "name": "O",
                            "language": "en",
                            "sitemaps": [base + "/sitemap.xml"],
                            "robots_sitemaps": False,
                        }
                    ],
                },
                tmp / "bench.toml",
            )
            db = tmp / "bench.duckdb"
            results = {}
            for run_id in ("run1", "run2"):
                with connection(db) as con:
                    start_run(con, run_id, datetime.now(UTC), ["o"])
                    state = crawl_state(con, ["o"])
                run_dir = tmp / "raw" / run_id
                plan = write_plan(cfg, cfg.sources, run_id, run_dir, state)
                before = len(web.requests)
                wall, cpu = timed(lambda plan=plan, run_dir=run_dir: run_crawler(plan, run_dir / "log", 600))
                records = read_ledger(run_dir)
                requests = web.requests[before:]
                results[run_id] = {
                    "seconds": round(wall, 2),
                    "requests": len(requests),
                    "article_pages_downloaded": sum(1 for r in records if r.kind == "article" and r.http_status == 200),
                    "pages_per_s": round(len(records) / wall, 1),
                    "cpu_ms_per_page": round(1000 * cpu / max(len(records), 1), 2),
                }
                # what the load stage records for the next run (article outcomes don't matter to the crawler)
                pages = [
                    {
                        "outcome": "new" if r.kind == "article" else "discovery",
                        "fetched_at": datetime.fromisoformat(r.fetched_at),
                    }
                    for r in records
                ]
                with connection(db) as con:
                    load_run(
                        con,
                        run_id,
                        [],
                        [],
                        {"finished_at": datetime.now(UTC), "status": "completed", "duration_s": wall},
                        url_state_rows(run_id, records, pages),
                    )
    base_rate = out["baseline_scrapy"]["pages_per_s"]  # type: ignore[index]
    out["borderwatch_first_run"] = {
        **results["run1"],
        "rate_vs_baseline": round(results["run1"]["pages_per_s"] / base_rate, 2),
    }
    out["borderwatch_second_run"] = {
        **results["run2"],
        "wall_ratio_to_first": round(results["run2"]["seconds"] / results["run1"]["seconds"], 3),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
