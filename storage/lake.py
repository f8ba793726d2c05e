"""Scale-out storage: publish the pipeline's tables to a DuckLake (Parquet data files, metadata in a catalog
database: PostgreSQL for many readers and writers at once, or a DuckDB file), incrementally.

A sync compares every source row's hash with the hash it had at the last sync (kept in the lake, schema
`borderwatch_sync`, one table per published table: key columns and `row_hash`), then, in one DuckLake
transaction, deletes the lake rows that changed or left and inserts the new and changed ones. Articles change
in place (version, `last_seen_at`, scores, boilerplate fixes), so a watermark on ids or versions alone would
miss changes; the hash catches every one. A rerun with nothing new writes nothing at all (no snapshot).
The DuckDB file is held (read-only) only while the changes are staged, not while Parquet is written.

The extensions come from the `duckdb-extension-ducklake` and `duckdb-extension-postgres-scanner` wheels and
are loaded from their files: nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from storage.db import retry_while_locked, sql_string
from storage.faults import crash_point

# published tables and their keys (the DuckDB file's primary keys); the search and near-duplicate indexes
# are the pipeline's own working state and stay behind
TABLES: dict[str, tuple[str, ...]] = {
    "crawl_runs": ("run_id",),
    "source_runs": ("run_id", "source"),
    "pages": ("run_id", "url"),
    "articles": ("article_id",),
    "article_versions": ("article_id", "version"),
    "article_urls": ("article_id", "url"),
    "url_state": ("url_key",),
    "boilerplate_lines": ("source", "line_key"),
    "schema_migrations": ("version",),
}
STATE = "borderwatch_sync"  # the lake's bookkeeping schema
ALIAS = "lake"
# left out of the row hash: an article's text is represented by its content_hash (the hash of the normalised
# text, changed with it by every writer), and hashing 100,000 texts took most of a sync's time
UNHASHED: dict[str, tuple[str, ...]] = {"articles": ("text",), "article_versions": ("text",)}
RETRIES = 3  # a sync that lost a commit race to another sync is staged again against the new state
PAUSE_ENV = "BORDERWATCH_LAKE_PAUSE_S"  # tests: hold the lake transaction open this long before COMMIT


class LakeError(RuntimeError):
    """The lake cannot be opened or synced (missing extension, no catalog, incompatible schema)."""


@dataclass
class SyncResult:
    inserted: dict[str, int] = field(default_factory=dict)  # rows written per table (new and changed)
    deleted: dict[str, int] = field(default_factory=dict)  # rows removed per table (changed and gone)
    views: list[str] = field(default_factory=list)  # views created or replaced
    snapshot: int | None = None  # the DuckLake snapshot after the sync
    seconds: float = 0.0
    staged_s: float = 0.0  # how long the DuckDB file was held

    @property
    def changed(self) -> bool:
        return bool(sum(self.inserted.values()) or sum(self.deleted.values()) or self.views)


# -- opening -------------------------------------------------------------------------------------------------


def _extension_file(module: str, name: str, con: duckdb.DuckDBPyConnection) -> Path:
    """An extension inside its wheel, for exactly the running duckdb version (as storage.search does)."""
    try:
        package = __import__(module)
    except ImportError as exc:
        raise LakeError(f"the {module.replace('_', '-')} package is not installed") from exc
    version = con.execute("PRAGMA version").fetchone()[0]
    path = Path(package.__file__).parent / "extensions" / version / f"{name}.duckdb_extension"
    if not path.is_file():
        raise LakeError(f"no {name} extension for duckdb {version} at {path}")
    return path


def _load(con: duckdb.DuckDBPyConnection, module: str, name: str) -> None:
    loaded = con.execute(
        "SELECT count(*) FROM duckdb_extensions() WHERE extension_name = ? AND loaded", [name]
    ).fetchone()[0]
    if not loaded:
        path = str(_extension_file(module, name, con)).replace("'", "''")  # LOAD takes no parameters
        con.execute(f"LOAD '{path}'")


def catalog_uri(catalog: str) -> str:
    """`postgres:dbname=… host=…` as it is; a DuckDB catalog file made absolute (so it works from anywhere)."""
    catalog = catalog.removeprefix("ducklake:")
    if catalog.startswith(("postgres:", "postgresql:")):
        return catalog
    if catalog.startswith(("sqlite:", "mysql:")):
        raise LakeError("catalogs supported here: PostgreSQL (postgres:dbname=…) or a DuckDB file")
    return str(Path(catalog.removeprefix("duckdb:")).expanduser().resolve())


def _data_path(data_path: str | Path) -> str:
    text = str(data_path)
    if "://" in text:  # an object store URL is the catalog's business, kept as given
        return text
    path = Path(text).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return str(path) + "/"


def _attach_waiting(con: duckdb.DuckDBPyConnection, sql: str, what: str, wait_s: float) -> None:
    """ATTACH, retrying while another process holds a DuckDB file (the source, or a DuckDB-file catalog)."""
    retry_while_locked(lambda: con.execute(sql), what, wait_s)


def connect_lake(
    catalog: str,
    *,
    data_path: str | Path | None = None,
    read_only: bool = False,
    wait_s: float = 30.0,
    must_exist: bool | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the lake attached as `lake` and in use: the pipeline's table and
    view names resolve in the lake, so the README's queries run unchanged. Only a sync creates a lake."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET autoinstall_known_extensions = false")  # never reach for the network
        con.execute("SET autoload_known_extensions = false")
        _load(con, "duckdb_extension_ducklake", "ducklake")
        uri = catalog_uri(catalog)
        if uri.startswith(("postgres:", "postgresql:")):
            _load(con, "duckdb_extension_postgres_scanner", "postgres_scanner")
        elif (read_only if must_exist is None else must_exist) and not Path(uri).exists():
            raise FileNotFoundError(f"no lake catalog at {uri}: run `borderwatch lake sync` first")
        options = ["READ_ONLY"] if read_only else []
        if data_path is not None and not read_only:
            options.append(f"DATA_PATH {sql_string(_data_path(data_path))}")
        opts = f" ({', '.join(options)})" if options else ""
        try:
            _attach_waiting(
                con, f"ATTACH {sql_string('ducklake:' + uri)} AS {ALIAS}{opts}", f"the lake catalog {uri}", wait_s
            )
        except duckdb.Error as exc:
            raise LakeError(f"cannot open the lake {uri}: {exc}") from exc
        con.execute(f"USE {ALIAS}")
        return con
    except BaseException:
        con.close()
        raise


@contextmanager
def lake(
    catalog: str,
    *,
    data_path: str | Path | None = None,
    read_only: bool = True,
    wait_s: float = 30.0,
    must_exist: bool | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_lake(catalog, data_path=data_path, read_only=read_only, wait_s=wait_s, must_exist=must_exist)
    try:
        yield con
    finally:
        con.close()


# -- sync ----------------------------------------------------------------------------------------------------


def _names(con: duckdb.DuckDBPyConnection, database: str, schema: str, kind: str = "tables") -> set[str]:
    rows = con.execute(
        f"SELECT {kind[:-1]}_name FROM duckdb_{kind}() WHERE database_name = ? AND schema_name = ?", [database, schema]
    ).fetchall()
    return {r[0] for r in rows}


def _columns(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [database, schema, table],
    ).fetchall()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _has_state(con: duckdb.DuckDBPyConnection) -> bool:
    sql = "SELECT count(*) FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?"
    return bool(con.execute(sql, [ALIAS, STATE]).fetchone()[0])


def _ensure_state(con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """The bookkeeping schema and tables, created once (each creation is a snapshot: skip what exists)."""
    if not _has_state(con):  # a new lake: zstd, like `borderwatch export` (a reader needs nothing extra)
        con.execute(f"CALL {ALIAS}.set_option('parquet_compression', 'zstd')")
        con.execute(f"CREATE SCHEMA {ALIAS}.{STATE}")
    have = _names(con, ALIAS, STATE)
    con.execute("BEGIN TRANSACTION")
    if "head" not in have:
        # one row, updated by every sync that writes: two syncs racing conflict here and one retries
        con.execute(f"CREATE TABLE {ALIAS}.{STATE}.head (generation BIGINT, synced_at TIMESTAMPTZ, source VARCHAR)")
        con.execute(f"INSERT INTO {ALIAS}.{STATE}.head VALUES (0, NULL, NULL)")
    if "log" not in have:
        con.execute(
            f"CREATE TABLE {ALIAS}.{STATE}.log (generation BIGINT, synced_at TIMESTAMPTZ, source VARCHAR, "
            "inserted BIGINT, deleted BIGINT, views VARCHAR[], seconds DOUBLE)"
        )
    if "views" not in have:
        con.execute(f"CREATE TABLE {ALIAS}.{STATE}.views (view_name VARCHAR, sql VARCHAR)")
    for table in tables:
        if table not in have:
            keys = ", ".join(f"{_ident(c)} {t}" for c, t in _columns(con, "src", "main", table) if c in TABLES[table])
            con.execute(f"CREATE TABLE {ALIAS}.{STATE}.{table} ({keys}, row_hash UBIGINT)")
    con.execute("COMMIT")


def _generation(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(f"SELECT generation FROM {ALIAS}.{STATE}.head").fetchone()[0])


def _stage(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, tuple[int, int]]:
    """Temp tables per published table: `new_T` (source rows new or changed since the last sync, with their
    hash) and `stale_T` (keys of lake rows changed or gone). Returns their sizes."""
    sizes = {}
    for table in tables:
        keys = ", ".join(_ident(k) for k in TABLES[table])
        state = f"{ALIAS}.{STATE}.{table}"
        # the hash of the whole row: any changed column (or a column added by a migration) changes it
        skip = ", ".join(_ident(c) for c in UNHASHED.get(table, ()))
        row = f"hash(*COLUMNS(* EXCLUDE ({skip})))" if skip else "hash(t)"
        con.execute(f"CREATE OR REPLACE TEMP TABLE cur AS SELECT {keys}, {row} AS row_hash FROM src.main.{table} t")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stale_{table} AS "
            f"SELECT {keys} FROM {state} s ANTI JOIN cur USING ({keys}, row_hash)"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE new_{table} AS "
            f"SELECT f.row_hash AS __row_hash, t.* FROM src.main.{table} t "
            f"JOIN (SELECT * FROM cur ANTI JOIN {state} s USING ({keys}, row_hash)) f USING ({keys})"
        )
        sizes[table] = (
            con.execute(f"SELECT count(*) FROM new_{table}").fetchone()[0],
            con.execute(f"SELECT count(*) FROM stale_{table}").fetchone()[0],
        )
    con.execute("DROP TABLE cur")
    return sizes


def _lake_table(con: duckdb.DuckDBPyConnection, table: str, existing: set[str]) -> None:
    """Create the lake table like the source's, or add the columns a migration added since."""
    source = [(c, t) for c, t in _columns(con, "temp", "main", f"new_{table}") if c != "__row_hash"]
    if table not in existing:
        cols = ", ".join(f"{_ident(c)} {t}" for c, t in source)
        con.execute(f"CREATE TABLE {ALIAS}.main.{table} ({cols})")
        return
    have = dict(_columns(con, ALIAS, "main", table))
    for name, kind in source:
        if name not in have:
            con.execute(f"ALTER TABLE {ALIAS}.main.{table} ADD COLUMN {_ident(name)} {kind}")
        elif have[name] != kind:
            raise LakeError(f"{table}.{name} is {kind} in the DuckDB file but {have[name]} in the lake")


