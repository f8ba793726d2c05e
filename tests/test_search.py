"""Full-text search: BM25 ranking, English and Spanish stemming, filters, incremental refresh, hostile input,
and the `borderwatch search` command against a database the pipeline built from the sample site."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import run_cli

from storage.db import connection
from storage.load import apply_rescore, load_run, start_run
from storage.search import index_lag, index_size, refresh_index, search

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
RUN = {"finished_at": NOW, "status": "completed", "duration_s": 1.0}

DOCS = {
    "a1": ("en", "frontera", "Asylum seekers wait in Matamoros", "Hundreds of asylum seekers waited in Matamoros."),
    "a2": ("en", "valley", "Border Patrol reports fewer crossings", "Agents reported fewer crossings near Yuma."),
    "a3": ("es", "diario", "Migración en la frontera", "Las migraciones aumentan; los migrantes esperan asilo."),
    "a4": ("en", "valley", "Court blocks asylum rule", "A judge blocked the asylum rule. The asylum rule was new."),
    "a5": ("es", "diario", "Caravana llega a Tijuana", "La caravana de migrantes llegó a Tijuana el martes."),
}


def _article(aid: str, lang: str, source: str, title: str, text: str, published: datetime = NOW) -> dict:
    return {
        "article_id": aid,
        "url": f"https://n.example/{aid}",
        "source": source,
        "title": title,
        "published_at": published,
        "language": lang,
        "text": text,
        "word_count": len(text.split()),
        "relevance": 0.9,
        "relevance_terms": ["asylum"],
        "cluster_id": aid,
        "content_hash": f"h-{aid}-{text}",
        "first_seen_at": NOW,
        "last_seen_at": NOW,
        "updated_at": NOW,
        "version": 1,
        "run_id": "r1",
    }


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "s.duckdb"
    with connection(path) as con:
        start_run(con, "r1", NOW, ["x"])
        rows = [_article(aid, *fields) for aid, fields in DOCS.items()]
        rows[1]["published_at"] = datetime(2026, 1, 5, tzinfo=UTC)  # a2 is old: --since leaves it out
        load_run(con, "r1", [], rows, RUN)
        refresh_index(con)
    return path


def _ids(path: Path, query: str, **kw) -> list[str]:
    with connection(path, read_only=True) as con:
        return [h.article_id for h in search(con, query, **kw)]


def test_ranks_by_bm25_and_stems_both_languages(db: Path) -> None:
    # the article with both words, in its title too, first; one-word matches after
    assert _ids(db, "asylum Matamoros")[0] == "a1"
    assert set(_ids(db, "asylum Matamoros")) == {"a1", "a4"}
    assert _ids(db, "crossing") == ["a2"]  # English stemming: crossings → cross
    # Spanish stemming and accents: migración, migraciones and migracion are one term
    assert _ids(db, "migracion") == ["a3"]
    assert _ids(db, "MIGRACIONES") == ["a3"]
    assert set(_ids(db, "migrantes")) == {"a3", "a5"}


def test_filters(db: Path) -> None:
    assert _ids(db, "migrantes", lang="en") == []
    assert set(_ids(db, "migrantes", lang="es")) == {"a3", "a5"}
    assert _ids(db, "asylum", source="frontera") == ["a1"]
    assert "a2" not in _ids(db, "crossings border", since=date(2026, 6, 1))
    assert _ids(db, "crossings border", since=date(2026, 1, 1)) == ["a2"]
    assert len(_ids(db, "asylum", limit=1)) == 1


def test_snippet_shows_the_matching_words(db: Path) -> None:
    with connection(db, read_only=True) as con:
        (hit,) = search(con, "yuma")
    assert "Yuma" in hit.snippet and hit.title == "Border Patrol reports fewer crossings"


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE articles; --",
        "asylum' OR '1'='1",
        'x"); DELETE FROM search_docs; SELECT ("',
        "SELECT * FROM articles; UPDATE articles SET title = 'x'",
        "$query $limit ? ?::VARCHAR",
        "",
        "   ;;; ''' ",
    ],
)
def test_hostile_queries_are_plain_words(db: Path, query: str) -> None:
    with connection(db, read_only=True) as con:
        search(con, query)
    with connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM search_docs").fetchone()[0] == 5
        assert con.execute("SELECT count(*) FROM articles WHERE title = 'x'").fetchone()[0] == 0
    # the words in them are still searched as words
    assert _ids(db, "asylum' OR '1'='1")[0] in {"a1", "a4"}


def test_refresh_follows_changes_and_removals(db: Path) -> None:
    with connection(db) as con:
        stats = refresh_index(con)
        assert (stats.added, stats.removed) == (0, 0)  # nothing new: nothing done
        changed = {
            **_article("a2", "en", "valley", "Crossings fall", "Smugglers moved to Sasabe instead."),
            "version": 2,
        }
        load_run(con, "r2", [], [changed, _article("a6", "en", "new", "Sasabe gate", "A gate at Sasabe opened.")], RUN)
        start_run(con, "r3", NOW, ["x"])
        apply_rescore(con, "r3", [], ["a4"], [], RUN)  # a4 leaves the articles table
        stats = refresh_index(con)
        assert (stats.added, stats.removed) == (2, 2)
        assert index_lag(con) == 0
    assert set(_ids(db, "sasabe")) == {"a2", "a6"}
    assert _ids(db, "yuma") == []  # the old text of a2 is no longer found
    assert "a4" not in _ids(db, "asylum rule")


def test_many_small_refreshes_merge_and_rank_like_one_build(tmp_path: Path) -> None:
    inc, full = tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    words = "asylum border court shelter bridge caravan judge visa patrol".split()
    rows = [
        _article(f"d{i:02d}", "en", f"s{i % 3}", f"Story {words[i % 9]}", " ".join(words[: 1 + i % 9]) * (1 + i % 4))
        for i in range(40)
    ]
    with connection(inc) as con:
        for i in range(0, 40, 2):  # 20 runs of 2 articles: segments pile up and are merged
            load_run(con, f"r{i}", [], rows[i : i + 2], RUN)
            refresh_index(con)
        assert index_size(con)["segments"] <= 10
    with connection(full) as con:
        load_run(con, "r", [], rows, RUN)
        refresh_index(con)
    for q in ("asylum", "court visa", "caravan judge patrol"):
        with connection(inc, read_only=True) as a, connection(full, read_only=True) as b:
            got = [(h.article_id, round(h.score, 9)) for h in search(a, q, limit=40)]
            want = [(h.article_id, round(h.score, 9)) for h in search(b, q, limit=40)]
        assert got == want


@pytest.fixture(scope="module")
def pipeline_db(two_runs) -> Path:
    """The database the sample site's two pipeline runs built (conftest.two_runs)."""
    return two_runs["db"]


def test_a_run_indexes_what_it_loads_and_the_command_prints_ranked_hits(pipeline_db: Path) -> None:
    with connection(pipeline_db, read_only=True) as con:
        n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert con.execute("SELECT count(*) FROM search_docs").fetchone()[0] == n > 0
        (title,) = con.execute(
            "SELECT title FROM articles WHERE language = 'es' ORDER BY article_id LIMIT 1"
        ).fetchone()
    out = run_cli("search", title, "--db", str(pipeline_db), "--lang", "es", "--limit", "3")
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    assert first.startswith(" 1. [") and title in first
    hostile = run_cli("search", "'; DROP TABLE articles; -- asylum", "--db", str(pipeline_db))
    assert hostile.returncode == 0, hostile.stderr
    with connection(pipeline_db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == n
    none = run_cli("search", "zzzyzzx", "--db", str(pipeline_db))
    assert none.returncode == 0 and "no matching articles" in none.stdout
