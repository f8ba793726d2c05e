"""Cleaning throughput on the shared real-page set: inline vs the process pool, and the share of the
cleaner's time that is ours rather than trafilatura's. Prints JSON.

`ours_vs_trafilatura`: everything the cleaner does outside trafilatura's `bare_extraction` calls, over the time
spent in those calls. `ours_after_parse_vs_trafilatura`: the same less decoding and parsing the page
(`decode_parse_seconds`): the cleaner parses once and hands trafilatura the tree, work trafilatura would do
itself if it were handed the page (it would then do it on each of its two or three calls; only one is taken off).
`ours_after_parse_and_free_vs_trafilatura`: also less freeing that parsed tree at the end (`free_tree_seconds`),
the other half of the same work (trafilatura frees the trees it parses inside its calls; here the tree is kept
alive past the cleaner's return and freed on its own, timed). The element objects the cleaner made stay ours.

The shares are measured on one copy of the page set in this process, set up as a pool worker is (gc.freeze), page
by page, with the cleaner's memo caches emptied before each pass: every page's lines are new to it, as a crawled
article's are. The figures are those of the median pass (by `ours_after_parse_vs_trafilatura`), with the range over
`--passes` passes beside them.

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
import flows.extraction
import flows.metadata
import storage.urls
from flows.clean import PageJob, _clean_job, _start_worker, clean_pages


def _timed(fn: Callable[..., Any], spent: dict[str, float], bucket: str) -> Callable[..., Any]:
    def timed(*a: object, **kw: object) -> object:
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            spent[bucket] += time.perf_counter() - t0

    return timed


def _shares(jobs: list[PageJob], passes: int) -> dict[str, object]:
    """How much of the cleaner's time is trafilatura's own (its bare_extraction calls) and how much is ours, over
    `passes` passes of the pages: the median pass, and the range of the ratios."""
    spent = {"trafilatura": 0.0, "decode_parse": 0.0}
    alive: list[Any] = []  # the parsed tree, kept past the cleaner's return so that freeing it is timed apart
    timed_parse = _timed(flows.clean.parse_html, spent, "decode_parse")

    def keep(html: str) -> Any:
        tree = timed_parse(html)
        alive.append(tree)
        return tree

    patched = [
        (trafilatura, "bare_extraction", _timed(trafilatura.bare_extraction, spent, "trafilatura")),
        (flows.clean, "html_to_unicode", _timed(flows.clean.html_to_unicode, spent, "decode_parse")),
        (flows.clean, "parse_html", keep),
    ]
    originals = [getattr(module, name) for module, name, _ in patched]
    for module, name, replacement in patched:
        setattr(module, name, replacement)
    _start_worker()  # as in the pool's workers: what is alive now is out of the garbage collector's way
    runs = []
    try:
        for _ in range(passes):
            for module in (flows.extraction, flows.metadata, storage.urls):
                for memo in vars(module).values():
                    if hasattr(memo, "cache_clear"):
                        memo.cache_clear()
            spent.update(trafilatura=0.0, decode_parse=0.0)
            total = free = 0.0
            for job in jobs:
                t0 = time.perf_counter()
                _clean_job(job, 80)
                t1 = time.perf_counter()
                alive.clear()
                free += time.perf_counter() - t1
                total += t1 - t0
            traf, parse = spent["trafilatura"], spent["decode_parse"]
            ours = total + free - traf  # the tree is freed inside the cleaner when nobody keeps it
            runs.append(
                {
                    "trafilatura_seconds": round(traf, 3),
                    "ours_seconds": round(ours, 3),
                    "ours_vs_trafilatura": round(ours / traf, 3),
                    "decode_parse_seconds": round(parse, 3),
                    "ours_after_parse_vs_trafilatura": round((ours - parse) / traf, 3),
                    "free_tree_seconds": round(free, 3),
                    "ours_after_parse_and_free_vs_trafilatura": round((ours - parse - free) / traf, 3),
                }
            )
    finally:
        for (module, name, _), original in zip(patched, originals, strict=True):
            setattr(module, name, original)
    key = "ours_after_parse_vs_trafilatura"
    out: dict[str, object] = dict(sorted(runs, key=lambda run: run[key])[len(runs) // 2])
    for key in ("ours_after_parse_vs_trafilatura", "ours_after_parse_and_free_vs_trafilatura"):
        out[key + "_range"] = [min(run[key] for run in runs), max(run[key] for run in runs)]
    out["share_passes"] = passes
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/extraction")
    ap.add_argument("--repeat", type=int, default=3, help="copies of the page set (more pages, steadier figures)")
    ap.add_argument("--passes", type=int, default=5, help="passes over the page set for the shares (median taken)")
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
    out.update(_shares(jobs[: len(pages)], args.passes))
    out["pool_speedup"] = round(out["pool_2"]["pages_per_s"] / out["inline"]["pages_per_s"], 2)  # type: ignore[index]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
