"""Scale-out storage: publishing 100,000 synthetic articles (bench/bulk_load.py's generator) to a DuckLake,
then the incremental syncs after it, and query latency on the lake against the DuckDB file. Prints JSON:
sync seconds (first, idempotent rerun, after a run of 1,000 new and 100 changed articles), the Parquet
bytes against the DuckDB file's, and per query the median latency of 5 warm runs on each, plus a cold one
(a fresh process's connect + first query).

Usage: .venv/bin/python bench/lake_sync.py [--rows 100000] [--catalog 'postgres:dbname=… host=…']
(default catalog: a DuckDB file in a temporary folder)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from bulk_load import batch

from storage import lake
from storage.db import connection
from storage.load import load_run, start_run

QUERIES = {
    "weekly_counts_view": "SELECT date_trunc('week', day) AS week, language, sum(articles) AS n "
    "FROM daily_counts GROUP BY ALL ORDER BY week, language",
    "latest_20": "SELECT published_at, source, title FROM latest_articles LIMIT 20",
    "one_source_one_month": "SELECT count(*), avg(word_count) FROM articles WHERE source = 'outlet7' "
    "AND published_at >= '2026-02-01' AND published_at < '2026-03-01'",
    "text_scan": "SELECT count(*) FROM articles WHERE text ILIKE '%bamaba%'",
    "clusters_view": "SELECT count(*) FROM clusters WHERE size > 1",
}


def _load(db: Path, run_id: str, pages: list[dict], articles: list[dict]) -> None:
    with connection(db) as con:
        start_run(con, run_id, datetime.now(UTC), ["x"])
        load_run(
            con, run_id, pages, articles, {"finished_at": datetime.now(UTC), "status": "completed", "duration_s": 0}
        )
        con.execute("CHECKPOINT")


def _time(fn, runs: int = 5) -> float:
    fn()  # warm up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 1)


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--words", type=int, default=450)
    ap.add_argument("--catalog", default=None, help="a PostgreSQL catalog (empty database); default a DuckDB file")
    args = ap.parse_args()
    rng = np.random.default_rng(11)
    out: dict = {"rows": args.rows, "catalog": "postgres" if args.catalog else "duckdb file"}
    with tempfile.TemporaryDirectory() as tmp:
        db, data = Path(tmp) / "bw.duckdb", Path(tmp) / "lake-data"
        catalog = args.catalog or str(Path(tmp) / "lake.ducklake")
        pages, articles = batch(args.rows, 0, "r1", args.words, rng)
        _load(db, "r1", pages, articles)
        del pages, articles

        first = lake.sync(db, catalog, data_path=data)
        out["first_sync"] = {
            "seconds": round(first.seconds, 2),
            "db_held_s": round(first.staged_s, 2),
            "articles_per_s": round(args.rows / first.seconds),
        }
        out["duckdb_file_mb"] = round(db.stat().st_size / 2**20, 1)
        out["parquet_mb"] = round(_du(data) / 2**20, 1)
        with lake.lake(catalog) as con:
            files = con.execute(
                "SELECT count(*), sum(file_size_bytes) FROM __ducklake_metadata_lake.ducklake_data_file d "
                "JOIN __ducklake_metadata_lake.ducklake_table t USING (table_id) "
                "WHERE t.table_name = 'articles' AND d.end_snapshot IS NULL AND t.end_snapshot IS NULL"
            ).fetchone()
        out["articles_parquet_mb"] = round(files[1] / 2**20, 1)
        out["articles_parquet_files"] = files[0]

        again = lake.sync(db, catalog)
        out["rerun_nothing_new_s"] = round(again.seconds, 2)
        assert not again.changed

        # the next run: 1,000 new articles and 100 stored ones with a new version
        pages, articles = batch(1_000, args.rows, "r2", args.words, rng)
        _, changed = batch(100, 0, "r2", args.words, rng)
        for a in changed:
            a["version"] = 2
        _load(db, "r2", pages, articles + changed)
        inc = lake.sync(db, catalog)
        out["sync_after_run_1000_new_100_changed"] = {
            "seconds": round(inc.seconds, 2),
            "db_held_s": round(inc.staged_s, 2),
            "articles_inserted": inc.inserted["articles"],
            "articles_deleted": inc.deleted["articles"],
        }

        latency: dict[str, dict[str, float]] = {}
        with connection(db, read_only=True) as dcon, lake.lake(catalog) as lcon:
            for name, sql in QUERIES.items():
                assert sorted(dcon.execute(sql).fetchall()) == sorted(lcon.execute(sql).fetchall()), name
                latency[name] = {
                    "duckdb_ms": _time(lambda sql=sql: dcon.execute(sql).fetchall()),
                    "lake_ms": _time(lambda sql=sql: lcon.execute(sql).fetchall()),
                }

        def cold_db() -> None:
            with connection(db, read_only=True) as con:
                con.execute(QUERIES["latest_20"]).fetchall()

        def cold_lake() -> None:
            with lake.lake(catalog) as con:
                con.execute(QUERIES["latest_20"]).fetchall()

        latency["connect_and_latest_20"] = {"duckdb_ms": _time(cold_db, 3), "lake_ms": _time(cold_lake, 3)}
        out["query_latency_median"] = latency
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
