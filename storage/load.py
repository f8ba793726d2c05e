"""Loading one run: bulk inserts through Arrow, all in one short transaction.

The flow prepares every row before it opens the database, so the file lock is held only for this load;
a run killed before COMMIT leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from storage.faults import crash_point
from storage.near_dup import MinhashRows, write_index

_TS = pa.timestamp("us", tz="UTC")

PAGE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("url", pa.string()),
        ("final_url", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("http_status", pa.int32()),
        ("outcome", pa.string()),
        ("reason", pa.string()),
        ("fetched_at", _TS),
        ("content_type", pa.string()),
        ("canonical_url", pa.string()),
        ("article_id", pa.string()),
        ("title", pa.string()),
        ("relevance", pa.float64()),
        ("relevance_terms", pa.list_(pa.string())),
        ("warc_file", pa.string()),
        ("warc_offset", pa.int64()),
    ]
)

ARTICLE_SCHEMA = pa.schema(
    [
        ("article_id", pa.string()),
        ("url", pa.string()),
        ("source", pa.string()),
        ("title", pa.string()),
        ("authors", pa.list_(pa.string())),
        ("published_at", _TS),
        ("modified_at", _TS),
        ("language", pa.string()),
        ("text", pa.string()),
        ("word_count", pa.int32()),
        ("relevance", pa.float64()),
        ("relevance_terms", pa.list_(pa.string())),
        ("cluster_id", pa.string()),
        ("content_hash", pa.string()),
        ("first_seen_at", _TS),
        ("last_seen_at", _TS),
        ("updated_at", _TS),
        ("version", pa.int32()),
        ("run_id", pa.string()),
        ("credits", pa.list_(pa.string())),
        ("is_partial", pa.bool_()),
    ]
)

URL_STATE_SCHEMA = pa.schema(
    [
        ("url_key", pa.string()),
        ("url", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("etag", pa.string()),
        ("last_modified", pa.string()),
        ("lastmod", _TS),
        ("http_status", pa.int32()),
        ("outcome", pa.string()),
        ("failed", pa.bool_()),
        ("fetched_at", _TS),
        ("run_id", pa.string()),
    ]
)

BOILERPLATE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("line_key", pa.string()),
        ("line", pa.string()),
        ("articles", pa.int32()),
        ("seen_at", _TS),
    ]
)
FIX_SCHEMA = pa.schema(
    [("article_id", pa.string()), ("text", pa.string()), ("word_count", pa.int32()), ("content_hash", pa.string())]
)

SOURCE_RUN_COUNTS = (
    "discovered",
    "skipped_known",
    "offsite",
    "over_limit",
    "fetched",
    "not_modified",
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "articles_duplicate",
    "articles_offtopic",
    "not_articles",
    "errors",
)
SOURCE_RUN_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("source", pa.string()),
        *((c, pa.int32()) for c in SOURCE_RUN_COUNTS),
        ("crawl_s", pa.float64()),
    ]
)

ARTICLE_URL_SCHEMA = pa.schema(
    [("article_id", pa.string()), ("url", pa.string()), ("source", pa.string()), ("seen_at", _TS)]
)

RUN_COUNTS = (
    "pages_fetched",
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "articles_duplicate",
    "articles_offtopic",
    "not_articles",
    "errors",
    "skipped_known",
    "not_modified",
)


def _table(rows: Iterable[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    rows = list(rows)
    return pa.table({name: [r.get(name) for r in rows] for name in schema.names}, schema=schema)


# Copies the current text of the articles {ids} selects into their current version's article_history row, where
# it is still NULL: run before that text changes or the article row goes. (A SQL text, not a function, so the
# Arrow tables it names are found in the caller's frame.)
_KEEP_VERSION_TEXTS = """
    UPDATE article_history AS h SET text = a.text
    FROM articles AS a
    WHERE a.article_id IN ({ids}) AND h.article_id = a.article_id AND h.version = a.version AND h.text IS NULL
