"""Accuracy of flows.metadata against hand-made labels, with trafilatura's own metadata as the baseline.

    .venv/bin/python bench/metadata_accuracy.py [--eval-dir DIR] [--labels FILE]

Reads the shared extraction set (html/<id>.html.gz, ground-truth.json for the URLs) and
bench/metadata_labels.json (title, authors, credits, published day per page, labelled by reading each page).
Pages are split into two halves by the parity of sha256(id): "dev" (rules were developed on it) and
"holdout" (checked at the end). Prints one JSON document: accuracy per field and half for ours and for
trafilatura, timing of extract_metadata on top of the lxml parse, and every mismatch of ours.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import lxml.html
import trafilatura

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from flows.metadata import extract_metadata  # noqa: E402

DEFAULT_EVAL = Path(__file__).resolve().parents[2] / "shared/eval/extraction"
DEFAULT_LABELS = Path(__file__).resolve().parent / "metadata_labels.json"
FIELDS = ("title", "date", "authors", "credits")


def half(page_id: str) -> str:
    return "dev" if int(hashlib.sha256(page_id.encode()).hexdigest(), 16) % 2 == 0 else "holdout"


def norm_title(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def norm_set(values: list[str] | None) -> list[str]:
    return sorted({" ".join(v.split()).casefold() for v in values or [] if v and v.strip()})


def scores(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"pages": len(rows)}
    for f in fields:
        out[f] = round(sum(r[f] for r in rows) / len(rows), 4) if rows else None
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    args = ap.parse_args(argv)

    truth = json.loads((args.eval_dir / "ground-truth.json").read_text(encoding="utf-8"))
    labels = json.loads(args.labels.read_text(encoding="utf-8"))
    ours_rows: list[dict[str, Any]] = []
    base_rows: list[dict[str, Any]] = []
    mismatches: list[dict[str, Any]] = []
    parse_ms: list[float] = []
    pages: list[tuple[Any, str, Any]] = []
    first_call_ms: float | None = None
    for page_id in sorted(labels):
        label = labels[page_id]
        url = label.get("url") or truth.get(page_id, {}).get("url")
        html = gzip.decompress((args.eval_dir / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8")
        t0 = time.perf_counter()
        tree = lxml.html.document_fromstring(html)
        parse_ms.append((time.perf_counter() - t0) * 1000)
        doc = trafilatura.bare_extraction(html, url=url, include_comments=False, with_metadata=True)
        t0 = time.perf_counter()
        meta = extract_metadata(tree, url, doc)
        if first_call_ms is None:
            first_call_ms = (time.perf_counter() - t0) * 1000  # includes compiling regexes on first use
        pages.append((tree, url, doc))

        expected = {
            "title": norm_title(label["title"]),
            "date": label["published"],
            "authors": norm_set(label["authors"]),
            "credits": norm_set(label["credits"]),
        }
        got = {
            "title": norm_title(meta.title),
            "date": meta.published_date.isoformat() if meta.published_date else None,
            "authors": norm_set(meta.authors),
            "credits": norm_set(meta.credits),
        }
        row: dict[str, Any] = {"half": half(page_id)}
        for f in FIELDS:
            row[f] = expected[f] == got[f]
            if not row[f]:
                shown = {"title": meta.title, "date": got["date"], "authors": meta.authors, "credits": meta.credits}
                wanted = label["published" if f == "date" else f]
                mismatches.append({"id": page_id, "half": row["half"], "field": f, "expected": wanted, "got": shown[f]})
        utc_day = meta.published_at.date().isoformat() if meta.published_at else None
        row["date_utc_day"] = utc_day == expected["date"]
        ours_rows.append(row)

        base = {
            "half": row["half"],
            "title": norm_title(getattr(doc, "title", None)) == expected["title"],
            "date": (getattr(doc, "date", None) or None) == expected["date"],
            "authors": norm_set((getattr(doc, "author", None) or "").split(";")) == expected["authors"],
        }
        base_rows.append(base)

    report: dict[str, Any] = {"eval_dir": str(args.eval_dir), "pages": len(ours_rows), "ours": {}, "trafilatura": {}}
    for name in ("all", "dev", "holdout"):
        sel = [r for r in ours_rows if name == "all" or r["half"] == name]
        report["ours"][name] = scores(sel, (*FIELDS, "date_utc_day"))
        sel = [r for r in base_rows if name == "all" or r["half"] == name]
        report["trafilatura"][name] = scores(sel, ("title", "date", "authors"))
    # timing: extract_metadata alone (the tree already parsed), each page 3 times, its median kept
    timings_ms: list[float] = []
    for tree, url, doc in pages:
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            extract_metadata(tree, url, doc)
            runs.append((time.perf_counter() - t0) * 1000)
        timings_ms.append(statistics.median(runs))
    ordered = sorted(timings_ms)
    report["timing_ms"] = {
        "extract_metadata_mean": round(statistics.mean(timings_ms), 3),
        "extract_metadata_median": round(statistics.median(timings_ms), 3),
        "extract_metadata_p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "extract_metadata_max": round(ordered[-1], 3),
        "extract_metadata_first_call": round(first_call_ms or 0.0, 3),
        "lxml_parse_mean": round(statistics.mean(parse_ms), 3),
    }
    report["notes"] = (
        "date = published_date (the day in the page's own timezone) vs the label; date_utc_day = the UTC day of "
        "published_at vs the same label. trafilatura: title, author split on ';', date (its YYYY-MM-DD)."
    )
    report["mismatches"] = mismatches
    json.dump(report, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
