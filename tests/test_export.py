"""`borderwatch export`: what is written reads back, with DuckDB, equal to what is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli

from storage.db import connection
from storage.export import export
from storage.load import load_run, start_run

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RUN = {"finished_at": NOW, "status": "completed", "duration_s": 1.0}


def _article(i: int, month: int, lang: str, source: str) -> dict:
    aid = f"a{i:03d}"
    published = datetime(2026, month, 1 + i % 27, 8, tzinfo=UTC)
    return {
        "article_id": aid,
        "url": f"https://n.example/{aid}",
        "source": source,
        "title": f'Título "{i}", with commas; and quotes',
        "authors": ["Ana Ruiz", "Jane Doe"] if i % 2 else [],
        "credits": ["EFE"] if i % 3 == 0 else None,
        "published_at": None if i % 10 == 0 else published,
        "language": lang,
        "text": f"Line one of {i}.\nLínea dos, niño; ¿asilo?",
        "word_count": 8,
        "relevance": 0.5 + i / 1000,
        "relevance_terms": ["asylum(title)", "CBP"],
        "cluster_id": f"a{i - i % 3:03d}",
        "content_hash": f"h{i}",
        "first_seen_at": published,
        "last_seen_at": NOW,
        "updated_at": NOW,
        "version": 1,
        "run_id": "r1",
        "is_partial": i % 7 == 0,
    }


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export") / "e.duckdb"
    with connection(path) as con:
        start_run(con, "r1", NOW, ["x"])
        rows = [_article(i, 9 + i % 3, "es" if i % 2 else "en", f"s{i % 2}") for i in range(60)]
        load_run(con, "r1", [], rows, RUN)
        load_run(con, "r1", [], [{**rows[5], "text": "changed", "version": 2, "content_hash": "h5b"}], RUN)
    return path


def _source(db: Path, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
    with connection(db, read_only=True) as con:
        cur = con.execute(sql, params or [])
        return [d[0] for d in cur.description], cur.fetchall()


def _read(sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.execute(sql, params or []).fetchall()


def _types(db: Path, table: str) -> dict[str, str]:
    with connection(db, read_only=True) as con:
        return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


@pytest.mark.parametrize("by_month", [False, True])
def test_parquet_round_trip(db: Path, tmp_path: Path, by_month: bool) -> None:
    with connection(db, read_only=True) as con:
        counts = export(con, tmp_path, "parquet", versions=True, clusters=True, by_month=by_month)
    cols, want = _source(db, "SELECT * FROM articles ORDER BY article_id")
    assert counts == {"articles": 60, "versions": 61, "clusters": 20}
    if by_month:
        months = sorted(p.name for p in (tmp_path / "articles").iterdir())
        assert months == ["month=2026-09", "month=2026-10", "month=2026-11"]
        got = _read(
            f"SELECT {', '.join(cols)} FROM read_parquet(?, hive_partitioning = true) ORDER BY article_id",
            [str(tmp_path / "articles" / "*" / "*.parquet")],
        )
    else:
        got = _read("SELECT * FROM read_parquet(?) ORDER BY article_id", [str(tmp_path / "articles.parquet")])
    assert got == want
    versions = tmp_path / ("versions/*/*.parquet" if by_month else "versions.parquet")
    got_v = _read(
        "SELECT article_id, version, text FROM read_parquet(?, hive_partitioning = true) ORDER BY 1, 2",
        [str(versions)],
    )
    assert got_v == _source(db, "SELECT article_id, version, text FROM article_versions ORDER BY 1, 2")[1]
    got_c = _read("SELECT * FROM read_parquet(?) ORDER BY cluster_id", [str(tmp_path / "clusters.parquet")])
    assert got_c == _source(db, "SELECT * FROM clusters ORDER BY cluster_id")[1]


@pytest.mark.parametrize(("fmt", "reader"), [("csv", "read_csv"), ("jsonl", "read_json")])
def test_csv_and_jsonl_round_trip(db: Path, tmp_path: Path, fmt: str, reader: str) -> None:
    with connection(db, read_only=True) as con:
        export(con, tmp_path, fmt, lang="es", since=date(2026, 10, 1))
    types = _types(db, "articles")
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in types.items()) + "}"
    extra = ", header = true" if fmt == "csv" else ""
    got = _read(
        f"SELECT * FROM {reader}(?, columns = {columns}{extra}) ORDER BY article_id",
        [str(tmp_path / f"articles.{fmt}")],
    )
    _, want = _source(
        db,
        "SELECT * FROM articles WHERE language = 'es' AND coalesce(published_at, first_seen_at) >= ? "
        "ORDER BY article_id",
        [datetime(2026, 10, 1, tzinfo=UTC)],
    )
    assert 0 < len(want) < 60 and got == want


def test_the_command_filters_by_source_and_splits_large_parquet_by_month(db: Path, tmp_path: Path) -> None:
    out = run_cli(
        "export",
        "--db",
        str(db),
        "--format",
        "parquet",
        "--out",
        str(tmp_path / "x"),
        "--source",
        "s1",
        "--by-month",
        "--versions",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("articles 30, versions 31")  # article a005 has two versions
    got = _read("SELECT DISTINCT source FROM read_parquet(?)", [str(tmp_path / "x" / "articles" / "*" / "*.parquet")])
    assert got == [("s1",)]
    bad = run_cli("export", "--db", str(db), "--format", "xml", "--out", str(tmp_path / "y"))
    assert bad.returncode == 2 and "xml" in bad.stderr
