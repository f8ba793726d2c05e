"""The scheduled deployment: a small flow whose parameters are plain paths, and the runner that serves it.

A deployment's parameters are stored by the Prefect server as JSON, so the scheduled flow takes the config
file's path (not a Config) and reads it at every run: an edited borderwatch.toml applies from the next run
on, without restarting `borderwatch serve`. The batch itself is `pipeline_flow`, run as a subflow.

`serve_forever` runs in the process that `flows.serve` starts for it, with PREFECT_API_URL already set.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.schedules import Cron, Interval

from flows import alerts
from flows.config import Config, load_config
from flows.pipeline import crawl_budget_s, pipeline_flow
from flows.run_lock import RunLock, RunLocked
from flows.serve import DEPLOYMENT_NAME, FLOW_NAME

# after the crawl (bounded by crawl_budget_s, plus the crawler's 60 s to stop) cleaning, scoring and the
# load of one batch take minutes at most; a run still going after this is stuck and is failed
POST_CRAWL_ALLOWANCE_S = 1800.0


class ScheduledRunFailed(RuntimeError):
    """The batch ended with status failed; raised so the Prefect flow run is Failed too."""


class ScheduledRunSkipped(RuntimeError):
    """Another run held the database for as long as a scheduled run waits; the Prefect flow run is Failed."""


def run_timeout_s(cfg: Config) -> float:
    return crawl_budget_s(cfg) + 60.0 + POST_CRAWL_ALLOWANCE_S


def lock_wait_s(cfg: Config) -> float:
    """How long a scheduled run waits for a run that holds the database (a manual `borderwatch run`, another
    machine's schedule): as long as that run's crawl may last, so a batch that falls due meanwhile starts late
    rather than not at all, and a run stuck longer than that does not hold the schedule."""
    return crawl_budget_s(cfg)


@flow(name=FLOW_NAME, validate_parameters=True)
def scheduled_run(config_path: str, db_path: str | None = None, wait_for_lock_s: float | None = None) -> dict[str, Any]:
    """One scheduled batch over every configured source (the config is read afresh at each run). While another run
    holds the database it waits (`wait_for_lock_s`, by default lock_wait_s); if that run still holds it then, this
    one is skipped: the flow run fails with who holds the database, and the alert webhook is told."""
    cfg = load_config(Path(config_path))
    db = Path(db_path) if db_path else cfg.storage.db
    wait = lock_wait_s(cfg) if wait_for_lock_s is None else wait_for_lock_s
    try:
        # the wait is not part of the run's timeout: wait first, then run (taking the lock again, briefly waiting
        # in case another run slipped in between)
        with RunLock(db, "(scheduled run, waiting)", wait_s=wait):
            pass
        summary = pipeline_flow.with_options(timeout_seconds=run_timeout_s(cfg))(cfg, None, db, min(wait, 60.0))
    except RunLocked as exc:
        if cfg.alerts.on_failure:
            skipped = alerts.Alert("run_skipped", f"scheduled run skipped: {exc}")
            alerts.post(cfg.alerts, "(scheduled)", "skipped", [skipped])
        raise ScheduledRunSkipped(str(exc)) from exc
    logger = get_run_logger()  # shown in the Prefect UI with the run
    for line in summary.lines():
        logger.info("%s", line)
    if summary.status == "failed":
        raise ScheduledRunFailed(f"run {summary.run_id} failed: {summary.message or 'see crawl_runs'}")
    return {"run_id": summary.run_id, "status": summary.status, **summary.counts}


def serve_forever(spec: dict[str, Any]) -> None:
    """Create (or update) the deployment with its schedule and run its scheduled runs until SIGTERM.

    limit=1: this process starts no second run while one is going; a run that falls due meanwhile waits.
    Prefect's runner handles SIGTERM itself: it cancels a run in progress and pauses the schedule, so the
    deployment does not pile up runs while nothing serves it (a restart re-creates its schedule).
    """
    parameters = {"config_path": spec["config"], "db_path": spec.get("db")}
    # cron in UTC whatever the machine's zone, as every time the project stores
    schedule = Cron(spec["cron"], timezone="UTC") if spec.get("cron") else Interval(spec["interval"])
    scheduled_run.serve(
        name=DEPLOYMENT_NAME,
        schedule=schedule,
        parameters=parameters,
        limit=1,
        paused=False,
        pause_on_shutdown=True,
        print_starting_message=False,
        description="borderwatch: crawl, clean, score, deduplicate and load into DuckDB (`borderwatch serve`).",
        tags=["borderwatch"],
    )


class _DropCapacityNotes(logging.Filter):
    """While a run goes on, the runner notes at every poll (10 s) that it skips the runs falling due."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "at capacity" not in record.getMessage()


def _end_with_supervisor(grace_s: float = 10.0, poll_s: float = 1.0) -> None:
    """If the supervisor dies without stopping this runner (SIGKILL, out of memory), end the runner's process
    group (this process, a run in progress, its crawler): SIGTERM, then SIGKILL after `grace_s`. Prefect's own
    SIGTERM path is not enough then: it pauses the schedule through a server that is going away too, and
    had not ended a minute later when measured."""
    if os.getpgid(0) != os.getpid():
        return  # not started by flows.serve in a group of its own: the group is not ours to end
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os.killpg(0, signal.SIGTERM)
        time.sleep(grace_s)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def main() -> None:
    """Entry point of the runner process: `python -c "from flows.deployment import main; main()" SPEC_JSON`."""
    logging.getLogger("prefect.runner").addFilter(_DropCapacityNotes())
    _end_with_supervisor()
    serve_forever(json.loads(sys.argv[1]))
