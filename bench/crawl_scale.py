"""Crawl scale-out: pages/s of one crawler process against 1 and 2 processes sharing a Redis frontier. Prints JSON.

A local site of small article pages listed in one sitemap, spread over `--hosts` outlets (one port each), served
by the sample-site server; a private redis-server on a free loopback port. Two cases:
- `cpu`: no delay anywhere: what the crawler process itself costs (parsing, archive, scheduling) sets the pace;
- `latency`: every page answers after `--latency` s and each process keeps 2 requests per host in flight:
  waiting on the servers sets the pace (as with real outlets and polite settings).
Wall time includes the processes' start-up (Python and Scrapy imports, ~1-2 s), as a scheduled run pays it.

Usage: .venv/bin/python bench/crawl_scale.py [--pages 600] [--hosts 3] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from flows.config import parse_config
from flows.crawl import run_crawlers, write_plan
from flows.demo_site import serve_sample_site
from storage.archive import ledger_files, read_ledger, read_ledger_file

PAGE = "<html><head><title>Story {i}</title></head><body><article><p>{text}</p></article></body></html>"


def make_site(root: Path, pages: int, hosts: int, latency: float) -> dict[str, list[str]]:
    text = "Border Patrol agents said asylum seekers waited at the port of entry. " * 12
    out: dict[str, list[str]] = {}
    for h in range(hosts):
        key = f"o{h}"
        outlet = root / "outlets" / key
        (outlet / "news").mkdir(parents=True)
        (outlet / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n")
        paths = [f"/news/story-number-{i}-about-the-border.html" for i in range(h, pages, hosts)]
        for i, path in enumerate(paths):
            (outlet / path.lstrip("/")).write_text(PAGE.format(i=i, text=text))
        urls = "".join(f"<url><loc>{{{{base:{key}}}}}{p}</loc><lastmod>2026-11-20</lastmod></url>" for p in paths)
        (outlet / "sitemap.xml").write_text(
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        )
        if latency:
            (outlet / "_routes.json").write_text(json.dumps({p: {"delay": latency} for p in paths}))
        out[key] = paths
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def crawl(tmp: Path, bases: dict[str, str], run_id: str, pages: int, frontier: str, processes: int) -> dict:
    cfg = parse_config(
        {
            "crawl": {
                "download_delay": 0,
                "concurrency_per_host": 2,
                "max_age_days": 0,
                "max_pages_per_source": pages,
                "allow_private_hosts": ["127.0.0.1"],
                "frontier": frontier,
                "processes": processes,
            },
            "sources": [
                {"key": k, "name": k, "language": "en", "sitemaps": [b + "/sitemap.xml"], "robots_sitemaps": False}
                for k, b in bases.items()
            ],
        },
        tmp / "bench.toml",
    )
    run_dir = tmp / "raw" / run_id
    plan = write_plan(cfg, cfg.sources, run_id, run_dir)
    t0 = time.perf_counter()
    code = run_crawlers(plan, run_dir, 900, processes=processes, shared=bool(frontier))
    wall = time.perf_counter() - t0
    records = read_ledger(run_dir)
    articles = [r for r in records if r.kind == "article" and r.http_status == 200]
    urls = Counter(r.url for r in records)
    return {
        "exit": code,
        "seconds": round(wall, 2),
        "article_pages": len(articles),
        "pages_per_s": round(len(records) / wall, 1),
        "per_process": [len(read_ledger_file(p)) for p in ledger_files(run_dir)],
        "urls_recorded_twice": sum(1 for n in urls.values() if n > 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=600)
    ap.add_argument("--hosts", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.05)
    args = ap.parse_args()
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is not installed: run scripts/redis.sh")
    out: dict[str, object] = {"pages": args.pages, "hosts": args.hosts, "latency_s": args.latency}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        cmd = [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp_name]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            url = f"redis://127.0.0.1:{port}/0"
            for case, latency in (("cpu", 0.0), ("latency", args.latency)):
                site = tmp / f"site-{case}"
                make_site(site, args.pages, args.hosts, latency)
                with serve_sample_site(site) as web:
                    out[case] = {
                        "1 process, local frontier": crawl(tmp, web.bases, f"{case}-local", args.pages, "", 1),
                        "1 process, redis frontier": crawl(tmp, web.bases, f"{case}-r1", args.pages, url, 1),
                        "2 processes, redis frontier": crawl(tmp, web.bases, f"{case}-r2", args.pages, url, 2),
                    }
        finally:
            server.terminate()
            server.wait()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
