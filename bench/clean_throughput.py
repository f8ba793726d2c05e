"""Cleaning throughput on the shared real-page set: inline vs the process pool, and the share of the
cleaner's time that is ours rather than trafilatura's. Prints JSON.

`ours_vs_trafilatura`: everything the cleaner does outside trafilatura's `bare_extraction` calls, over the time
spent in those calls. `ours_after_parse_vs_trafilatura`: the same less decoding and parsing the page
(`decode_parse_seconds`): the cleaner parses once and hands trafilatura the tree, work trafilatura would do
itself if it were handed the page (it would then do it on each of its two or three calls; only one is taken off).

Usage: .venv/bin/python bench/clean_throughput.py [--eval-dir ../shared/eval/extraction] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura

import flows.clean
from flows.clean import PageJob, clean_pages


def _timed(fn: Callable[..., Any], spent: dict[str, float], bucket: str) -> Callable[..., Any]:
    def timed(*a: object, **kw: object) -> object:
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            spent[bucket] += time.perf_counter() - t0

    return timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/extraction")
    ap.add_argument("--repeat", type=int, default=3, help="copies of the page set (more pages, steadier figures)")
    args = ap.parse_args()
    truth = json.loads((args.eval_dir / "ground-truth.json").read_text())
    pages = sorted((args.eval_dir / "html").glob("*.html.gz"))
    jobs = []
    for copy in range(args.repeat):
        for p in pages:
            pid = p.name[:-8]
            # each copy differs by a comment, so no cache anywhere can serve a repeat for free
            body = gzip.decompress(p.read_bytes()) + f"<!-- copy {copy} -->".encode()
            jobs.append(PageJob(len(jobs), body, truth[pid]["url"], "text/html", None))
    out: dict[str, object] = {"pages": len(jobs)}
    clean_pages(jobs[:8], workers=1)  # warm-up: imports, compiled patterns
    for label, workers in (("inline", 1), ("pool_2", 2)):
        t0 = time.perf_counter()
        res = clean_pages(jobs, workers=workers)
        secs = time.perf_counter() - t0
        out[label] = {
            "seconds": round(secs, 2),
            "pages_per_s": round(len(jobs) / secs, 1),
            "articles": sum(1 for c in res.values() if c.is_article),
        }
    # how much of the cleaner's time is trafilatura's own (its bare_extraction calls) and how much is ours
    spent = {"trafilatura": 0.0, "decode_parse": 0.0}
    patched = [
        (trafilatura, "bare_extraction", "trafilatura"),
        (flows.clean, "html_to_unicode", "decode_parse"),
        (flows.clean, "parse_html", "decode_parse"),
    ]
    originals = [getattr(module, name) for module, name, _ in patched]
    for (module, name, bucket), original in zip(patched, originals, strict=True):
        setattr(module, name, _timed(original, spent, bucket))
    t0 = time.perf_counter()
    clean_pages(jobs[: len(pages)], workers=1)
    total = time.perf_counter() - t0
    for (module, name, _), original in zip(patched, originals, strict=True):
        setattr(module, name, original)
    traf, ours = spent["trafilatura"], total - spent["trafilatura"]
    out["trafilatura_seconds"] = round(traf, 2)
    out["ours_seconds"] = round(ours, 2)
    out["ours_vs_trafilatura"] = round(ours / traf, 3)
    out["decode_parse_seconds"] = round(spent["decode_parse"], 2)
    out["ours_after_parse_vs_trafilatura"] = round((ours - spent["decode_parse"]) / traf, 3)
    out["pool_speedup"] = round(out["pool_2"]["pages_per_s"] / out["inline"]["pages_per_s"], 2)  # type: ignore[index]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
