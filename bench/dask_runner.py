"""Run time of the sample-site pipeline with the default task runner and with the Dask runner (a LocalCluster of
``--workers`` processes on 127.0.0.1). Prints JSON.

The sample site is crawled once (a real `borderwatch run`); every timed run then replays that crawl's raw archive
into a fresh database, so the figures compare processing, not the crawl's network timing. `run_s` is the flow
run as `borderwatch run` reports it (LocalCluster start and stop included for Dask), `wall_s` the call.

Usage: PYTHONPATH=. .venv/bin/python bench/dask_runner.py [--repeat 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="bench-prefect-"))

import flows  # noqa: E402,F401 - Prefect's offline settings before Prefect is imported
import flows.pipeline  # noqa: E402
from flows.config import ProcessingConfig, load_config  # noqa: E402
from flows.demo_site import sample_config_toml, serve_sample_site  # noqa: E402

CRAWL_FILES = ("crawl.warc.gz", "fetches.jsonl", "crawl_stats.json")


def replay_from(run_dir: Path):
    """A stand-in for flows.crawl.run_crawler that puts an earlier crawl's output where the crawler would."""

    def run_crawler(plan_path: Path, log_path: Path, timeout_s: float) -> int:
        for name in CRAWL_FILES:
            if (run_dir / name).exists():
                shutil.copy(run_dir / name, plan_path.parent / name)
        return 0

    return run_crawler


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    out: dict[str, object] = {"cores": os.cpu_count(), "dask_workers": args.workers}
    with serve_sample_site() as web:
        config = root / "borderwatch.toml"
        config.write_text(sample_config_toml(web, root), encoding="utf-8")
        exe = Path(sys.executable).parent / "borderwatch"
        subprocess.run([str(exe), "run", "--config", str(config)], check=True, capture_output=True)
        cfg = load_config(config)
        (crawled,) = [p for p in Path(cfg.storage.raw_dir).iterdir() if p.is_dir()]
        flows.pipeline.run_crawler = replay_from(crawled)
        runners = {
            "default": ProcessingConfig(),
            "dask": ProcessingConfig(task_runner="dask", dask_workers=args.workers),
        }
        times: dict[str, dict[str, list[float]]] = {k: {"run_s": [], "wall_s": []} for k in runners}
        flows.pipeline.run_pipeline(cfg, None, root / "warm-up.duckdb")  # starts Prefect's ephemeral server
        for i in range(args.repeat):
            for name, processing in runners.items():
                db = root / f"{name}-{i}.duckdb"
                t0 = time.perf_counter()
                summary = flows.pipeline.run_pipeline(replace(cfg, processing=processing), None, db)
                times[name]["wall_s"].append(time.perf_counter() - t0)
                times[name]["run_s"].append(summary.duration_s)
                out["articles"] = summary.counts.get("articles_new")
                if summary.task_runs:
                    out["dask_task_runs"] = sum(summary.task_runs.values())
    for name, figures in times.items():
        out[name] = {
            k: {"median": round(statistics.median(v), 2), "all": [round(x, 2) for x in v]} for k, v in figures.items()
        }
    print(json.dumps(out, indent=1))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
