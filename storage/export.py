"""Exports: articles (and optionally their versions and story clusters) to Parquet, CSV or JSON lines.

DuckDB's COPY writes the files straight from the query (nothing passes through Python), with the filters as
bound parameters. Large Parquet exports are split into one folder per month (`month=YYYY-MM/`, Hive style),
so a reader can load a period without scanning the rest.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

FORMATS = {
    "parquet": ("parquet", "FORMAT parquet, COMPRESSION zstd"),
    "csv": ("csv", "FORMAT csv, HEADER"),
    "jsonl": ("jsonl", "FORMAT json"),  # newline-delimited: one object per line
}
PARTITION_ROWS = 100_000  # Parquet exports of this many articles or more are split by month

# the filters apply to articles (alias a); versions and clusters follow the chosen articles
_FILTER = (
    "($since::TIMESTAMPTZ IS NULL OR coalesce(a.published_at, a.first_seen_at) >= $since::TIMESTAMPTZ) "
    "AND ($source::VARCHAR IS NULL OR a.source = $source::VARCHAR) "
    "AND ($lang::VARCHAR IS NULL OR a.language = $lang::VARCHAR)"
)
QUERIES = {
    "articles": (
        f"SELECT a.* FROM articles a WHERE {_FILTER} ORDER BY a.article_id",
        "strftime(coalesce(published_at, first_seen_at), '%Y-%m')",
    ),
    "versions": (
        f"SELECT v.* FROM article_versions v JOIN articles a USING (article_id) WHERE {_FILTER} "
        "ORDER BY v.article_id, v.version",
        "strftime(fetched_at, '%Y-%m')",
    ),
    "clusters": (
        f"SELECT c.* FROM clusters c WHERE c.cluster_id IN (SELECT a.cluster_id FROM articles a WHERE {_FILTER}) "
        "ORDER BY c.cluster_id",
        None,
    ),
}


def export(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    fmt: str,
    *,
    since: date | datetime | None = None,
    source: str | None = None,
    lang: str | None = None,
    versions: bool = False,
    clusters: bool = False,
    by_month: bool | None = None,
) -> dict[str, int]:
    """Write the chosen articles (and versions/clusters) under `out`; returns rows written per table.

    `out/articles.<ext>` (or `out/articles/month=YYYY-MM/*.parquet` when split by month), likewise versions."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    ext, options = FORMATS[fmt]
    if isinstance(since, date) and not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day)
    params = {"since": since, "source": source, "lang": lang}
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table in ["articles"] + (["versions"] if versions else []) + (["clusters"] if clusters else []):
        sql, month = QUERIES[table]
        rows = con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]
        split = (
            fmt == "parquet" and month is not None and (by_month if by_month is not None else rows >= PARTITION_ROWS)
        )
        if split:
            target = out / table
            query = f"SELECT *, {month} AS month FROM ({sql})"
            opts = f"{options}, PARTITION_BY (month), OVERWRITE_OR_IGNORE"
        else:
            target, query, opts = out / f"{table}.{ext}", sql, options
        # COPY takes no parameter for its target; the path is quoted, the filters stay parameters
        path = str(target).replace("'", "''")
        con.execute(f"COPY ({query}) TO '{path}' ({opts})", params)
        counts[table] = rows
    return counts
