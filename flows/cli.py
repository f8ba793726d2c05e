"""The `borderwatch` command: a thin layer over the library (flows.pipeline, storage.queries)."""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from flows.config import DEFAULT_CONFIG, ConfigError, load_config
from flows.run_lock import RunLocked

log = logging.getLogger("borderwatch")


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Config file (default: ./borderwatch.toml).",
)
db_option = click.option(
    "--db", type=click.Path(path_type=Path), default=None, help="DuckDB file (default: from config)."
)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Prefect's HTTP client logs every call to its ephemeral server at INFO
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _load(config_path: Path | None) -> Any:
    """The config, or a clean error naming the file and the key."""
    try:
        return load_config(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _prefect_home(db: Path) -> None:
    # Prefect keeps its ephemeral database beside ours unless the user chose a home for it; it cannot
    # create missing parent folders itself (its server then fails to start), so make them here
    home = Path(os.environ.setdefault("PREFECT_HOME", str(Path(db).resolve().parent / "prefect")))
    home.mkdir(parents=True, exist_ok=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> None:
    if fmt == "json":
        click.echo(
            json.dumps(
                [dict(zip(columns, r, strict=True)) for r in rows], default=_json_default, ensure_ascii=False, indent=1
            )
        )
        return
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow(
                ["" if v is None else _json_default(v) if not isinstance(v, str | int | float) else v for v in r]
            )
        return

    def cell(v: Any) -> str:
        text = "" if v is None else str(v)
        text = " ".join(text.split())
        return text if len(text) <= 60 else text[:57] + "..."

    table = [[cell(c) for c in columns]] + [[cell(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    sep = "+".join("-" * (w + 2) for w in widths)
    for n, row in enumerate(table):
        click.echo(" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            click.echo(sep)
    click.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the database; try again later


def _run_pipeline(cfg: Any, sources: list[str] | None, db: Path, lock_wait: float = 0.0) -> int:
    _prefect_home(db)
    from flows.pipeline import run_pipeline  # imports Prefect: only after its settings are in place

    try:
        summary = run_pipeline(cfg, sources, db, lock_wait)
    except RunLocked as exc:
        click.echo(str(exc), err=True)
        return EXIT_LOCKED
    except Exception as exc:  # the run is recorded as failed in crawl_runs; say why without a traceback
        log.info("run failed", exc_info=True)
        click.echo(f"run failed: {type(exc).__name__}: {exc} (rerun with -v for details)", err=True)
        return 1
    for line in summary.lines():
        click.echo(line)
    return 0 if summary.status in ("completed", "completed_with_errors") else 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log progress (INFO) to stderr.")
def cli(verbose: bool) -> None:
    """borderwatch: border and migration-policy news, crawled, cleaned, deduplicated and stored in DuckDB.

    \b
    Example:
        borderwatch demo
        borderwatch sql "SELECT source, count(*) FROM articles GROUP BY 1"
    """
    _setup_logging(verbose)


@cli.command()
@config_option
@db_option
@click.option("--sources", default=None, help="Comma-separated source keys to crawl (default: all).")
@click.option(
    "--wait-for-lock",
    "lock_wait",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds to wait while another run holds the database (then exit 75).",
)
def run(config_path: Path | None, db: Path | None, sources: str | None, lock_wait: float) -> None:
    """Run one batch: crawl the sources, clean, score, deduplicate and load into DuckDB.

    Exits 0 when the run completed (page errors are counted in the summary), 1 when it failed, 75 when
    another run (or reprocess/rescore) of the same database is still going: runs never overlap.

    \b
    Example:
        borderwatch run --config borderwatch.toml --sources borderreport,texastribune
    """
    try:
        cfg = load_config(config_path)
        keys = [k.strip() for k in sources.split(",") if k.strip()] if sources else None
        cfg.select(keys)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(_run_pipeline(cfg, keys, db or cfg.storage.db, lock_wait))


@cli.command()
@click.argument("query")
@click.option(
    "--db", type=click.Path(path_type=Path), default=None, help="DuckDB file (default: the one in ./borderwatch.toml)."
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option(
    "--wait",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait while a pipeline run holds the database.",
)
@click.option(
    "--lake",
    "lake_catalog",
    default=None,
    metavar="CATALOG",
    help="Query a DuckLake instead of the DuckDB file: 'postgres:dbname=… host=…' or a catalog file.",
)
def sql(query: str, db: Path | None, fmt: str, wait: float, lake_catalog: str | None) -> None:
    """Run read-only SQL against the database (or a DuckLake it was synced to). Statements that write are refused.

    \b
    Example:
        borderwatch sql "SELECT title, published_at FROM articles ORDER BY published_at DESC LIMIT 5"
        borderwatch sql "SELECT * FROM crawl_runs" --format csv > runs.csv
        borderwatch sql --lake "postgres:dbname=lake host=127.0.0.1" "SELECT * FROM daily_counts"
    """
    from storage.db import DatabaseLocked, connection
    from storage.lake import LakeError
    from storage.lake import lake as open_lake
    from storage.queries import WriteRefused, check_read_only, run_query

    try:
        check_read_only(query)
        if lake_catalog:
            with open_lake(lake_catalog, read_only=True, wait_s=wait) as con:
                columns, rows = run_query(con, query)
        else:
            with connection(db or _default_db(), read_only=True, wait_s=wait) as con:
                columns, rows = run_query(con, query)
    except WriteRefused as exc:
        raise click.ClickException(str(exc)) from exc
    except (DatabaseLocked, FileNotFoundError, LakeError) as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:  # DuckDB's own errors (bad SQL, unknown column) are the user's to read
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc
    _print_rows(columns, rows, fmt)


@cli.command()
@click.option(
    "--db", type=click.Path(path_type=Path), default=None, help="DuckDB file (default: the one in ./borderwatch.toml)."
)
@click.option("--limit", type=int, default=10, show_default=True)
def status(db: Path | None, limit: int) -> None:
    """Show the last runs and their counts, and how each source fared in the last one.

    A source whose feed moved or whose layout changed shows up as "CHECK: nothing discovered".

    \b
    Example:
        borderwatch status --db data/demo.duckdb
    """
    from storage.db import DatabaseLocked, connection
    from storage.queries import has_table, recent_runs, source_health

    try:
        with connection(db or _default_db(), read_only=True) as con:
            columns, rows = recent_runs(con, limit)
            health = source_health(con) if has_table(con, "source_runs") else None  # None: not yet migrated
    except (DatabaseLocked, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    _print_rows(columns, rows, "table")
    if health:
        click.echo("\nSources in the last finished run:")
        _print_rows(*health, "table")


@cli.command()
@config_option
@db_option
@click.option("--run", "run_ids", multiple=True, help="Only the articles fetched in this run (repeatable).")
@click.option("--all", "all_runs", is_flag=True, help="Every stored article.")
def reprocess(config_path: Path | None, db: Path | None, run_ids: tuple[str, ...], all_runs: bool) -> None:
    """Re-clean stored raw pages with the current code; articles whose text or metadata changed get a new
    version. Nothing is downloaded.

    \b
    Example:
        borderwatch reprocess --all
        borderwatch reprocess --run 20261130T154237Z-3c91a6
    """
    if bool(run_ids) == all_runs:
        raise click.UsageError("give --run RUN_ID (one or more) or --all")
    cfg = _load(config_path)
    db = db or cfg.storage.db
    _prefect_home(db)
    from flows.reprocess import reprocess_flow

    try:
        counts = reprocess_flow(cfg, db, list(run_ids) or None)
    except RunLocked as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_LOCKED)
    click.echo(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))


@cli.command()
@config_option
@db_option
def rescore(config_path: Path | None, db: Path | None) -> None:
    """Re-apply the topic (after editing the topic file, its scopes or min_relevance) to stored pages:
    articles that no longer qualify leave `articles`, off-topic pages that now do come in (re-cleaned
    from the raw archive). Nothing is downloaded.

    \b
    Example:
        borderwatch rescore --config borderwatch.toml
    """
    cfg = _load(config_path)
    db = db or cfg.storage.db
    _prefect_home(db)
    from flows.rescore import rescore_flow

    try:
        counts = rescore_flow(cfg, db)
    except RunLocked as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_LOCKED)
    click.echo(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()))


@cli.command()
@click.option("--cron", default=None, help="Cron schedule, e.g. '0 * * * *' (hourly, in UTC).")
@click.option("--interval", type=float, default=None, help="Or: a run every this many seconds.")
@config_option
@db_option
def serve(cron: str | None, interval: float | None, config_path: Path | None, db: Path | None) -> None:
    """Run the pipeline on a schedule as a Prefect deployment, until stopped (SIGTERM or Ctrl-C).

    Without PREFECT_API_URL, starts and supervises a local Prefect server on 127.0.0.1 (its UI shows
    the runs); with it, uses that server. One run at a time. See "Scheduled runs" in the README.

    \b
    Example:
        borderwatch serve --cron "0 * * * *" --config borderwatch.toml
        borderwatch serve --interval 3600
    """
    from flows.serve import Schedule, ServeError
    from flows.serve import serve as run_serve

    try:
        schedule = Schedule(cron=cron, interval=interval)
    except ServeError as exc:
        raise click.UsageError(str(exc)) from exc
    path = config_path or DEFAULT_CONFIG
    cfg = _load(path)  # a bad config fails here, not at the first scheduled run
    db_path = db or cfg.storage.db
    _prefect_home(db_path)
    try:
        code = run_serve(path, db, schedule, Path(os.environ["PREFECT_HOME"]))
    except ServeError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)


@cli.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Where the demo database (demo.duckdb) and raw archive go.",
)
def demo(data_dir: Path) -> None:
    """Run the whole pipeline against the bundled sample news site, served on 127.0.0.1.

    No internet needed. Afterwards, query the result:

    \b
    Example:
        borderwatch demo
        borderwatch sql --db data/demo.duckdb "SELECT source, language, title FROM articles"
    """
    from flows.demo_site import DEMO_FIRST_PORT, sample_config_toml, serve_sample_site

    data_dir.mkdir(parents=True, exist_ok=True)
    with serve_sample_site(first_port=DEMO_FIRST_PORT) as web:
        config_path = data_dir / "demo.toml"
        config_path.write_text(sample_config_toml(web, data_dir.resolve()), encoding="utf-8")
        click.echo(f"serving the sample news site: {', '.join(f'{k} {v}' for k, v in web.bases.items())}")
        cfg = load_config(config_path)
        code = _run_pipeline(cfg, None, cfg.storage.db)
    click.echo(f'\nTry: borderwatch sql --db {cfg.storage.db} "SELECT source, language, title FROM articles"')
    sys.exit(code)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "json"]), default="jsonl", show_default=True)
