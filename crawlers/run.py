"""Subprocess entry point: ``python -m crawlers.run PLAN.json`` crawls once and exits.

The plan (written by the flow) names the run directory, the crawl settings and the sources.
Exit status: 0 when the crawl finished (individual page failures are in the ledger), 1 when it could not run.
"""

from __future__ import annotations

import json
import sys

from scrapy.crawler import CrawlerProcess

from crawlers.settings import settings_for_plan
from crawlers.spiders.news import NewsSpider


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m crawlers.run PLAN.json", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as fh:
        plan = json.load(fh)
    process = CrawlerProcess(settings_for_plan(plan), install_root_handler=True)
    process.crawl(NewsSpider, plan_path=args[0])
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
