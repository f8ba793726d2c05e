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


def crawl_state(con: duckdb.DuckDBPyConnection, sources: list[str]) -> list[dict[str, Any]]:
    """What the crawler needs to know of these sources' URLs: validators for conditional requests, the
    newest change date seen, and whether the last fetch failed (so it is retried)."""
    cur = con.execute(
        "SELECT url_key, url, source, kind, etag, last_modified, strftime(lastmod, '%Y-%m-%dT%H:%M:%S+00:00'), "
        "http_status, outcome, fail_count FROM url_state WHERE source IN (SELECT unnest(?::VARCHAR[]))",
        [sources],
    )
    cols = ["key", "url", "source", "kind", "etag", "last_modified", "lastmod", "http_status", "outcome", "fail_count"]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def source_health(con: duckdb.DuckDBPyConnection, run_id: str | None = None) -> tuple[list[str], list[tuple]]:
    """Per-source figures of one run (default: the latest finished one), with a health verdict that makes
    a silently broken source visible: nothing found where a feed or layout used to yield links, or only errors."""
    cur = con.execute(
        """
        SELECT source, discovered, skipped_known AS known, offsite, fetched, not_modified,
               articles_new AS new, articles_updated AS updated, articles_offtopic AS off_topic, errors,
               CASE WHEN fetched > 0 AND errors >= fetched THEN 'FAILING: every request failed'
                    WHEN discovered = 0 AND not_modified = 0 THEN 'CHECK: nothing discovered (feed moved? layout?)'
                    WHEN errors > 0 THEN 'ok, with errors'
                    ELSE 'ok' END AS health
        FROM source_runs
        WHERE run_id = coalesce(?, (SELECT run_id FROM crawl_runs WHERE finished_at IS NOT NULL
                                    ORDER BY started_at DESC LIMIT 1))
        ORDER BY source
        """,
        [run_id],
    )
    return [d[0] for d in cur.description], cur.fetchall()


def source_history(con: duckdb.DuckDBPyConnection, sources: list[str], runs: int) -> dict[str, list[int]]:
    """Per source, new + updated articles of its last `runs` finished runs, newest first (for alerts)."""
    rows = con.execute(
        """
        SELECT s.source, s.articles_new + s.articles_updated
        FROM source_runs AS s JOIN crawl_runs AS r USING (run_id)
        WHERE s.source IN (SELECT unnest(?::VARCHAR[])) AND r.status IN ('completed', 'completed_with_errors')
        QUALIFY row_number() OVER (PARTITION BY s.source ORDER BY r.started_at DESC) <= ?
        ORDER BY s.source, r.started_at DESC
        """,
        [sources, runs],
    ).fetchall()
    out: dict[str, list[int]] = {s: [] for s in sources}
    for source, articles in rows:
        out[source].append(int(articles))
    return out


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


def source_article_counts(con: duckdb.DuckDBPyConnection, sources: list[str]) -> dict[str, int]:
    rows = con.execute(
        "SELECT source, count(*) FROM articles WHERE source IN (SELECT unnest(?::VARCHAR[])) GROUP BY source",
        [sources],
    ).fetchall()
    return {s: 0 for s in sources} | dict(rows)


def boilerplate_keys(con: duckdb.DuckDBPyConnection, thresholds: dict[str, int]) -> dict[str, set[str]]:
    """Per source, the keys of lines seen in at least its threshold of articles: template, not news."""
    out: dict[str, set[str]] = {s: set() for s in thresholds}
    if not thresholds:
        return out
    rows = con.execute(
        "SELECT b.source, b.line_key FROM boilerplate_lines b "
        "JOIN (SELECT unnest(?::VARCHAR[]) AS source, unnest(?::INTEGER[]) AS needed) t USING (source) "
        "WHERE b.articles >= t.needed",
        [list(thresholds), list(thresholds.values())],
    ).fetchall()
    for source, key in rows:
        out[source].add(key)
    return out


def boilerplate_counts(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Current article counts of these (source, line_key) pairs."""
    if not pairs:
        return {}
    rows = con.execute(
        "SELECT source, line_key, articles FROM boilerplate_lines "
        "WHERE (source, line_key) IN (SELECT (unnest(?::VARCHAR[]), unnest(?::VARCHAR[])))",
        [[p[0] for p in pairs], [p[1] for p in pairs]],
    ).fetchall()
    return {(s, k): n for s, k, n in rows}


def articles_of_source_containing(
    con: duckdb.DuckDBPyConnection, source: str, needles: list[str]
) -> list[tuple[str, str]]:
    """(article_id, text) of the source's stored articles whose text contains any of the needles."""
    if not needles:
        return []
    return con.execute(
        "SELECT article_id, text FROM articles WHERE source = ? "
        "AND EXISTS (SELECT 1 FROM unnest(?::VARCHAR[]) AS t(n) WHERE contains(text, n))",
        [source, needles],
    ).fetchall()


def reprocess_targets(con: duckdb.DuckDBPyConnection, run_ids: list[str] | None) -> list[dict[str, Any]]:
    """The latest archived page of each stored article (of the given runs, or of all), to re-clean."""
    cur = con.execute(
        """
        SELECT p.run_id, p.url, p.final_url, p.source, p.kind, p.warc_file, p.warc_offset, p.content_type,
               p.fetched_at, p.article_id
        FROM pages p JOIN articles a USING (article_id)
        WHERE p.warc_offset IS NOT NULL AND p.outcome IN ('new', 'updated', 'unchanged')
          AND (? IS NULL OR p.run_id IN (SELECT unnest(?::VARCHAR[])))
        QUALIFY row_number() OVER (PARTITION BY p.article_id ORDER BY p.fetched_at DESC) = 1
        ORDER BY p.run_id, p.warc_offset
        """,
        [run_ids, run_ids or []],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def stored_articles(con: duckdb.DuckDBPyConnection, article_ids: list[str]) -> dict[str, dict[str, Any]]:
    cur = con.execute("SELECT * FROM articles WHERE article_id IN (SELECT unnest(?::VARCHAR[]))", [article_ids])
    cols = [d[0] for d in cur.description]
    return {row[0]: dict(zip(cols, row, strict=True)) for row in cur.fetchall()}


def articles_for_rescore(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None, str, str | None, float]]:
    """(article_id, title, text, language, relevance) of every stored article."""
    return con.execute("SELECT article_id, title, text, language, relevance FROM articles").fetchall()


def offtopic_pages(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The latest archived page of each extracted article that is not in `articles` (off topic, or moved out
    by an earlier rescore): what a changed topic may bring in."""
    cur = con.execute(
        """
        SELECT p.run_id, p.url, p.final_url, p.source, p.warc_file, p.warc_offset, p.content_type, p.fetched_at,
               p.article_id, p.canonical_url
        FROM pages p
        WHERE p.warc_offset IS NOT NULL AND p.article_id IS NOT NULL
          AND p.outcome IN ('off_topic', 'new', 'updated', 'unchanged')
          AND p.article_id NOT IN (SELECT article_id FROM articles)
        QUALIFY row_number() OVER (PARTITION BY p.article_id ORDER BY p.fetched_at DESC) = 1
        ORDER BY p.run_id, p.warc_offset
        """
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