def _views(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The source's views whose definition differs from the one the last sync applied (the lake renders a
    view's SQL its own way, so the applied text is kept in the bookkeeping schema and compared instead)."""
    rows = con.execute(
        "SELECT view_name, sql FROM duckdb_views() WHERE database_name = 'src' AND schema_name = 'main' "
        "AND NOT internal"
    ).fetchall()
    applied = dict(con.execute(f"SELECT view_name, sql FROM {ALIAS}.{STATE}.views").fetchall())
    return {name: sql for name, sql in rows if name not in TABLES and applied.get(name) != sql}


def sync(
    db: str | Path,
    catalog: str,
    *,
    data_path: str | Path | None = None,
    wait_s: float = 30.0,
) -> SyncResult:
    """Publish the DuckDB file's tables and views to the lake: only rows new or changed since the last sync
    are written, rows changed or gone are deleted, all in one lake transaction."""
    db = Path(db)
    if not db.exists():
        raise FileNotFoundError(f"no database at {db}: run `borderwatch run` or `borderwatch demo` first")
    for attempt in range(RETRIES):
        with lake(catalog, data_path=data_path, read_only=False, wait_s=wait_s) as con:
            try:
                return _sync_once(con, db, wait_s)
            except duckdb.TransactionException as exc:  # another sync committed first: stage again
                if attempt == RETRIES - 1 or "conflict" not in str(exc).lower():
                    raise
    raise AssertionError("unreachable")


def _sync_once(con: duckdb.DuckDBPyConnection, db: Path, wait_s: float) -> SyncResult:
    t0 = time.perf_counter()
    result = SyncResult()
    con.execute("USE memory")  # temp tables and DDL below name their database explicitly
    _attach_waiting(con, f"ATTACH {sql_string(str(db.resolve()))} AS src (READ_ONLY)", str(db), wait_s)
    try:
        # article_versions is a view over article_history in the file (the current text is stored once there);
        # the lake gets it as the table it always was, with every version's text
        present = _names(con, "src", "main") | _names(con, "src", "main", "views")
        tables = [t for t in TABLES if t in present]
        _ensure_state(con, tables)
        generation = _generation(con)
        sizes = _stage(con, tables)
        views = _views(con)
        lake_tables = _names(con, ALIAS, "main")
    finally:
        con.execute("DETACH src")  # the pipeline may write again: everything needed is staged
    result.staged_s = time.perf_counter() - t0
    todo = [t for t in tables if sum(sizes[t]) or t not in lake_tables]
    if not todo and not views:
        result.seconds = time.perf_counter() - t0
        return result  # nothing new: no transaction, no snapshot

    con.execute("BEGIN TRANSACTION")
    try:
        if _generation(con) != generation:  # another sync committed since we staged
            raise duckdb.TransactionException("conflict: the lake moved on while this sync was staging")
        for table in todo:
            _lake_table(con, table, lake_tables)
            new, stale = sizes[table]
            keys = TABLES[table]
            on = " AND ".join(f"x.{_ident(k)} = s.{_ident(k)}" for k in keys)
            if stale:
                con.execute(f"DELETE FROM {ALIAS}.main.{table} AS x USING stale_{table} s WHERE {on}")
                con.execute(f"DELETE FROM {ALIAS}.{STATE}.{table} AS x USING stale_{table} s WHERE {on}")
            if new:
                cols = ", ".join(
                    _ident(c) for c, _ in _columns(con, "temp", "main", f"new_{table}") if c != "__row_hash"
                )
                con.execute(f"INSERT INTO {ALIAS}.main.{table} ({cols}) SELECT {cols} FROM new_{table}")
                key_cols = ", ".join(_ident(k) for k in keys)
                con.execute(
                    f"INSERT INTO {ALIAS}.{STATE}.{table} ({key_cols}, row_hash) "
                    f"SELECT {key_cols}, __row_hash FROM new_{table}"
                )
            result.inserted[table], result.deleted[table] = new, stale
        con.execute(f"USE {ALIAS}")  # a view's table names resolve in the lake, like in the DuckDB file
        for name, sql in sorted(views.items()):
            con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
            result.views.append(name)
        con.execute("USE memory")
        if views:
            con.execute(
                f"DELETE FROM {ALIAS}.{STATE}.views WHERE view_name IN (SELECT unnest(?::VARCHAR[]))", [result.views]
            )
            con.executemany(f"INSERT INTO {ALIAS}.{STATE}.views VALUES (?, ?)", sorted(views.items()))
        now = datetime.now(UTC)
        con.execute(
            f"UPDATE {ALIAS}.{STATE}.head SET generation = generation + 1, synced_at = ?, source = ?",
            [now, str(db.resolve())],
        )
        con.execute(
            f"INSERT INTO {ALIAS}.{STATE}.log VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                generation + 1,
                now,
                str(db.resolve()),
                sum(result.inserted.values()),
                sum(result.deleted.values()),
                result.views,
                round(time.perf_counter() - t0, 3),
            ],
        )
        crash_point("lake_sync")  # recovery tests: killed here, the lake must stay as it was
        pause = float(os.environ.get(PAUSE_ENV) or 0)
        if pause:
            time.sleep(pause)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass  # a failed COMMIT has ended the transaction already
        raise
    result.snapshot = current_snapshot(con)
    result.seconds = time.perf_counter() - t0
    return result


