"""Opening the DuckDB file: one writer at a time, bounded waits on the file lock, ordered migrations."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TypeVar

import duckdb

log = logging.getLogger("borderwatch.storage")

MIGRATIONS_TABLE = "schema_migrations"
ROW_GROUP_SIZE = 20_480  # rows; a multiple of DuckDB's 2,048-row vector (bench/bulk_load.py measures it)
_ALIAS = "borderwatch"  # the attached file's catalog name in a writing connection


T = TypeVar("T")


class DatabaseLocked(RuntimeError):
    """Another process held the DuckDB file for longer than we were willing to wait."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def open_db(path: str | Path, *, read_only: bool = False, wait_s: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the database file, retrying while another process holds its lock.

    DuckDB lets one process write and refuses a second open at once ("Conflicting lock is held"),
    so a notebook or a `borderwatch sql` in another process must not make us fail: wait, bounded.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"no database at {path}: run `borderwatch run` or `borderwatch demo` first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)

    def attempt() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(path), read_only=True) if read_only else _attach_for_writing(path)
        con.execute("SET TimeZone = 'UTC'")  # times print and format the same on every machine
        return con

    return retry_while_locked(attempt, f"{path}", wait_s, hint=" (a running pipeline, notebook or `borderwatch sql`)")


def retry_while_locked(attempt: Callable[[], T], what: str, wait_s: float, hint: str = "") -> T:
    """Call `attempt` until no other process holds the DuckDB file it opens or attaches, bounded by `wait_s`
    (backoff from 50 ms to 1 s); DatabaseLocked after that."""
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            return attempt()
        except duckdb.Error as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseLocked(
                    f"{what} is locked by another process{hint}; gave up after {wait_s:.0f} s"
                ) from exc
            log.info("%s is locked by another process, retrying in %.2f s", what, delay)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def sql_string(text: str) -> str:
    """A SQL string literal, for the statements that take no parameters (ATTACH)."""
    return "'" + text.replace("'", "''") + "'"


def _attach_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    """The file attached with smaller row groups (a setting of the attachment, not stored in the file).

    DuckDB compresses and writes an insert's rows to the file during the statement only for full row groups;
    rows short of one wait for the commit, go through the WAL or an automatic checkpoint, and are appended
    to the table's last, partly filled row group, which that checkpoint then rewrites whole. With 122,880-row
    groups a run of 100,000 articles is all tail; with ROW_GROUP_SIZE rows it is almost all full groups."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {sql_string(str(path))} AS {_ALIAS} (ROW_GROUP_SIZE {ROW_GROUP_SIZE})")
        con.execute(f"USE {_ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A second connection to `con`'s database (for another thread), looking at the same catalog and schema: a
    writing connection attaches the file under its own name and USEs it, which a plain cursor does not inherit."""
    catalog, schema = con.execute("SELECT current_database(), current_schema()").fetchone()
    other = con.cursor()
    try:
        other.execute(f"USE {_identifier(catalog)}.{_identifier(schema)}")
    except BaseException:
        other.close()
        raise
    return other


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def connection(
    path: str | Path, *, read_only: bool = False, wait_s: float = 30.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is closed on exit, so the file lock is held only as long as needed."""
    con = open_db(path, read_only=read_only, wait_s=wait_s)
    try:
        if not read_only:
            migrate(con)
        yield con
    finally:
        con.close()


def _migration_files() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this file has not seen yet, each in its own transaction; returns their names."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute(f"SELECT version FROM {MIGRATIONS_TABLE}").fetchall()}
    applied = []
    for version, name, sql in _migration_files():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)", [version, name, datetime.now(UTC)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        log.info("applied migration %s", name)
        applied.append(name)
    return applied


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT max(version) FROM {MIGRATIONS_TABLE}").fetchone()
    return int(row[0] or 0)
