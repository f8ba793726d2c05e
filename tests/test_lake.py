"""Scale-out storage: `borderwatch lake sync` publishes the DuckDB file to a DuckLake (Parquet files with a
DuckDB-file catalog, and with a real PostgreSQL catalog started here on 127.0.0.1), incrementally, with the
same tables and views, and many processes read (and write) a PostgreSQL-catalog lake at once."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import free_port, run_cli, write_sample_config
from test_docs import _example_queries

from storage import lake
from storage.db import DatabaseLocked, connection
from storage.load import apply_rescore, load_run, start_run

EXE = Path(sys.executable).parent / "borderwatch"


# -- a throwaway PostgreSQL server -----------------------------------------------------------------------------


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pytest.fail("PostgreSQL is not installed (no initdb): run `make services` (scripts/postgres.sh) first")


class Postgres:
    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="bw-pg-"))  # not under pytest's 0700 folder: postgres reads it
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # the server refuses to run as root
            shutil.chown(self.root, "postgres", "postgres")
            # runuser lives in sbin, which a non-login root shell (cron, CI with a minimal PATH) may not have
            runuser = shutil.which("runuser", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
            if runuser is None:
                pytest.fail("runuser (util-linux) is needed to start PostgreSQL as the postgres user")
            self.as_user = [runuser, "-u", "postgres", "--"]

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        data = self.root / "data"
        out = self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        if out.returncode != 0:
            pytest.fail(f"initdb failed, PostgreSQL cannot be started for the lake tests:\n{out.stdout}{out.stderr}")
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.root} -F"  # loopback only; socket in our folder; no fsync
        out = self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "-o",
            opts,
            "start",
        )
        if out.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            pytest.fail(f"PostgreSQL did not start on 127.0.0.1:{self.port}:\n{out.stdout}{out.stderr}\n{log}")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        out = self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        assert out.returncode == 0, out.stderr
        return f"postgres:dbname={name} host=127.0.0.1 port={self.port} user=postgres"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


_n = 0


@pytest.fixture(params=["duckdb", "postgres"])
def catalog(request, tmp_path: Path) -> str:
    """A new, empty lake: a DuckDB catalog file, or a database on the PostgreSQL server."""
    global _n
    if request.param == "duckdb":
        return str(tmp_path / "lake.ducklake")
    _n += 1
    return request.getfixturevalue("postgres").create_database(f"lake{_n}")


# -- helpers ---------------------------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def assert_lake_equals_db(db: Path, catalog: str) -> None:
    """Every published table and every view holds exactly the DuckDB file's rows."""
    with connection(db, read_only=True) as con:
        names = [t for t in lake.TABLES] + ["daily_counts", "clusters", "sources_health", "latest_articles"]
        expected = {n: _rows(con, f"SELECT * FROM {n} ORDER BY ALL") for n in names}
        columns = {n: [d[0] for d in con.execute(f"SELECT * FROM {n} LIMIT 0").description] for n in names}
    with lake.lake(catalog) as con:
        for n in names:
            assert [d[0] for d in con.execute(f"SELECT * FROM {n} LIMIT 0").description] == columns[n], n
            assert _rows(con, f"SELECT * FROM {n} ORDER BY ALL") == expected[n], n