# -- maintenance ---------------------------------------------------------------------------------------------


def _file_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    meta = f"__ducklake_metadata_{ALIAS}"
    data = con.execute(f"SELECT count(*) FROM {meta}.ducklake_data_file WHERE end_snapshot IS NULL").fetchone()[0]
    deletes = con.execute(f"SELECT count(*) FROM {meta}.ducklake_delete_file WHERE end_snapshot IS NULL").fetchone()[0]
    return int(data), int(deletes)


def compact(con: duckdb.DuckDBPyConnection, keep_days: float = 7.0) -> dict[str, int]:
    """Every sync adds small Parquet files and delete files; fold them (deletes applied, adjacent files
    merged), then forget snapshots older than `keep_days` (time travel reaches back that far) and remove the
    files only they used. Readers of older snapshots keep working until then."""
    before = _file_counts(con)
    con.execute(f"CALL ducklake_rewrite_data_files('{ALIAS}', delete_threshold => 0.0)")
    con.execute(f"CALL ducklake_merge_adjacent_files('{ALIAS}')")
    cutoff = datetime.now(UTC) - timedelta(days=keep_days)
    con.execute(f"CALL ducklake_expire_snapshots('{ALIAS}', older_than => ?::TIMESTAMPTZ)", [cutoff])
    removed = con.execute(f"CALL ducklake_cleanup_old_files('{ALIAS}', older_than => ?::TIMESTAMPTZ)", [cutoff])
    after = _file_counts(con)
    return {
        "data_files_before": before[0],
        "delete_files_before": before[1],
        "data_files_after": after[0],
        "delete_files_after": after[1],
        "files_removed": len(removed.fetchall()),
    }


# -- reading the lake's own state ----------------------------------------------------------------------------


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(f"SELECT max(snapshot_id) FROM {ALIAS}.snapshots()").fetchone()[0])


def status(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Rows per published table, the data files and their size, the last sync."""
    tables = sorted(_names(con, ALIAS, "main") & set(TABLES))
    rows = {t: con.execute(f"SELECT count(*) FROM {ALIAS}.main.{t}").fetchone()[0] for t in tables}
    files = con.execute(
        f"SELECT count(*), coalesce(sum(file_size_bytes), 0) FROM __ducklake_metadata_{ALIAS}.ducklake_data_file "
        "WHERE end_snapshot IS NULL"
    ).fetchone()
    last = None
    if _has_state(con):
        last = con.execute(f"SELECT generation, synced_at, source FROM {ALIAS}.{STATE}.head").fetchone()
    return {
        "rows": rows,
        "data_files": int(files[0]),
        "data_bytes": int(files[1]),
        "snapshot": current_snapshot(con),
        "syncs": int(last[0]) if last else 0,
        "last_sync_at": last[1] if last else None,
        "last_source": last[2] if last else None,
    }
