"""Processing on a Dask cluster ([processing] task_runner = "dask"): the same database as the default runner, with
the cleaning, scoring and MinHash batches run by the Dask workers (all on 127.0.0.1)."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import duckdb
import psutil
import pytest
from conftest import run_cli, write_sample_config
from distributed import Client, LocalCluster

from flows.config import ProcessingConfig, load_config

# what differs between two runs whatever the runner: run ids, times, durations
RUN_COLUMNS = {
    "run_id",
    "fetched_at",
    "first_seen_at",
    "last_seen_at",
    "updated_at",
    "started_at",
    "finished_at",
    "duration_s",
    "applied_at",
    "last_fetched_at",
    "report",  # the run's markdown table: titled with its run id, with its duration
}
CRAWL_FILES = ("crawl.warc.gz", "fetches.jsonl", "crawl_stats.json")
SUMMARY = re.compile(r"processing on Dask: (\d+) task runs on (\d+) workers \((.*)\)")


def contents(db: Path, exclude: set[str] = RUN_COLUMNS) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every base table's rows (sorted), without the run columns."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                "AND table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                    "AND table_name = ? ORDER BY ordinal_position",
                    [table],
                ).fetchall()
                if c not in exclude
            ]
            select = ", ".join(
                # a term's postings are a set: their order in the list depends on DuckDB's threads
                "list_sort(postings)" if (table, c) == ("search_postings", "postings") else f'"{c}"'
                for c in columns
            )
            out[table] = (columns, con.execute(f"SELECT {select} FROM {table} ORDER BY ALL").fetchall())
    return out


def assert_same(a: Path, b: Path, tables: set[str] | None = None) -> None:
    left, right = contents(a), contents(b)
    assert set(left) == set(right)
    for table in sorted(tables or left):
        assert left[table][0] == right[table][0], table
        assert left[table][1] == right[table][1], f"{table} differs"


def workers_of(line: str) -> dict[str, int]:
    """'tcp://127.0.0.1:1234 pid 56: 3, ...' of the summary: task runs by worker."""
    return {w.strip(): int(n) for w, n in re.findall(r"([^,]+? pid \d+): (\d+)", line)}


@pytest.fixture(scope="module")
def default_run(sample_web, tmp_path_factory) -> dict:
    """One real `borderwatch run` over the sample web with the default runner: database A and its raw archive."""
    data = tmp_path_factory.mktemp("runner-default")
    config = write_sample_config(sample_web, data)
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "processing on Dask" not in result.stdout
    (run_dir,) = [p for p in (data / "raw-demo").iterdir() if p.is_dir()]
    return {"config": config, "db": data / "demo.duckdb", "run_dir": run_dir}


def test_dask_runner_gives_the_same_database(default_run, tmp_path, monkeypatch) -> None:
    """The flow on a LocalCluster of two worker processes (started by the run) processes the same fetched pages
    as run A into database B: every table holds the same rows, pages outcomes, versions, clusters and MinHash
    signatures included. The crawl is replayed from A's raw archive, so that only processing can differ (two
    crawls of one site may fetch an article at a different URL variant first)."""
    import flows.pipeline

    def replay(plan_path: Path, run_dir: Path, timeout_s: float, processes: int = 1, shared: bool = False) -> int:
        for name in CRAWL_FILES:
            shutil.copy(default_run["run_dir"] / name, plan_path.parent / name)
        return 0

    monkeypatch.setattr(flows.pipeline, "run_crawlers", replay)
    cfg = load_config(default_run["config"])
    cfg = replace(cfg, processing=ProcessingConfig(task_runner="dask", dask_workers=2))
    summary = flows.pipeline.run_pipeline(cfg, None, tmp_path / "b.duckdb")
    assert summary.status == "completed_with_errors", summary.lines()  # the sample web's 404s and 500s

    assert_same(default_run["db"], tmp_path / "b.duckdb")
    # the batches ran in two worker processes of the cluster, not here; the run shut the cluster down
    pids = {int(w.rsplit(" pid ", 1)[1]) for w in summary.task_runs}
    assert len(pids) == 2 and os.getpid() not in pids
    assert all(w.startswith("tcp://127.0.0.1:") for w in summary.task_runs)
    # 26 article pages: four clean-and-score batches and one MinHash batch
    assert sum(summary.task_runs.values()) == 5
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)


def test_cli_runs_on_a_running_dask_cluster(sample_web, default_run, tmp_path) -> None:
    """`borderwatch run` with dask_address: the tasks run on the workers of that scheduler, as the scheduler itself
    counts them, and the articles and their signatures are those of run A."""
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        ) as cluster,
        Client(cluster) as client,
    ):
        extra = f'[processing]\ntask_runner = "dask"\ndask_address = "{cluster.scheduler_address}"\n'
        config = write_sample_config(sample_web, tmp_path, extra=extra)
        result = run_cli("run", "--config", str(config))
        assert result.returncode == 0, result.stdout + result.stderr
        line = SUMMARY.search(result.stdout)
        assert line, result.stdout
        runs = workers_of(line.group(3))
        assert int(line.group(2)) == 2 and sum(runs.values()) == int(line.group(1)) >= 3
        pids = client.run(os.getpid)  # worker address -> pid
        assert runs.keys() == {f"{address} pid {pid}" for address, pid in pids.items()}
        done = client.run_on_scheduler(
            lambda dask_scheduler: {
                name: sum(prefix.state_counts.values()) for name, prefix in dask_scheduler.task_prefixes.items()
            }
        )
        assert done.get("clean_batch", 0) >= 2 and done.get("minhash_batch", 0) >= 1, done
    assert_same(default_run["db"], tmp_path / "demo.duckdb", {"articles", "article_minhash", "minhash_bands"})