def _db_diff(before: Path, after: Path) -> dict[str, tuple[int, int]]:
    """Per table: rows of `after` not in `before` (new or changed) and rows of `before` not in `after`."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{before}' AS b (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS a (READ_ONLY)")
    out = {}
    for t in lake.TABLES:
        added = con.execute(f"SELECT count(*) FROM (FROM a.{t} EXCEPT ALL FROM b.{t})").fetchone()[0]
        removed = con.execute(f"SELECT count(*) FROM (FROM b.{t} EXCEPT ALL FROM a.{t})").fetchone()[0]
        out[t] = (added, removed)
    con.close()
    return out


def _files(data: Path) -> set[Path]:
    return {p for p in data.rglob("*") if p.is_file()}


BASE = datetime(2026, 11, 1, tzinfo=UTC)


def _article(k: int, run_id: str, version: int = 1) -> dict:
    when = BASE + timedelta(hours=k)
    aid = f"{k:016x}"
    return {
        "article_id": aid,
        "url": f"https://outlet{k % 3}.example/story-{k}",
        "source": f"outlet{k % 3}",
        "title": f"Asylum story {k} v{version}",
        "authors": ["Jane Doe"],
        "published_at": when,
        "language": "en" if k % 2 else "es",
        "text": f"Asylum seekers at the border, story {k}, version {version}. " * 20,
        "word_count": 200,
        "relevance": 0.9,
        "relevance_terms": ["asylum"],
        "cluster_id": aid,
        "content_hash": f"h{k}v{version}",
        "first_seen_at": when,
        "last_seen_at": BASE + timedelta(days=30),
        "updated_at": when + timedelta(days=version - 1),
        "version": version,
        "run_id": run_id,
        "credits": [],
        "is_partial": False,
    }


def synthetic_run(db: Path, run_id: str, keys: list[int], versions: dict[int, int] | None = None) -> None:
    """One pipeline load (storage.load.load_run, as the flow calls it) of synthetic articles."""
    versions = versions or {}
    articles = [_article(k, run_id, versions.get(k, 1)) for k in keys]
    pages = [
        {"run_id": run_id, "url": a["url"], "source": a["source"], "kind": "article", "outcome": "new",
         "fetched_at": a["first_seen_at"], "http_status": 200, "article_id": a["article_id"]}
        for a in articles
    ]  # fmt: skip
    with connection(db) as con:
        start_run(con, run_id, BASE, ["outlet0", "outlet1", "outlet2"])
        run = {"finished_at": BASE + timedelta(minutes=5), "status": "completed", "duration_s": 1.0}
        load_run(con, run_id, pages, articles, run, source_runs=[{"run_id": run_id, "source": "outlet0", "fetched": 1}])


# -- the tests -------------------------------------------------------------------------------------------------


def test_sync_publishes_the_same_tables_views_and_example_answers(two_runs, catalog: str, tmp_path: Path) -> None:
    db = two_runs["db"]
    data = tmp_path / "lake-data"
    out = run_cli("lake", "sync", "--catalog", catalog, "--data-path", str(data), "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert "articles: +17 -0" in out.stdout
    assert list(data.rglob("*.parquet")), "the data are Parquet files in the data path"
    assert_lake_equals_db(db, catalog)
    # the README's example queries, unchanged, through `borderwatch sql --lake`: the same answers
    for sql in _example_queries():
        from_db = run_cli("sql", "--db", str(db), "--format", "csv", "--", sql)
        from_lake = run_cli("sql", "--lake", catalog, "--format", "csv", "--", sql)
        assert from_lake.returncode == 0, f"{sql}\n{from_lake.stderr}"
        # the same rows (SQL leaves the order of rows without ORDER BY, and of ties, to the engine)
        lake_lines, db_lines = from_lake.stdout.splitlines(), from_db.stdout.splitlines()
        assert lake_lines[0] == db_lines[0] and sorted(lake_lines) == sorted(db_lines), sql

    # a second sync adds nothing: no snapshot, no file
    files = _files(data)
    with lake.lake(catalog) as con:
        snapshot = lake.current_snapshot(con)
    again = run_cli("lake", "sync", "--catalog", catalog, "--db", str(db))
    assert again.returncode == 0, again.stderr
    assert "nothing new since the last sync" in again.stdout
    with lake.lake(catalog) as con:
        assert lake.current_snapshot(con) == snapshot
        assert lake.status(con)["syncs"] == 1
    assert _files(data) == files


def test_a_sync_after_another_pipeline_run_adds_just_its_rows(two_runs, sample_web, tmp_path: Path) -> None:
    work = tmp_path / "copy"
    config = write_sample_config(sample_web, work)
    db = work / "demo.duckdb"
    shutil.copy(two_runs["db"], db)
    catalog = str(tmp_path / "lake.ducklake")
    first = lake.sync(db, catalog, data_path=tmp_path / "lake-data")
    assert first.inserted["articles"] == 17
    before = tmp_path / "before.duckdb"
    shutil.copy(db, before)

    out = run_cli("run", "--config", str(config))
    assert out.returncode == 0, out.stderr
    expected = _db_diff(before, db)
    assert expected["crawl_runs"] == (1, 0) and expected["pages"][0] > 0  # a new run with its pages
    assert expected["articles"] == (0, 0)  # the sample site's articles did not change

    result = lake.sync(db, catalog)
    assert {t: (result.inserted.get(t, 0), result.deleted.get(t, 0)) for t in lake.TABLES} == expected
    assert result.views == []
    assert_lake_equals_db(db, catalog)


def test_new_changed_and_removed_articles_reach_the_lake(catalog: str, tmp_path: Path) -> None:
    db = tmp_path / "bw.duckdb"
    synthetic_run(db, "r1", list(range(100)))
    first = lake.sync(db, catalog, data_path=tmp_path / "data")
    assert first.inserted["articles"] == 100

    # a run with 20 new articles and 5 changed ones (version 2), then a rescore that drops 3
    synthetic_run(db, "r2", list(range(95, 120)), versions={k: 2 for k in range(95, 100)})
    with connection(db) as con:
        start_run(con, "rescore-1", BASE, [])
        run = {"finished_at": BASE, "status": "completed", "duration_s": 0.1}
        apply_rescore(con, "rescore-1", [], [f"{k:016x}" for k in (0, 1, 2)], [], run)
    result = lake.sync(db, catalog)
    assert result.inserted["articles"] == 25 and result.deleted["articles"] == 5 + 3
    assert result.inserted["article_versions"] == 25 and result.deleted["article_versions"] == 0
    assert result.inserted["crawl_runs"] == 2  # r2 and the rescore; r1 unchanged
    assert_lake_equals_db(db, catalog)
    with lake.lake(catalog) as con:
        assert _rows(con, "SELECT max(version) FROM articles") == [(2,)]
        assert _rows(con, "SELECT count(*) FROM articles") == [(117,)]
        # time travel: the lake as the first sync left it
        assert _rows(con, f"SELECT count(*), max(version) FROM articles AT (VERSION => {first.snapshot})") == [(100, 1)]
    assert not lake.sync(db, catalog).changed


def test_a_sync_killed_before_commit_leaves_the_lake_as_it_was(tmp_path: Path) -> None:
    db = tmp_path / "bw.duckdb"
    catalog = str(tmp_path / "lake.ducklake")
    synthetic_run(db, "r1", list(range(50)))
    lake.sync(db, catalog, data_path=tmp_path / "data")
    synthetic_run(db, "r2", list(range(50, 80)))
    env = dict(os.environ, BORDERWATCH_CRASH_AT="lake_sync")
    killed = subprocess.run(
        [str(EXE), "lake", "sync", "--catalog", catalog, "--db", str(db)], capture_output=True, text=True, env=env
    )
    assert killed.returncode == -signal.SIGKILL
    with lake.lake(catalog) as con:
        assert _rows(con, "SELECT count(*) FROM articles") == [(50,)]
    result = lake.sync(db, catalog)
    assert result.inserted["articles"] == 30
    assert_lake_equals_db(db, catalog)


def test_a_schema_change_adds_the_column_to_the_lake(tmp_path: Path) -> None:
    db = tmp_path / "bw.duckdb"
    catalog = str(tmp_path / "lake.ducklake")
    synthetic_run(db, "r1", list(range(10)))
    lake.sync(db, catalog, data_path=tmp_path / "data")
    with connection(db) as con:  # what a later migration might do
        con.execute("ALTER TABLE crawl_runs ADD COLUMN note VARCHAR DEFAULT 'x'")
    result = lake.sync(db, catalog)
    assert result.inserted["crawl_runs"] == 1 and result.deleted["crawl_runs"] == 1
    assert_lake_equals_db(db, catalog)


READER = """
import sys, time
from pathlib import Path
from storage import lake
catalog, stop, log = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
last = False
with log.open("w") as out:
    while True:
        done = stop.exists()  # one more read after the sync finished
        with lake.lake(catalog, wait_s=5) as con:
            con.execute("BEGIN TRANSACTION")  # both counts from one snapshot (two autocommits may straddle a sync)
            n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
            d = con.execute("SELECT sum(articles) FROM daily_counts").fetchone()[0]
            con.execute("COMMIT")
        print(time.time(), n, d, flush=True, file=out)
        if done:
            break
        time.sleep(0.05)
