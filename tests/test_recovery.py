"""A run killed with SIGKILL while it cleans or while it loads leaves the database as it was, and the next run
completes the work: one row per article, one version per article, one signature per article.
(Killing during the crawl is tested in test_pipeline.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli, write_sample_config

from flows import near_dup
from storage.faults import ENV as CRASH_ENV


def _q(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _start(config: Path, **env: str) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "borderwatch"
    return subprocess.Popen(
        [str(exe), "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the CLI, the crawler and the cleaning workers
        env={**os.environ, **env},
    )


def _cleaning_workers(group: int) -> list[int]:
    """Pids of the run's process-pool workers (spawned with multiprocessing's spawn_main)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[2]) == group and b"spawn_main" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


def _assert_nothing_loaded(db: Path) -> None:
    assert _q(db, "SELECT status FROM crawl_runs") == [("running",)]
    for table in ("articles", "article_versions", "article_urls", "pages", "url_state", "article_minhash"):
        assert _q(db, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert _q(db, "SELECT count(*) FROM minhash_bands") == [(0,)]


def _assert_completed_once(db: Path, config: Path) -> None:
    again = run_cli("run", "--config", str(config))
    assert again.returncode == 0, again.stdout + again.stderr
    assert _q(db, "SELECT status FROM crawl_runs ORDER BY started_at") == [("interrupted",), ("completed_with_errors",)]
    assert _q(db, "SELECT count(*), count(DISTINCT url), count(DISTINCT article_id) FROM articles") == [(17, 17, 17)]
    assert _q(db, "SELECT count(*), max(version) FROM article_versions") == [(17, 1)]
    assert _q(db, "SELECT count(*), count(DISTINCT doc) FROM article_minhash") == [(17, 17)]
    assert _q(db, "SELECT count(*) FROM minhash_bands") == [(17 * near_dup.BANDS,)]
    assert _q(db, "SELECT count(*) FROM articles ANTI JOIN article_minhash USING (article_id)") == [(0,)]


def test_killed_while_cleaning(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path)
    db = tmp_path / "demo.duckdb"
    proc = _start(config)
    deadline = time.monotonic() + 180
    while not _cleaning_workers(proc.pid):
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the run never reached the cleaning pool: " + proc.stderr.read().decode()[-2000:])
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its cleaning workers, mid-stage
    proc.wait(30)
    _assert_nothing_loaded(db)
    _assert_completed_once(db, config)


def test_killed_inside_the_load_transaction(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path)
    db = tmp_path / "demo.duckdb"
    proc = _start(config, **{CRASH_ENV: "load"})  # SIGKILL after the articles and signatures are written
    try:
        assert proc.wait(300) == -signal.SIGKILL
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything the CLI left behind
        except ProcessLookupError:
            pass
    assert "crash point 'load' reached" in proc.stderr.read().decode()
    _assert_nothing_loaded(db)
    _assert_completed_once(db, config)
