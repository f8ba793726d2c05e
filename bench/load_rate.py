"""DuckDB load rate of storage.load.load_run (Arrow bulk insert + upsert in one transaction). Prints JSON.

Usage: .venv/bin/python bench/load_rate.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from storage.db import connection
from storage.load import load_run, start_run

WORDS = "border patrol asylum migrants port entry court policy frontera migrantes".split()


def rows(n: int, run_id: str, now: datetime) -> tuple[list[dict], list[dict]]:
    text = " ".join(WORDS * 60)
    articles, pages = [], []
    for i in range(n):
        aid = f"{i:016x}"
        url = f"https://outlet{i % 20}.example/2026/11/story-{i}"
        articles.append(
            {
                "article_id": aid,
                "url": url,
                "source": f"outlet{i % 20}",
                "title": f"Story {i}",
                "authors": ["Jane Doe"],
                "published_at": now,
                "language": "en",
                "text": text,
                "word_count": 600,
                "relevance": 0.9,
                "relevance_terms": ["asylum", "CBP"],
                "cluster_id": aid,
                "content_hash": f"h{i}",
                "first_seen_at": now,
                "last_seen_at": now,
                "updated_at": now,
                "version": 1,
                "run_id": run_id,
            }
        )
        pages.append(
            {
                "run_id": run_id,
                "url": url,
                "source": f"outlet{i % 20}",
                "kind": "article",
                "outcome": "new",
                "fetched_at": now,
                "http_status": 200,
                "article_id": aid,
                "relevance": 0.9,
                "relevance_terms": ["asylum"],
            }
        )
    return pages, articles


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    now = datetime.now(UTC)
    out = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp, connection(Path(tmp) / "bench.duckdb") as con:
        for label, run_id in (("insert", "r1"), ("upsert_same_ids", "r2")):
            start_run(con, run_id, now, ["x"])
            pages, articles = rows(args.rows, run_id, now)
            t0 = time.perf_counter()
            load_run(con, run_id, pages, articles, {"finished_at": now, "status": "completed", "duration_s": 0})
            secs = time.perf_counter() - t0
            out[label] = {"seconds": round(secs, 2), "articles_per_s": round(args.rows / secs)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