"""


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, started_at: datetime, sources: list[str]) -> None:
    """Record a run as started; runs left 'running' by a killed process are marked 'interrupted'."""
    con.execute("BEGIN TRANSACTION")
    con.execute(
        "UPDATE crawl_runs SET status = 'interrupted', message = 'process ended before the load' "
        "WHERE status = 'running' AND run_id <> ?",
        [run_id],
    )
    con.execute(
        "INSERT INTO crawl_runs (run_id, started_at, status, sources) VALUES (?, ?, 'running', ?) "
        "ON CONFLICT (run_id) DO NOTHING",
        [run_id, started_at, sources],
    )
    con.execute("COMMIT")


def load_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    pages: list[dict[str, Any]],
    articles: list[dict[str, Any]],
    run: dict[str, Any],
    url_states: list[dict[str, Any]] | None = None,
    source_runs: list[dict[str, Any]] | None = None,
    boilerplate: list[dict[str, Any]] | None = None,
    article_fixes: list[dict[str, Any]] | None = None,
    article_urls: list[dict[str, Any]] | None = None,
    minhash: MinhashRows | None = None,
) -> None:
    """Write a run's pages, articles, crawl state and per-source figures and close its crawl_runs row,
    atomically and idempotently (a retried load of the same run changes nothing)."""
    page_table = _table(pages, PAGE_SCHEMA)  # noqa: F841 - read by DuckDB through the replacement scan
    article_table = _table(articles, ARTICLE_SCHEMA)  # noqa: F841
    state_table = _table(url_states or [], URL_STATE_SCHEMA)  # noqa: F841
    source_table = _table(source_runs or [], SOURCE_RUN_SCHEMA)  # noqa: F841
    boilerplate_table = _table(boilerplate or [], BOILERPLATE_SCHEMA)  # noqa: F841
    fix_table = _table(article_fixes or [], FIX_SCHEMA)  # noqa: F841
    url_table = _table(article_urls or [], ARTICLE_URL_SCHEMA)  # noqa: F841
    cols = ", ".join(ARTICLE_SCHEMA.names)
    updates = ", ".join(f"{c} = excluded.{c}" for c in ARTICLE_SCHEMA.names if c not in ("article_id", "first_seen_at"))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"INSERT OR REPLACE INTO pages ({', '.join(PAGE_SCHEMA.names)}) SELECT * FROM page_table")
        # a changed article's current version keeps its text in article_history before articles gets the new one
        if any((a.get("version") or 1) > 1 for a in articles):  # the statement costs a scan even when idle
            con.execute(
                _KEEP_VERSION_TEXTS.format(
                    ids="SELECT n.article_id FROM article_table AS n JOIN articles AS o USING (article_id) "
                    "WHERE n.version > 1 AND n.version <> o.version"
                )
            )
        con.execute(
            f"INSERT INTO articles ({cols}) SELECT {cols} FROM article_table "
            f"ON CONFLICT (article_id) DO UPDATE SET {updates}"
        )
        # a new article or a real change is a version; an unchanged re-fetch is not (its version exists). Its
        # text is the article's current text, stored once in articles (article_history.text stays NULL)
        con.execute(
            "INSERT INTO article_history SELECT article_id, version, updated_at, title, NULL, content_hash, run_id "
            "FROM article_table ON CONFLICT DO NOTHING"
        )
        con.execute(
            "INSERT INTO article_urls SELECT article_id, url, source, seen_at, seen_at FROM url_table "
            "ON CONFLICT (article_id, url) DO UPDATE SET last_seen_at = excluded.last_seen_at"
        )
        # validators and lastmod survive a response that lacks them (a 304, a failure); a success resets the
        # failure count, a failure in a new run adds one
        con.execute(
            """
            INSERT INTO url_state
            SELECT url_key, url, source, kind, etag, last_modified, lastmod, http_status, outcome,
                   CASE WHEN failed THEN 1 ELSE 0 END, fetched_at, fetched_at, run_id
            FROM state_table
            ON CONFLICT (url_key) DO UPDATE SET
                url = excluded.url, source = excluded.source, kind = excluded.kind,
                etag = coalesce(excluded.etag, url_state.etag),
                last_modified = coalesce(excluded.last_modified, url_state.last_modified),
                lastmod = greatest(excluded.lastmod, url_state.lastmod),
                http_status = excluded.http_status, outcome = excluded.outcome,
                fail_count = CASE WHEN excluded.fail_count = 0 THEN 0
                                  WHEN url_state.run_id = excluded.run_id THEN url_state.fail_count
                                  ELSE url_state.fail_count + 1 END,
                last_fetched_at = excluded.last_fetched_at, run_id = excluded.run_id
            """
        )
        # boilerplate statistics grow by the new articles' lines; lines that became boilerplate leave the
        # stored texts too (article_fixes)
        con.execute(
            """
            INSERT INTO boilerplate_lines
            SELECT source, line_key, line, articles, seen_at, seen_at FROM boilerplate_table
            ON CONFLICT (source, line_key) DO UPDATE SET
                articles = boilerplate_lines.articles + excluded.articles, last_seen_at = excluded.last_seen_at
            """
        )
        if article_fixes:
            con.execute(_KEEP_VERSION_TEXTS.format(ids="SELECT article_id FROM fix_table"))
        con.execute(
            "UPDATE articles SET text = f.text, word_count = f.word_count, content_hash = f.content_hash "
            "FROM fix_table AS f WHERE articles.article_id = f.article_id"
        )
        if minhash is not None:
            write_index(con, minhash)
        crash_point("load")  # recovery tests: killed here, nothing of the run may be visible afterwards
        cols = ", ".join(SOURCE_RUN_SCHEMA.names)
        con.execute(f"INSERT OR REPLACE INTO source_runs ({cols}) SELECT {cols} FROM source_table")
        con.execute(
            "UPDATE crawl_runs SET finished_at = ?, status = ?, duration_s = ?, message = ?, report = ?, "
            + ", ".join(f"{c} = ?" for c in RUN_COUNTS)
            + " WHERE run_id = ?",
            [run["finished_at"], run["status"], run["duration_s"], run.get("message"), run.get("report")]
            + [int(run.get(c, 0)) for c in RUN_COUNTS]
            + [run_id],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, finished_at: datetime, message: str) -> None:
    con.execute(
        "UPDATE crawl_runs SET finished_at = ?, status = 'failed', message = ? WHERE run_id = ?",
        [finished_at, message, run_id],
    )


RESCORE_SCHEMA = pa.schema(
    [("article_id", pa.string()), ("relevance", pa.float64()), ("relevance_terms", pa.list_(pa.string()))]
)


def apply_rescore(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    rescored: list[dict[str, Any]],
    moved_out: list[str],
    moved_in: list[dict[str, Any]],
    run: dict[str, Any],
) -> None:
    """A topic change, atomically: new scores for the articles that stay, the ones that fall below the
    threshold leave `articles` (their pages and raw archive stay, so a later rescore can bring them back),
    the ones that rise above it come in."""
    score_table = _table(rescored, RESCORE_SCHEMA)  # noqa: F841 - read by DuckDB through the replacement scan
    new_table = _table(moved_in, ARTICLE_SCHEMA)  # noqa: F841
    cols = ", ".join(ARTICLE_SCHEMA.names)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "UPDATE articles SET relevance = s.relevance, relevance_terms = s.relevance_terms "
            "FROM score_table AS s WHERE articles.article_id = s.article_id"
        )
        con.execute(_KEEP_VERSION_TEXTS.format(ids="SELECT unnest(?::VARCHAR[])"), [moved_out])
        con.execute("DELETE FROM articles WHERE article_id IN (SELECT unnest(?::VARCHAR[]))", [moved_out])
        con.execute(f"INSERT INTO articles ({cols}) SELECT {cols} FROM new_table ON CONFLICT DO NOTHING")
        con.execute(
            "INSERT INTO article_history SELECT article_id, version, updated_at, title, NULL, content_hash, run_id "
            "FROM new_table ON CONFLICT DO NOTHING"
        )
        con.execute(
            "UPDATE crawl_runs SET finished_at = ?, status = ?, duration_s = ?, message = ?, articles_new = ? "
            "WHERE run_id = ?",
            [run["finished_at"], run["status"], run["duration_s"], run.get("message"), len(moved_in), run_id],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