"""


def _start_sync(db: Path, catalog: str, pause: float) -> subprocess.Popen:
    env = dict(os.environ, BORDERWATCH_LAKE_PAUSE_S=str(pause))
    return subprocess.Popen(
        [str(EXE), "lake", "sync", "--catalog", catalog, "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_readers_and_another_writer_share_a_postgres_lake_while_a_sync_writes(postgres, tmp_path: Path) -> None:
    catalog = postgres.create_database("shared")
    db = tmp_path / "bw.duckdb"
    synthetic_run(db, "r1", list(range(200)))
    lake.sync(db, catalog, data_path=tmp_path / "data")
    synthetic_run(db, "r2", list(range(200, 500)))

    stop = tmp_path / "stop"
    t0 = time.time()
    sync = _start_sync(db, catalog, pause=5.0)  # holds its lake transaction open 4 s before COMMIT
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, catalog, str(stop), str(tmp_path / f"r{i}.log")], env=dict(os.environ))
        for i in range(2)
    ]  # fmt: skip
    time.sleep(1.5)
    # another writer commits to the same lake meanwhile, without waiting for the sync
    with lake.lake(catalog, read_only=False) as con:
        w0 = time.monotonic()
        con.execute("CREATE SCHEMA IF NOT EXISTS notes")
        con.execute("CREATE TABLE notes.reading_list AS SELECT article_id FROM articles LIMIT 5")
        wrote_s = time.monotonic() - w0
    assert sync.poll() is None, "the sync was still in its transaction when the other writer committed"
    stdout, stderr = sync.communicate(timeout=120)
    t_sync = time.time()
    assert sync.returncode == 0, stdout + stderr
    stop.touch()
    for r in readers:
        assert r.wait(60) == 0
    assert wrote_s < 3.0

    for i in range(2):
        reads = [line.split() for line in (tmp_path / f"r{i}.log").read_text().splitlines()]
        during = [(int(n), int(d)) for t, n, d in reads if t0 + 1 < float(t) < t_sync - 1]
        assert len(during) >= 2, "the readers were not blocked while the sync wrote"
        assert set(during) == {(200, 200)}  # the snapshot before the sync, whole
        assert {(int(n), int(d)) for _, n, d in reads} <= {(200, 200), (500, 500)}  # never half a sync
        assert (int(reads[-1][1]), int(reads[-1][2])) == (500, 500)
    with lake.lake(catalog) as con:
        assert _rows(con, "SELECT count(*) FROM notes.reading_list") == [(5,)]
    assert_lake_equals_db(db, catalog)


def test_two_syncs_racing_write_each_row_once(postgres, tmp_path: Path) -> None:
    catalog = postgres.create_database("race")
    db = tmp_path / "bw.duckdb"
    synthetic_run(db, "r1", list(range(100)))
    lake.sync(db, catalog, data_path=tmp_path / "data")
    synthetic_run(db, "r2", list(range(90, 160)), versions={k: 2 for k in range(90, 100)})
    slow = _start_sync(db, catalog, pause=3.0)
    time.sleep(1.0)
    fast = _start_sync(db, catalog, pause=0)
    outs = {}
    for name, p in (("fast", fast), ("slow", slow)):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, out + err
        outs[name] = out
    assert "articles: +70 -10" in outs["fast"]
    assert "nothing new since the last sync" in outs["slow"]  # lost the commit race, staged again: all there
    assert_lake_equals_db(db, catalog)
    with lake.lake(catalog) as con:
        assert lake.status(con)["syncs"] == 2


def test_a_duckdb_catalog_file_has_one_user_at_a_time(tmp_path: Path) -> None:
    """The contrast: with a DuckDB catalog file, a reader in another process waits out a sync's transaction."""
    db = tmp_path / "bw.duckdb"
    catalog = str(tmp_path / "lake.ducklake")
    synthetic_run(db, "r1", list(range(20)))
    lake.sync(db, catalog, data_path=tmp_path / "data")
    synthetic_run(db, "r2", list(range(20, 40)))
    sync = _start_sync(db, catalog, pause=3.0)
    time.sleep(1.5)
    try:
        with pytest.raises(DatabaseLocked):
            with lake.lake(catalog, wait_s=0.5):
                pass
    finally:
        sync.communicate(timeout=120)
    assert sync.returncode == 0
    with lake.lake(catalog) as con:
        assert _rows(con, "SELECT count(*) FROM articles") == [(40,)]


