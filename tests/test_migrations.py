"""Migrations: a new file and a file at every earlier schema version end up with the same schema, rows kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from storage.db import MIGRATIONS_TABLE, _migration_files, connection, schema_version

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LATEST = _migration_files()[-1][0]


def _schema(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str, str]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall()
    return set(rows)


@pytest.fixture(scope="module")
def fresh_schema(tmp_path_factory) -> set[tuple[str, str, str]]:
    with connection(tmp_path_factory.mktemp("fresh") / "new.duckdb") as con:
        assert schema_version(con) == LATEST
        return _schema(con)


def test_an_empty_database_file_is_migrated(tmp_path: Path, fresh_schema) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()  # a valid DuckDB file with nothing in it
    with connection(path) as con:
        assert schema_version(con) == LATEST
        assert _schema(con) == fresh_schema
        names = [r[0] for r in con.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY version").fetchall()]
    assert names == [name for _, name, _ in _migration_files()]


@pytest.mark.parametrize("applied", [v for v, _, _ in _migration_files()][:-1])
def test_every_earlier_schema_upgrades_in_place(tmp_path: Path, fresh_schema, applied: int) -> None:
    """A file left by an earlier version of the project (schema `applied`) reaches the latest schema; its
    articles and runs survive, and the search index and views work on them."""
    path = tmp_path / f"schema{applied}.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE {MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)")
    for version, name, sql in _migration_files():
        if version > applied:
            break
        con.execute(sql)
        con.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)", [version, name, NOW])
    con.execute(
        "INSERT INTO crawl_runs (run_id, started_at, finished_at, status, sources) VALUES ('r1', ?, ?, 'completed', ['s'])",
        [NOW, NOW],
    )
    con.execute(
        "INSERT INTO articles (article_id, url, source, title, language, text, content_hash, published_at, "
        "first_seen_at, last_seen_at, updated_at, version, run_id, cluster_id) VALUES "
        "('a1', 'https://n.example/a1', 's', 'Asylum in Matamoros', 'en', 'Asylum seekers waited.', 'h1', ?, ?, ?, ?, "
        "1, 'r1', 'a1')",
        [NOW] * 4,
    )
    con.close()
    with connection(path) as con:
        assert schema_version(con) == LATEST
        assert _schema(con) == fresh_schema
        assert con.execute("SELECT article_id, title FROM articles").fetchall() == [("a1", "Asylum in Matamoros")]
        assert con.execute("SELECT day, source, articles FROM daily_counts").fetchall() == [(NOW.date(), "s", 1)]
        assert con.execute("SELECT count(*) FROM latest_articles").fetchone()[0] == 1
        from storage.search import refresh_index, search

        assert refresh_index(con).added == 1
        assert [h.article_id for h in search(con, "asylum")] == ["a1"]


def test_version_texts_survive_the_move_to_article_history(tmp_path: Path) -> None:
    """Schema 7 kept every version's text in article_versions; after 008 the view shows the same rows, including
    a current version whose stored text differs from the article's (a boilerplate fix), and no text is lost."""
    path = tmp_path / "schema7.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE {MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)")
    for version, name, sql in _migration_files():
        if version > 7:
            break
        con.execute(sql)
        con.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)", [version, name, NOW])
    for aid, text, version in (("a1", "second", 2), ("a2", "fixed", 1)):
        con.execute(
            "INSERT INTO articles (article_id, url, source, text, version) VALUES (?, ?, 's', ?, ?)",
            [aid, f"https://n.example/{aid}", text, version],
        )
    rows = [("a1", 1, "first"), ("a1", 2, "second"), ("a2", 1, "as fetched"), ("gone", 1, "left articles")]
    con.executemany("INSERT INTO article_versions (article_id, version, text) VALUES (?, ?, ?)", rows)
    con.close()
    with connection(path) as con:
        assert con.execute("SELECT article_id, version, text FROM article_versions ORDER BY 1, 2").fetchall() == rows
        # only the text the article row holds is not stored twice
        assert con.execute("SELECT article_id FROM article_history WHERE text IS NULL").fetchall() == [("a1",)]