@click.option("--url", default=None, help="The pages' URL, when there is one (HTML files carry none).")
def extract(paths: tuple[Path, ...], fmt: str, url: str | None) -> None:
    """Clean saved pages with exactly the pipeline's cleaner; one record per page.

    PATHS are .html, .html.gz or WARC (.warc, .warc.gz) files. Each record has id (the file stem; for a
    WARC, stem#offset), url, title, authors, credits, published_at, modified_at, language, is_partial,
    is_article, reason, word_count and text.

    \b
    Example:
        borderwatch extract saved/story.html.gz --format json
        borderwatch extract data/raw/20261130T120000Z-ab12cd/crawl.warc.gz > pages.jsonl
    """
    from flows.extract_files import extract_records

    records = extract_records(paths, url)
    if fmt == "json":
        click.echo(json.dumps(list(records), ensure_ascii=False, indent=1, default=_json_default))
        return
    for record in records:
        click.echo(json.dumps(record, ensure_ascii=False, default=_json_default))


@cli.command()
@click.argument("query")
@click.option(
    "--db", type=click.Path(path_type=Path), default=None, help="DuckDB file (default: the one in ./borderwatch.toml)."
)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Published on or after DATE.")
@click.option("--source", default=None, help="Only this source key.")
@click.option("--lang", default=None, help="Only articles in this language (en, es).")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--wait", type=float, default=30.0, show_default=True, help="Seconds to wait while a run holds the file.")
def search(
    query: str, db: Path | None, since: datetime | None, source: str | None, lang: str | None, limit: int, wait: float
) -> None:
    """Full-text search (BM25, English and Spanish stemming) over titles and texts; ranked, with a snippet.

    \b
    Example:
        borderwatch search "asylum Matamoros" --since 2026-11-01 --limit 5
        borderwatch search "caravana migrantes" --lang es --source diario-del-norte
    """
    from flows.search import format_hits
    from storage.db import DatabaseLocked, connection
    from storage.search import SearchUnavailable, index_lag
    from storage.search import search as run_search

    try:
        with connection(db or _default_db(), read_only=True, wait_s=wait) as con:
            hits = run_search(con, query, since=since.date() if since else None, source=source, lang=lang, limit=limit)
            lag = index_lag(con)
    except (DatabaseLocked, FileNotFoundError, SearchUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    for line in format_hits(hits):
        click.echo(line)
    if not hits:
        click.echo("no matching articles")
    if lag:
        click.echo(f"({lag} stored articles are not indexed yet; the next `borderwatch run` indexes them)", err=True)


@cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv", "jsonl"]), required=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write to.")
@click.option(
    "--db", type=click.Path(path_type=Path), default=None, help="DuckDB file (default: the one in ./borderwatch.toml)."
)
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Published on or after DATE.")
@click.option("--source", default=None, help="Only this source key.")
@click.option("--lang", default=None, help="Only articles in this language (en, es).")
@click.option("--versions", is_flag=True, help="Also every version of the chosen articles (versions.*).")
@click.option("--clusters", is_flag=True, help="Also the story clusters of the chosen articles (clusters.*).")
@click.option(
    "--by-month/--one-file",
    default=None,
    help="Parquet: one folder per month (month=YYYY-MM/). Default: by month from 100,000 articles up.",
)
@click.option("--wait", type=float, default=30.0, show_default=True, help="Seconds to wait while a run holds the file.")
def export_cmd(
    fmt: str,
    out: Path,
    db: Path | None,
    since: datetime | None,
    source: str | None,
    lang: str | None,
    versions: bool,
    clusters: bool,
    by_month: bool | None,
    wait: float,
) -> None:
    """Export articles (optionally their versions and clusters) to Parquet, CSV or JSON lines.

    Writes OUT/articles.<ext> (Parquet split by month: OUT/articles/month=YYYY-MM/), OUT/versions.<ext>,
    OUT/clusters.<ext>.

    \b
    Example:
        borderwatch export --format parquet --out exports/2026-11 --since 2026-11-01 --versions
        borderwatch export --format csv --out exports/es --lang es --source diario-del-norte
    """
    from storage.db import DatabaseLocked, connection
    from storage.export import export as run_export

    try:
        with connection(db or _default_db(), read_only=True, wait_s=wait) as con:
            counts = run_export(
                con,
                out,
                fmt,
                since=since.date() if since else None,
                source=source,
                lang=lang,
                versions=versions,
                clusters=clusters,
                by_month=by_month,
            )
    except (DatabaseLocked, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(", ".join(f"{table} {n}" for table, n in counts.items()) + f" → {out}")


@cli.group("lake")
def lake_group() -> None:
    """Scale-out storage: publish the tables and views to a DuckLake (Parquet files, PostgreSQL or DuckDB
    catalog) that many readers and writers share, and query it with `borderwatch sql --lake`.

    \b
    Example:
        borderwatch lake sync --catalog "postgres:dbname=lake host=127.0.0.1" --data-path /srv/lake
        borderwatch lake status --catalog "postgres:dbname=lake host=127.0.0.1"
        borderwatch sql --lake "postgres:dbname=lake host=127.0.0.1" "SELECT * FROM sources_health"
    """


catalog_option = click.option(
    "--catalog",
    required=True,
    help="The lake's catalog: 'postgres:dbname=… host=… port=… user=…' or a DuckDB catalog file (lake.ducklake).",
)


@lake_group.command("sync")
@catalog_option
@click.option(
    "--data-path",
    default=None,
    help="Where the Parquet files go (a folder); needed on the first sync, kept in the catalog after.",
)
@click.option(
    "--db", type=click.Path(path_type=Path), default=None, help="DuckDB file (default: the one in ./borderwatch.toml)."
)
@click.option("--wait", type=float, default=30.0, show_default=True, help="Seconds to wait while a run holds the file.")
def lake_sync(catalog: str, data_path: str | None, db: Path | None, wait: float) -> None:
    """Publish the DuckDB file's tables and views to the lake: only rows new or changed since the last sync
    are written (one lake transaction); a rerun with nothing new writes nothing.

    \b
    Example:
        borderwatch lake sync --catalog "postgres:dbname=lake host=127.0.0.1 port=5432" --data-path /srv/lake
        borderwatch lake sync --catalog data/lake.ducklake --data-path data/lake --db data/demo.duckdb
    """
    from storage.db import DatabaseLocked
    from storage.lake import LakeError, sync

    try:
        result = sync(db or _default_db(), catalog, data_path=data_path, wait_s=wait)
    except (DatabaseLocked, FileNotFoundError, LakeError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not result.changed:
        click.echo(f"nothing new since the last sync ({result.seconds:.1f} s)")
        return
    for table, n in result.inserted.items():
        click.echo(f"  {table}: +{n} -{result.deleted.get(table, 0)}")
    if result.views:
        click.echo(f"  views: {', '.join(result.views)}")
    click.echo(f"snapshot {result.snapshot}, {result.seconds:.1f} s (the DuckDB file held {result.staged_s:.1f} s)")


@lake_group.command("compact")
@catalog_option
@click.option(
    "--keep-days", type=float, default=7.0, show_default=True, help="Snapshots (time travel) kept at least this long."
)
def lake_compact(catalog: str, keep_days: float) -> None:
    """Fold the small files and delete files that syncs leave into fewer Parquet files, and remove the files
    of snapshots older than --keep-days.

    \b
    Example:
        borderwatch lake compact --catalog "postgres:dbname=lake host=127.0.0.1" --keep-days 7
    """
    from storage.db import DatabaseLocked
    from storage.lake import LakeError, compact
    from storage.lake import lake as open_lake

    try:
        with open_lake(catalog, read_only=False, must_exist=True) as con:
            counts = compact(con, keep_days)
    except (DatabaseLocked, FileNotFoundError, LakeError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"data files {counts['data_files_before']} → {counts['data_files_after']}, delete files "
        f"{counts['delete_files_before']} → {counts['delete_files_after']}, {counts['files_removed']} files removed"
    )


@lake_group.command("status")
@catalog_option
@click.option("--wait", type=float, default=30.0, show_default=True, help="Seconds to wait for a DuckDB catalog file.")
def lake_status(catalog: str, wait: float) -> None:
    """Rows per table in the lake, its Parquet files and their size, and the last sync.

    \b
    Example:
        borderwatch lake status --catalog data/lake.ducklake
    """
    from storage.db import DatabaseLocked
    from storage.lake import LakeError
    from storage.lake import lake as open_lake
    from storage.lake import status as lake_state

    try:
        with open_lake(catalog, read_only=True, wait_s=wait) as con:
            info = lake_state(con)
    except (DatabaseLocked, FileNotFoundError, LakeError) as exc:
        raise click.ClickException(str(exc)) from exc
    _print_rows(["table", "rows"], sorted(info["rows"].items()), "table")
    click.echo(
        f"\n{info['data_files']} Parquet files, {info['data_bytes'] / 2**20:.1f} MiB; snapshot {info['snapshot']}; "
        f"{info['syncs']} syncs, last {info['last_sync_at']} from {info['last_source']}"
    )


def _default_db() -> Path:
    try:
        return load_config(None).storage.db
    except ConfigError:
        return Path("data/borderwatch.duckdb")


def main() -> None:
    cli(prog_name="borderwatch")


if __name__ == "__main__":
    main()
