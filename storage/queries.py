"""Read-side queries: what the dedup stage needs to know about stored articles, run status, ad hoc SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

# statements a read-only user query may run; anything else is refused before it reaches DuckDB
READ_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA"}


class WriteRefused(ValueError):
    """`borderwatch sql` was given a statement that would change the database or write files."""


@dataclass(frozen=True)
class KnownArticle:
    article_id: str
    source: str
    content_hash: str
    title: str | None
    version: int
    first_seen_at: Any
    updated_at: Any
    cluster_id: str


def known_articles(con: duckdb.DuckDBPyConnection, article_ids: list[str], hashes: list[str]) -> list[KnownArticle]:
    """Stored articles with one of these ids or content hashes: a lookup sized by the batch, not the corpus."""
    if not article_ids and not hashes:
        return []
    rows = con.execute(
        "SELECT article_id, source, content_hash, title, version, first_seen_at, updated_at, cluster_id FROM articles "
        "WHERE article_id IN (SELECT unnest(?::VARCHAR[])) OR content_hash IN (SELECT unnest(?::VARCHAR[]))",
        [article_ids, hashes],
    ).fetchall()
    return [KnownArticle(*row) for row in rows]


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 10) -> tuple[list[str], list[tuple[Any, ...]]]:
    cur = con.execute(
        "SELECT run_id, started_at, status, round(duration_s, 1) AS seconds, pages_fetched AS pages, "
        "articles_new AS new, articles_updated AS updated, articles_unchanged AS unchanged, "
        "articles_duplicate AS duplicate, "
        "articles_offtopic AS off_topic, not_articles, errors FROM crawl_runs ORDER BY started_at DESC LIMIT ?",
        [limit],
    )
    return [d[0] for d in cur.description], cur.fetchall()


def check_read_only(sql: str) -> None:
    """Refuse anything but reads, with a message that says which statement and why."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise WriteRefused(f"could not parse the query: {exc}") from exc
    if not statements:
        raise WriteRefused("no SQL statement given")
    for st in statements:
        kind = st.type.name
        if kind not in READ_STATEMENTS:
            raise WriteRefused(
                f"refused: {kind} statement ({st.query.strip()[:60]!r}). `borderwatch sql` is read-only; "
                "the pipeline is the only writer."
            )


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run read-only SQL; returns column names and rows of the last statement."""
    check_read_only(sql)
    statements = duckdb.extract_statements(sql)
    cur = None
    for st in statements:
        cur = con.execute(st)
    assert cur is not None
    if cur.description is None:
        return [], []
    return [d[0] for d in cur.description], cur.fetchall()
