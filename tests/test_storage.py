"""DuckDB storage: migrations, atomic idempotent loads, read-only SQL, lock waits."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from storage.db import DatabaseLocked, connection, migrate, open_db, schema_version
from storage.load import load_run, start_run
from storage.queries import WriteRefused, check_read_only, known_articles, run_query

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def page(run_id: str, url: str, outcome: str = "new") -> dict:
    return {
        "run_id": run_id,
        "url": url,
        "source": "s",
        "kind": "article",
        "outcome": outcome,
        "fetched_at": NOW,
        "http_status": 200,
        "relevance_terms": ["asylum"],
    }


def article(aid: str, text: str = "body", version: int = 1) -> dict:
    return {
        "article_id": aid,
        "url": f"https://n.example/{aid}",
        "source": "s",
        "title": "T",
        "authors": ["A B"],
        "published_at": NOW,
        "language": "en",
        "text": text,
        "word_count": 1,
        "relevance": 0.9,
        "relevance_terms": ["asylum"],
        "cluster_id": aid,
        "content_hash": f"h-{text}",
        "first_seen_at": NOW,
        "last_seen_at": NOW,
        "updated_at": NOW,
        "version": version,
        "run_id": "r1",
    }


RUN = {"finished_at": NOW, "status": "completed", "duration_s": 1.0, "pages_fetched": 2, "articles_new": 2}


def test_migrations_are_recorded_and_safe_to_repeat(tmp_path: Path) -> None:
    with connection(tmp_path / "a.duckdb") as con:
        assert schema_version(con) >= 1
        assert migrate(con) == []  # nothing left to apply
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"articles", "pages", "crawl_runs", "schema_migrations"} <= tables


def test_load_is_atomic_and_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    with connection(db) as con:
        start_run(con, "r1", NOW, ["s"])
        pages = [page("r1", "https://n.example/a"), page("r1", "https://n.example/b")]
        load_run(con, "r1", pages, [article("a"), article("b")], RUN)
        load_run(con, "r1", pages, [article("a"), article("b")], RUN)  # a retried load adds nothing
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM pages").fetchone()[0] == 2
        assert con.execute("SELECT status, articles_new FROM crawl_runs").fetchone() == ("completed", 2)
        # a load that fails half-way (pages written, then an article violates NOT NULL) leaves nothing behind
        bad = [article("c"), {**article("d"), "url": None}]
        with pytest.raises(duckdb.ConstraintException):
            load_run(con, "r2", [page("r2", "https://n.example/c")], bad, RUN)
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
        assert con.execute("SELECT count(*) FROM pages WHERE run_id = 'r2'").fetchone()[0] == 0


def test_upsert_updates_and_keeps_first_seen(tmp_path: Path) -> None:
    with connection(tmp_path / "a.duckdb") as con:
        start_run(con, "r1", NOW, ["s"])
        load_run(con, "r1", [], [article("a")], RUN)
        later = {**article("a", text="new body", version=2), "first_seen_at": datetime(2030, 1, 1, tzinfo=UTC)}
        load_run(con, "r1", [], [later], RUN)
        row = con.execute("SELECT text, version, first_seen_at FROM articles").fetchone()
        assert row[0] == "new body" and row[1] == 2 and row[2] == NOW
        found = known_articles(con, ["a"], [])
        assert [k.article_id for k in found] == ["a"]
        assert known_articles(con, [], ["h-new body"])[0].article_id == "a"


def test_every_version_keeps_its_text_though_the_current_one_is_stored_once(tmp_path: Path) -> None:
    """article_versions shows each version's text as stored: across a real change, a boilerplate fix of the
    stored text, an article leaving `articles` (rescore) and a retried load; the current text lives in articles."""
    from storage.load import apply_rescore

    def versions(con: duckdb.DuckDBPyConnection) -> list[tuple]:
        return con.execute("SELECT article_id, version, text FROM article_versions ORDER BY 1, 2").fetchall()

    with connection(tmp_path / "a.duckdb") as con:
        start_run(con, "r1", NOW, ["s"])
        load_run(con, "r1", [], [article("a", "one"), article("b", "bee")], RUN)
        assert con.execute("SELECT count(*) FROM article_history WHERE text IS NOT NULL").fetchone()[0] == 0
        fixes = [{"article_id": "b", "text": "bee fixed", "word_count": 2, "content_hash": "h-bee fixed"}]
        for _ in range(2):  # the retry changes nothing
            load_run(con, "r2", [], [article("a", "two", version=2)], RUN, article_fixes=fixes)
        assert versions(con) == [("a", 1, "one"), ("a", 2, "two"), ("b", 1, "bee")]
        assert con.execute("SELECT article_id, text FROM articles ORDER BY 1").fetchall() == [
            ("a", "two"),
            ("b", "bee fixed"),
        ]
        apply_rescore(con, "r3", [], ["a"], [], RUN)  # a leaves articles, its versions stay
        assert versions(con) == [("a", 1, "one"), ("a", 2, "two"), ("b", 1, "bee")]
        assert con.execute("SELECT count(*) FROM article_history WHERE text IS NULL").fetchone()[0] == 0


def test_interrupted_runs_are_marked(tmp_path: Path) -> None:
    with connection(tmp_path / "a.duckdb") as con:
        start_run(con, "r1", NOW, ["s"])
        start_run(con, "r2", NOW, ["s"])
        assert con.execute("SELECT status FROM crawl_runs WHERE run_id = 'r1'").fetchone()[0] == "interrupted"


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM articles",
        "INSERT INTO articles (article_id) VALUES ('x')",
        "DROP TABLE articles",
        "SELECT 1; UPDATE articles SET title = 'x'",
        "COPY articles TO '/tmp/x.csv'",
        "ATTACH '/tmp/other.duckdb' AS o",
        "CREATE TABLE t AS SELECT 1",
        "INSTALL httpfs",
    ],
)
def test_writes_are_refused(sql: str) -> None:
    with pytest.raises(WriteRefused, match="refused"):
        check_read_only(sql)


def test_reads_are_allowed(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    with connection(db) as con:
        start_run(con, "r1", NOW, ["s"])
    with connection(db, read_only=True) as con:
        cols, rows = run_query(con, "SELECT run_id, status FROM crawl_runs; ")
        assert cols == ["run_id", "status"] and rows == [("r1", "running")]
        cols, rows = run_query(con, "DESCRIBE articles")
        assert "article_id" in [r[0] for r in rows]


def _hold_lock(path: str, seconds: float, ready) -> None:
    con = duckdb.connect(path)
    ready.set()
    time.sleep(seconds)
    con.close()


def test_open_waits_for_a_lock_held_by_another_process(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    with connection(db):
        pass
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(db), 1.5, ready))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(DatabaseLocked, match="locked by another process"):
            open_db(db, read_only=True, wait_s=0.2)
        t0 = time.monotonic()
        con = open_db(db, wait_s=30)  # succeeds once the other process lets go
        con.close()
        assert time.monotonic() - t0 > 0.3
    finally:
        holder.join(10)


def test_an_older_database_upgrades_in_place_without_losing_rows(tmp_path: Path) -> None:
    """A file made by an earlier version of the project (schema 3) gains versions, URLs and clusters."""
    from storage.db import MIGRATIONS_TABLE, _migration_files

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE {MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)")
    for version, name, sql in _migration_files()[:3]:
        con.execute(sql)
        con.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)", [version, name, NOW])
    con.execute(
        "INSERT INTO articles (article_id, url, source, title, text, content_hash, first_seen_at, last_seen_at, "
        "updated_at, version, run_id, cluster_id) VALUES "
        "('a1', 'https://n.example/a1', 's', 'T1', 'x', 'h1', ?, ?, ?, 2, 'r1', 'a1'), "
        "('a2', 'https://n.example/a2', 's', 'T2', 'y', 'h2', ?, ?, ?, 1, 'r1', 'a1')",
        [NOW] * 3 + [LATER] * 3,  # a1 is the earliest: it names and represents the cluster
    )
    con.close()
    with connection(db) as con:
        assert schema_version(con) >= 4
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 2
        assert con.execute("SELECT article_id, version FROM article_versions ORDER BY 1").fetchall() == [
            ("a1", 2),
            ("a2", 1),
        ]
        assert con.execute("SELECT count(*) FROM article_urls").fetchone()[0] == 2
        assert con.execute("SELECT cluster_id, size, representative_title FROM clusters").fetchall() == [
            ("a1", 2, "T1")
        ]
