"""Cleaning throughput on the shared real-page set: inline vs the process pool. Prints JSON.

Usage: .venv/bin/python bench/clean_throughput.py [--eval-dir ../shared/eval/extraction] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from flows.clean import PageJob, clean_pages


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/extraction")
    ap.add_argument("--repeat", type=int, default=3, help="copies of the page set (more pages, steadier figures)")
    args = ap.parse_args()
    truth = json.loads((args.eval_dir / "ground-truth.json").read_text())
    pages = sorted((args.eval_dir / "html").glob("*.html.gz"))
    jobs = []
    for _ in range(args.repeat):
        for p in pages:
            pid = p.name[:-8]
            jobs.append(PageJob(len(jobs), gzip.decompress(p.read_bytes()), truth[pid]["url"], "text/html", None))
    out = {"pages": len(jobs)}
    for label, workers in (("inline", 1), ("pool_2", 2)):
        t0 = time.perf_counter()
        res = clean_pages(jobs, workers=workers)
        secs = time.perf_counter() - t0
        out[label] = {
            "seconds": round(secs, 2),
            "pages_per_s": round(len(jobs) / secs, 1),
            "articles": sum(1 for c in res.values() if c.is_article),
        }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
