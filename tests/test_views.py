"""The everyday views (migration 007) against a database the pipeline built from the sample site."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture(scope="module")
def db(two_runs) -> Path:
    """The database the sample site's two pipeline runs built (conftest.two_runs)."""
    return two_runs["db"]


def _q(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def test_daily_counts_add_up_to_the_articles(db: Path) -> None:
    assert _q(db, "SELECT sum(articles) FROM daily_counts") == _q(db, "SELECT count(*) FROM articles")
    per_source = dict(_q(db, "SELECT source, sum(articles) FROM daily_counts GROUP BY source"))
    assert per_source == dict(_q(db, "SELECT source, count(*) FROM articles GROUP BY source"))
    # one row per day, source and language
    assert _q(db, "SELECT count(*) FROM (SELECT DISTINCT day, source, language FROM daily_counts)") == _q(
        db, "SELECT count(*) FROM daily_counts"
    )
    assert {r[0] for r in _q(db, "SELECT DISTINCT language FROM daily_counts")} == {"en", "es"}


def test_sources_health(db: Path) -> None:
    rows = {r[0]: r[1:] for r in _q(db, "SELECT * FROM sources_health")}
    assert set(rows) == {"frontera-times", "diario-del-norte", "valley-courier"}
    for runs, last_run, last_success, per_run, error_rate, failing, articles in rows.values():
        assert runs == 2 and last_success is not None and last_success >= last_run
        assert 0 < error_rate < 0.5  # the sample site has deliberate 404s, 500s and loops in every outlet
        assert failing >= 0 and articles > 0
        assert per_run == articles / 2  # all new in the first run, none in the second
    # the error rate is the share of requested URLs that failed
    (want,) = _q(
        db,
        "SELECT count(*) FILTER (WHERE outcome IN ('http_error', 'error', 'blocked')) / count(*) FROM pages "
        "WHERE source = 'valley-courier' AND outcome <> 'robots'",
    )[0]
    assert rows["valley-courier"][4] == pytest.approx(want)


def test_latest_articles_newest_first(db: Path) -> None:
    rows = _q(db, "SELECT published_at, article_id FROM latest_articles")
    assert len(rows) == _q(db, "SELECT count(*) FROM articles")[0][0]
    assert rows == sorted(rows, key=lambda r: (-r[0].timestamp(), r[1]))


def test_clusters_view_is_unchanged(db: Path) -> None:
    assert _q(db, "SELECT sum(size) FROM clusters") == _q(db, "SELECT count(*) FROM articles")