def test_sql_on_the_lake_is_read_only_and_a_missing_lake_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "bw.duckdb"
    catalog = str(tmp_path / "lake.ducklake")
    synthetic_run(db, "r1", list(range(5)))
    lake.sync(db, catalog, data_path=tmp_path / "data")
    out = run_cli("sql", "--lake", catalog, "DELETE FROM articles")
    assert out.returncode == 1 and "read-only" in out.stderr
    out = run_cli("sql", "--lake", str(tmp_path / "none.ducklake"), "SELECT 1")
    assert out.returncode == 1 and "lake sync" in out.stderr
    out = run_cli("lake", "status", "--catalog", catalog)
    assert out.returncode == 0 and "articles" in out.stdout and "Parquet files" in out.stdout


def test_compact_folds_the_files_syncs_leave_and_keeps_the_data(tmp_path: Path) -> None:
    db = tmp_path / "bw.duckdb"
    catalog = str(tmp_path / "lake.ducklake")
    synthetic_run(db, "r1", list(range(100)))
    lake.sync(db, catalog, data_path=tmp_path / "data")
    for i in range(2, 6):  # runs that each add articles and change some
        synthetic_run(db, f"r{i}", list(range(i * 10, i * 10 + 30)), versions={k: i for k in range(i * 10, i * 10 + 5)})
        assert lake.sync(db, catalog).deleted["articles"] > 0
    parquet = len(list((tmp_path / "data").rglob("*.parquet")))
    out = run_cli("lake", "compact", "--catalog", catalog, "--keep-days", "0")
    assert out.returncode == 0, out.stderr
    with lake.lake(catalog) as con:
        data_files, delete_files = lake._file_counts(con)
    assert delete_files == 0 and "delete files" in out.stdout
    assert len(list((tmp_path / "data").rglob("*.parquet"))) < parquet
    assert_lake_equals_db(db, catalog)
    assert not lake.sync(db, catalog).changed  # the bookkeeping survived the rewrite
    missing = run_cli("lake", "compact", "--catalog", str(tmp_path / "none.ducklake"))
    assert missing.returncode == 1 and "lake sync" in missing.stderr
