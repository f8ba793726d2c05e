"""The crawl stage: writes a crawl plan and runs the Scrapy project in its own process.

Twisted's reactor cannot be restarted inside one Python process, so the flow never imports scrapy;
it starts ``python -m crawlers.run`` and reads the raw archive that process leaves behind. With a shared
frontier (`[crawl] frontier`) it starts `[crawl] processes` of them, which crawl the run together.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
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
    """Per-source discovery figures the crawler wrote at its end (empty when it was killed first); a shared
    crawl has one file per process (crawl_stats-<worker>.json), added up here."""
    total: dict[str, dict[str, int]] = {}
    for path in sorted(run_dir.glob("crawl_stats*.json")):
        try:
            stats = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for source, counts in stats.items():
            into = total.setdefault(source, {})
            for name, n in counts.items():
                into[name] = into.get(name, 0) + n
    return total


def run_crawler(plan_path: Path, log_path: Path, timeout_s: float) -> int:
    """Run the crawler process to completion; on timeout it is asked to stop (SIGINT), then killed."""
    return _run([_command(plan_path)], [log_path], timeout_s)


def run_crawlers(plan_path: Path, run_dir: Path, timeout_s: float, processes: int = 1, shared: bool = False) -> int:
    """Run the crawl: one process (log crawl.log), or with a shared frontier `processes` of them, workers
    w1..wN (logs crawl-w1.log ...), all waited for. The status is the first non-zero one, else 0."""
    if not shared:
        return run_crawler(plan_path, run_dir / "crawl.log", timeout_s)
    workers = [f"w{i}" for i in range(1, processes + 1)]
    return _run(
        [_command(plan_path, w) for w in workers], [run_dir / f"crawl-{w}.log" for w in workers], timeout_s
    )


def _command(plan_path: Path, worker: str | None = None) -> list[str]:
    return [sys.executable, "-m", "crawlers.run", str(plan_path), *(["--worker", worker] if worker else [])]


def _run(commands: list[list[str]], log_paths: list[Path], timeout_s: float) -> int:
    repo_root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root), env.get("PYTHONPATH", "")]))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for command, log_path in zip(commands, log_paths, strict=True):
            with open(log_path, "ab") as logfile:  # the child keeps its own copy of the descriptor
                procs.append(subprocess.Popen(command, stdout=logfile, stderr=subprocess.STDOUT, env=env))
        deadline = time.monotonic() + timeout_s
        try:
            codes = [proc.wait(timeout=max(0.0, deadline - time.monotonic())) for proc in procs]
        except subprocess.TimeoutExpired:
            log.warning("crawl exceeded %.0f s; stopping it gracefully", timeout_s)
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)  # Scrapy finishes in-flight requests and closes the archive
            stop_by = time.monotonic() + 60
            codes = []
            for proc in procs:
                try:
                    codes.append(proc.wait(timeout=max(0.0, stop_by - time.monotonic())))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    codes.append(proc.wait())
        return next((code for code in codes if code != 0), 0)
    except BaseException:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        raise
