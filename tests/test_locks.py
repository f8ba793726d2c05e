"""Reading while the pipeline writes, with real processes: DuckDB lets one process hold the file, so readers
and the pipeline each hold it briefly and wait (bounded) for the other."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from conftest import run_cli, write_sample_config

from storage.db import connection


def _hold(path: str, read_only: bool, seconds: float, ready) -> None:
    con = duckdb.connect(path, read_only=read_only)
    ready.set()
    time.sleep(seconds)
    con.close()


def _holder(db: Path, read_only: bool, seconds: float):
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(db), read_only, seconds, ready))
    proc.start()
    assert ready.wait(30)
    return proc


def test_a_run_waits_for_a_reader_that_holds_the_file(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path)
    db = tmp_path / "demo.duckdb"
    with connection(db):
        pass
    reader = _holder(db, read_only=True, seconds=4.0)  # a notebook that keeps its connection open a while
    t0 = time.monotonic()
    try:
        out = run_cli("run", "--config", str(config))
    finally:
        reader.join(30)
    assert out.returncode == 0, out.stdout + out.stderr
    assert time.monotonic() - t0 >= 3.5  # it waited for the reader instead of failing
    with connection(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 17


def test_readers_polling_during_a_run_see_before_or_after_never_half(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path)
    db = tmp_path / "demo.duckdb"
    with connection(db):
        pass
    exe = Path(sys.executable).parent / "borderwatch"
    run = subprocess.Popen(
        [str(exe), "run", "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ)
    )
    seen: list[str] = []
    while run.poll() is None:
        out = run_cli("sql", "SELECT count(*) FROM articles", "--db", str(db), "--format", "csv", "--wait", "120")
        assert out.returncode == 0, out.stderr
        seen.append(out.stdout.splitlines()[1])
    stdout, stderr = run.communicate(30)
    assert run.returncode == 0, stdout.decode() + stderr.decode()
    assert len(seen) >= 2  # the readers really ran during the run
    assert set(seen) <= {"0", "17"}  # the load is one transaction: nothing in between is ever visible
    final = run_cli("sql", "SELECT count(*) FROM articles", "--db", str(db), "--format", "csv")
    assert final.stdout.splitlines()[1] == "17"


def test_sql_gives_up_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    with connection(db):
        pass
    writer = _holder(db, read_only=False, seconds=5.0)  # a pipeline in its load transaction
    try:
        t0 = time.monotonic()
        out = run_cli("sql", "SELECT 1", "--db", str(db), "--wait", "1")
        waited = time.monotonic() - t0
        search = run_cli("search", "asylum", "--db", str(db), "--wait", "1")
    finally:
        writer.join(30)
    assert out.returncode == 1 and "locked by another process" in out.stderr and "gave up after 1 s" in out.stderr
    assert "Traceback" not in out.stderr and waited >= 1
    assert search.returncode == 1 and "locked by another process" in search.stderr
    assert run_cli("sql", "SELECT 1", "--db", str(db)).returncode == 0  # once the writer is gone
