"""What a run reports: a markdown table per source (published as a Prefect artifact, stored in crawl_runs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.archive import FetchRecord

COLUMNS = (
    ("pages", "fetched"),
    ("new", "articles_new"),
    ("updated", "articles_updated"),
    ("duplicates", "articles_duplicate"),
    ("off-topic", "articles_offtopic"),
    ("errors", "errors"),
)


def crawl_seconds(records: Sequence[FetchRecord]) -> dict[str, float]:
    """Per source, the span between its first and last fetch (its share of the crawl's wall time)."""
    spans: dict[str, list[datetime]] = {}
    for r in records:
        if r.http_status is None or not r.fetched_at:
            continue
        try:
            at = datetime.fromisoformat(r.fetched_at)
        except ValueError:
            continue
        span = spans.setdefault(r.source, [at, at])
        span[0], span[1] = min(span[0], at), max(span[1], at)
    return {source: round((last - first).total_seconds(), 1) for source, (first, last) in spans.items()}


def markdown(run_id: str, status: str, duration_s: float, per_source: list[dict[str, Any]], alerts: list[str]) -> str:
    """The run's table: one row per source and a total row; alerts raised by the run below it."""
    head = "| source | " + " | ".join(label for label, _ in COLUMNS) + " | crawl time |"
    lines = [
        f"# borderwatch run `{run_id}`",
        "",
        f"**{status}** in {duration_s:.1f} s",
        "",
        head,
        "|" + " --- |" * (len(COLUMNS) + 2),
    ]
    for row in sorted(per_source, key=lambda r: r["source"]):
        cells = [str(row.get(key, 0)) for _, key in COLUMNS]
        lines.append(f"| {row['source']} | " + " | ".join(cells) + f" | {row.get('crawl_s') or 0:.1f} s |")
    totals = [str(sum(int(r.get(key, 0)) for r in per_source)) for _, key in COLUMNS]
    lines.append("| **all** | " + " | ".join(totals) + f" | {duration_s:.1f} s |")
    if alerts:
        lines += ["", "Alerts:", *(f"- {a}" for a in alerts)]
    return "\n".join(lines) + "\n"
