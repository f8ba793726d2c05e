"""The crawl stage: writes a crawl plan and runs the Scrapy project in its own process.

Twisted's reactor cannot be restarted inside one Python process, so the flow never imports scrapy;
it starts ``python -m crawlers.run`` and reads the raw archive that process leaves behind.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from flows.config import Config, Source

log = logging.getLogger("borderwatch.crawl")


def write_plan(cfg: Config, sources: tuple[Source, ...], run_id: str, run_dir: Path) -> Path:
    plan = {
        "run_id": run_id,
        "run_dir": str(run_dir),
        "crawl": cfg.crawl_plan_dict(),
        "sources": [
            {
                "key": s.key,
                "name": s.name,
                "language": s.language,
                "feeds": list(s.feeds),
                "sitemaps": list(s.sitemaps),
                "sections": list(s.sections),
                "article_pattern": s.article_pattern,
            }
            for s in sources
        ],
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "plan.json"
    path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return path


def run_crawler(plan_path: Path, log_path: Path, timeout_s: float) -> int:
    """Run the crawler process to completion; on timeout it is asked to stop (SIGINT), then killed."""
    repo_root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root), env.get("PYTHONPATH", "")]))
    with open(log_path, "ab") as logfile:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawlers.run", str(plan_path)],
            stdout=logfile,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("crawl exceeded %.0f s; stopping it gracefully", timeout_s)
            proc.send_signal(signal.SIGINT)  # Scrapy finishes in-flight requests and closes the archive
            try:
                return proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                return proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
