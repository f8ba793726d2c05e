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
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flows.config import Config, Source

# a URL whose fetch failed this many runs in a row is no longer retried unless discovery lists it again
MAX_FAILED_RUNS = 5
TUPLE_FIELDS = ("feeds", "sitemaps", "sections", "domains")

log = logging.getLogger("borderwatch.crawl")


def write_plan(
    cfg: Config,
    sources: tuple[Source, ...],
    run_id: str,
    run_dir: Path,
    state: list[dict[str, Any]] | None = None,
    title_screen: dict[str, Any] | None = None,
) -> Path:
    """The crawler's instructions: settings, sources and what earlier runs learned of their URLs.

    `state` rows (storage.queries.crawl_state) go to a JSON-lines file beside the plan; those whose last
    fetch failed are also listed under "retry" so they are tried again even if discovery no longer lists them.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    state = state or []
    state_file = run_dir / "state.jsonl"
    with open(state_file, "w", encoding="utf-8") as fh:
        for row in state:
            fh.write(json.dumps(row) + "\n")
    retry = [
        {"key": r["key"], "url": r["url"], "source": r["source"]}
        for r in state
        if r["kind"] == "article" and 0 < (r.get("fail_count") or 0) <= MAX_FAILED_RUNS
    ]
    plan = {
        "run_id": run_id,
        "run_dir": str(run_dir),
        "state_file": str(state_file),
        "stats_file": str(run_dir / "crawl_stats.json"),
        "crawl": cfg.crawl_plan_dict(),
        "sources": [{**asdict(s), **{k: list(getattr(s, k)) for k in TUPLE_FIELDS}} for s in sources],
        "retry": retry,
        "title_screen": {k: list(v) for k, v in (title_screen or {}).items()},
    }
    path = run_dir / "plan.json"
    path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
    return path


def read_stats(run_dir: Path) -> dict[str, dict[str, int]]:
    """Per-source discovery figures the crawler wrote at its end (empty when it was killed first)."""
    try:
        return json.loads((run_dir / "crawl_stats.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


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
