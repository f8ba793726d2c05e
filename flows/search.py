"""Search, flow side: keep the index in step with each load, and print results for the CLI."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from storage.search import Hit, refresh_index

if TYPE_CHECKING:  # duckdb lives in storage/: flows only pass its connections along
    import duckdb

log = logging.getLogger("borderwatch.search")


def refresh_after_load(con: duckdb.DuckDBPyConnection) -> None:
    """Index what the load added or changed. A failure is logged, not fatal: the refresh compares the index
    with `articles`, so the next one catches up."""
    try:
        stats = refresh_index(con)
    except Exception:
        log.warning("search index refresh failed; the next run will catch up", exc_info=True)
        return
    log.info(
        "search index: %d articles added, %d removed, %d segments merged in %.2f s",
        stats.added,
        stats.removed,
        stats.merged_segments,
        stats.seconds,
    )


def format_hits(hits: list[Hit]) -> list[str]:
    lines = []
    for n, h in enumerate(hits, 1):
        day = h.published_at.date().isoformat() if h.published_at else "----------"
        lines.append(f"{n:>2}. [{h.score:5.2f}] {day}  {h.source}  {h.language or '?'}  {h.title or '(no title)'}")
        lines.append(f"    {h.url}")
        lines.append(f"    {h.snippet}")
    return lines
