"""Subprocess entry point: ``python -m crawlers.run PLAN.json [--worker NAME]`` crawls once and exits.

The plan (written by the flow) names the run directory, the crawl settings and the sources.
When the plan names a shared frontier (`crawl.frontier`, a Redis URL), any number of these processes, on one
machine or many, crawl the run together; each needs its own `--worker` name (it names its archive files).
Exit status: 0 when the crawl finished (individual page failures are in the ledger), 1 when it could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sys

from scrapy.crawler import CrawlerProcess

from crawlers.frontier import unreachable
from crawlers.settings import settings_for_plan
from crawlers.spiders.news import NewsSpider
from storage.archive import PART_RE


def default_worker() -> str:
    """host-pid, made fit for a file name."""
    host = re.sub(r"[^a-z0-9-]+", "-", socket.gethostname().lower()).strip("-")[:30] or "host"
    return f"{host}-{os.getpid()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawlers.run", description="Crawl one plan and exit.")
    parser.add_argument("plan", help="the crawl plan (JSON) the flow wrote")
    parser.add_argument("--worker", help="this process's name in a shared crawl (default: host-pid)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with open(args.plan, encoding="utf-8") as fh:
        plan = json.load(fh)
    worker = None
    if frontier := plan.get("crawl", {}).get("frontier"):
        worker = args.worker or default_worker()
        if not PART_RE.match(worker):
            parser.error(f"--worker must match {PART_RE.pattern}")
        if problem := unreachable(frontier):
            print(problem, file=sys.stderr)
            return 1
    process = CrawlerProcess(settings_for_plan(plan, worker), install_root_handler=True)
    process.crawl(NewsSpider, plan_path=args.plan)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
