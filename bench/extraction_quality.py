"""Article-body extraction quality on the shared real-page set: the pipeline's cleaner (flows.clean.clean_html,
which `borderwatch extract` runs) vs plain trafilatura. Prints JSON.

Scores come from the shared scorer (score_extraction.py, run as a subprocess with --json): shingle F1, precision
and recall over all pages and over two fixed halves of the page ids ("dev": sha256(id) even, "holdout": odd;
the rules in flows/extraction.py were developed on "dev" only). Also lists pages where the cleaner is
worse than plain trafilatura (include_comments=False) by more than --max-drop F1, and pages/s of both.

Usage: .venv/bin/python bench/extraction_quality.py [--eval-dir ../shared/eval/extraction] [--scorer PATH]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trafilatura

from flows.clean import clean_html


def half_of(page_id: str) -> str:
    return "dev" if int(hashlib.sha256(page_id.encode()).hexdigest(), 16) % 2 == 0 else "holdout"


def _aggregate(per_page: dict[str, dict[str, Any]], ids: list[str]) -> dict[str, float]:
    """The scorer's own definition: precision and recall averaged over the pages where they are defined,
    F1 the harmonic mean of the two averages."""
    precs = [per_page[i]["precision"] for i in ids if per_page[i]["precision"] is not None]
    recs = [per_page[i]["recall"] for i in ids if per_page[i]["recall"] is not None]
    p = statistics.fmean(precs) if precs else 0.0
    r = statistics.fmean(recs) if recs else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"f1": round(f1, 4), "precision": round(p, 4), "recall": round(r, 4), "pages": len(ids)}


def _score(scorer: Path, truth_file: Path, texts: dict[str, str], workdir: Path, name: str) -> dict[str, Any]:
    pred_file, score_file = workdir / f"{name}.json", workdir / f"{name}-scores.json"
    pred_file.write_text(json.dumps({k: {"articleBody": v} for k, v in texts.items()}, ensure_ascii=False))
    cmd = [sys.executable, str(scorer), str(pred_file), str(truth_file), "--json", str(score_file), "--name", name]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(score_file.read_text())


def _run_both(fns: dict[str, Any], pages: list[tuple[str, str, str]]) -> tuple[dict[str, dict[str, str]], dict]:
    """Run every function on every page, page by page in turn (so machine load hits them alike)."""
    for _, html, url in pages[:5]:  # warm-up: imports, compiled xpaths, stoplists
        for fn in fns.values():
            fn(html, url)
    texts: dict[str, dict[str, str]] = {name: {} for name in fns}
    seconds = dict.fromkeys(fns, 0.0)
    for pid, html, url in pages:
        for name, fn in fns.items():
            t0 = time.perf_counter()
            texts[name][pid] = fn(html, url)
            seconds[name] += time.perf_counter() - t0
    return texts, {name: len(pages) / secs for name, secs in seconds.items()}


def _plain(html: str, url: str) -> str:
    doc = trafilatura.bare_extraction(html, url=url, include_comments=False, with_metadata=True)
    return (doc.text or "") if doc is not None else ""


def _ours(html: str, url: str) -> str:
    # exactly what `borderwatch extract` and the pipeline run: the whole cleaner, from the page's bytes
    return clean_html(html.encode("utf-8"), url, "text/html; charset=utf-8").text


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared/eval/extraction")
    ap.add_argument("--scorer", type=Path, default=None, help="default: score_extraction.py next to --eval-dir")
    ap.add_argument("--max-drop", type=float, default=0.05, help="list pages worse than plain trafilatura by this")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # trafilatura logs every discarded page
    scorer = args.scorer or args.eval_dir.parent / "score_extraction.py"
    truth_file = args.eval_dir / "ground-truth.json"
    truth = json.loads(truth_file.read_text(encoding="utf8"))
    pages = [
        (pid, gzip.decompress((args.eval_dir / "html" / f"{pid}.html.gz").read_bytes()).decode("utf8"), rec["url"])
        for pid, rec in sorted(truth.items())
    ]
    halves = {"dev": [], "holdout": []}
    for pid, _, _ in pages:
        halves[half_of(pid)].append(pid)

    results: dict[str, Any] = {"pages": len(pages)}
    per_page: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        texts, rates = _run_both({"trafilatura": _plain, "borderwatch": _ours}, pages)
        for name in ("trafilatura", "borderwatch"):
            scores = _score(scorer, truth_file, texts[name], Path(tmp), name)
            per_page[name] = scores["per_page"]
            ids = list(truth)
            results[name] = {
                "all": _aggregate(scores["per_page"], ids),
                **{h: _aggregate(scores["per_page"], sorted(members)) for h, members in halves.items()},
                "scorer_f1": round(scores["metrics"]["f1"], 4),
                "pages_per_s": round(rates[name], 1),
            }
    worse = []
    for pid in truth:
        base, ours = per_page["trafilatura"][pid]["f1"], per_page["borderwatch"][pid]["f1"]
        if base is not None and (ours or 0.0) < base - args.max_drop:
            worse.append({"id": pid, "half": half_of(pid), "trafilatura": round(base, 3), "ours": round(ours or 0, 3)})
    results["worse_than_trafilatura"] = {"max_drop": args.max_drop, "count": len(worse), "pages": worse}
    results["relative_cost"] = round(results["trafilatura"]["pages_per_s"] / results["borderwatch"]["pages_per_s"], 2)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
