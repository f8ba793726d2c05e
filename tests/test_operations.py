"""Unattended operation: one run at a time per database, alerts posted to a webhook, a report per run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, run_cli, write_sample_config

from flows.alerts import Alert, post, run_alerts
from flows.config import AlertsConfig
from flows.run_lock import RunLock, RunLocked, lock_path


class Receiver:
    """A webhook receiver on 127.0.0.1 that records what it is sent and answers with the given statuses."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.statuses: list[int] = []  # answers in order; 200 once they run out
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.posts.append(
                    {"path": self.path, "content_type": self.headers["Content-Type"], "json": json.loads(body)}
                )
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _q(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ---- one run at a time ----

HOLDER = """
import sys, time
from pathlib import Path
from flows.run_lock import RunLock
with RunLock(Path(sys.argv[1]), "holder-run"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(db: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the run lock of `db` (as a running pipeline would)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_exits_with_a_message_while_one_holds_the_database(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path)
    db = tmp_path / "demo.duckdb"
    holder = _hold(db, 120)
    try:
        before = len(sample_web.requests)
        out = run_cli("run", "--config", str(config))
        assert out.returncode == 75, out.stderr
        message = out.stderr.strip().splitlines()[-1]
        assert "another borderwatch run holds" in message and "holder-run" in message and str(holder.pid) in message
        assert len(sample_web.requests) == before  # nothing was crawled
        assert not db.exists() or _q(db, "SELECT count(*) FROM crawl_runs") == [(0,)]
        for command in ("reprocess", "rescore"):
            args = [command, "--config", str(config)] + (["--all"] if command == "reprocess" else [])
            out = run_cli(*args)
            assert out.returncode == 75 and "another borderwatch run holds" in out.stderr, out.stderr
    finally:
        holder.kill()  # SIGKILL: the kernel drops the lock with the process
        holder.wait()
    out = run_cli("run", "--config", str(config))
    assert out.returncode == 0, out.stderr
    assert _q(db, "SELECT status FROM crawl_runs") == [("completed_with_errors",)]  # the sample's faulty pages
    assert lock_path(db).read_text() == ""  # released: no holder recorded


def test_a_run_waits_for_the_lock_when_asked(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path)
    db = tmp_path / "demo.duckdb"
    holder = _hold(db, 3)
    started = time.monotonic()
    out = run_cli("run", "--config", str(config), "--wait-for-lock", "120")
    assert out.returncode == 0, out.stderr
    assert holder.wait(timeout=5) == 0
    assert time.monotonic() - started >= 2.5
    assert _q(db, "SELECT status FROM crawl_runs") == [("completed_with_errors",)]


def test_run_lock_in_process(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    with RunLock(db, "first"):
        assert json.loads(lock_path(db).read_text())["run_id"] == "first"
        started = time.monotonic()
        with pytest.raises(RunLocked, match="run_id first") as info:
            RunLock(db, "second", wait_s=0.6).acquire()
        assert 0.5 <= time.monotonic() - started < 5
        assert info.value.holder["pid"] == os.getpid()
    with RunLock(db, "third"):  # free again
        pass


# ---- alerts ----


def test_alert_rules() -> None:
    cfg = AlertsConfig(webhook_url="http://127.0.0.1:1/x", zero_article_runs=3, max_error_rate=0.5)
    quiet = {"source": "quiet", "fetched": 10, "errors": 0, "articles_new": 0, "articles_updated": 0}
    broken = {"source": "broken", "fetched": 10, "errors": 6, "articles_new": 1, "articles_updated": 0}
    few = {"source": "few", "fetched": 3, "errors": 3, "articles_new": 1, "articles_updated": 0}
    history = {"quiet": [0, 0, 5], "broken": [2], "few": []}
    got = run_alerts(cfg, "completed_with_errors", None, [quiet, broken, few], history)
    assert got == [
        Alert("no_articles", "quiet: no new or updated article in 3 runs", "quiet"),
        Alert("error_rate", "broken: 6 of 10 pages failed (60%)", "broken"),
    ]  # "few": too few pages for a rate
    # said when the streak reaches the threshold and again at twice it, not on every run in between
    assert run_alerts(cfg, "completed", None, [quiet], {"quiet": [0, 0, 0]}) == []
    assert [a.kind for a in run_alerts(cfg, "completed", None, [quiet], {"quiet": [0] * 5})] == ["no_articles"]
    failed = run_alerts(cfg, "failed", "IOException: disk full", [], {})
    assert failed == [Alert("run_failed", "run failed: IOException: disk full")]
    assert run_alerts(AlertsConfig(on_failure=False), "failed", "x", [], {}) == []


def test_webhook_retries_then_delivers(receiver: Receiver) -> None:
    receiver.statuses = [503, 500]
    cfg = AlertsConfig(webhook_url=receiver.url, retries=3, timeout=5)
    assert post(cfg, "run-1", "completed", [Alert("no_articles", "x: no new or updated article in 3 runs", "x")])
    assert len(receiver.posts) == 3
    sent = receiver.posts[-1]
    assert sent["content_type"] == "application/json" and sent["path"] == "/hook"
    assert sent["json"]["run_id"] == "run-1" and sent["json"]["alerts"][0]["source"] == "x"
    assert "no new or updated article" in sent["json"]["text"]  # Slack/Mattermost show `text` as is


def test_webhook_refusal_and_dead_receiver_do_not_raise(receiver: Receiver) -> None:
    receiver.statuses = [400]
    assert not post(AlertsConfig(webhook_url=receiver.url, retries=3), "r", "failed", [Alert("run_failed", "m")])
    assert len(receiver.posts) == 1  # a 4xx is not retried
    dead = AlertsConfig(webhook_url="http://127.0.0.1:9/hook", retries=1, timeout=2)
    started = time.monotonic()
    assert not post(dead, "r", "failed", [Alert("run_failed", "m")])
    assert time.monotonic() - started < 10


def test_a_run_posts_its_alerts_and_records_its_report(sample_web, receiver: Receiver, tmp_path: Path) -> None:
    # thresholds that the sample web trips: its faulty pages give errors, and a second run finds nothing new
    alerts = (
        f'[alerts]\nwebhook_url = "{receiver.url}"\nzero_article_runs = 1\nmax_error_rate = 0.0\n'
        "min_pages_for_error_rate = 1\n"
    )
    config = write_sample_config(sample_web, tmp_path, extra=alerts)
    db = tmp_path / "demo.duckdb"
    out = run_cli("run", "--config", str(config))
    assert out.returncode == 0, out.stderr
    status, report = _q(db, "SELECT status, report FROM crawl_runs")[0]
    per_source = _q(db, "SELECT source, fetched, articles_new, errors, crawl_s FROM source_runs ORDER BY source")
    assert all(crawl_s > 0 for *_, crawl_s in per_source)
    for source, fetched, new, _errors, _ in per_source:  # the stored report is the table of source_runs
        assert f"| {source} | {fetched} | {new} |" in report
    assert "| **all** |" in report and status in report
    erring = {source for source, _, _, errors, _ in per_source if errors}
    assert erring, "the sample web has faulty pages"
    assert len(receiver.posts) == 1
    sent = receiver.posts[0]["json"]
    assert sent["status"] == status
    assert {a["source"] for a in sent["alerts"] if a["kind"] == "error_rate"} == erring
    assert "ALERT" in out.stdout

    out = run_cli("run", "--config", str(config))
    assert out.returncode == 0, out.stderr
    quiet = {a["source"] for a in receiver.posts[-1]["json"]["alerts"] if a["kind"] == "no_articles"}
    assert quiet == {source for source, *_ in per_source}  # nothing new anywhere in the second run


def test_the_report_is_a_prefect_artifact(two_runs) -> None:
    """The shared sample-site runs published their tables as Prefect artifacts (same Prefect home)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    stored = {r[0] for r in _q(two_runs["db"], "SELECT report FROM crawl_runs")}
    assert len(stored) == 2
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["borderwatch-run-report"]))
        )
    assert {a.type for a in found} == {"markdown"}
    assert stored <= {a.data for a in found}


def test_a_failing_run_alerts(sample_web, receiver: Receiver, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path, extra=f'[alerts]\nwebhook_url = "{receiver.url}"\n')
    text = config.read_text().replace('raw_dir = "', 'raw_dir = "not-a-folder/')
    config.write_text(text)
    (tmp_path / "not-a-folder").write_text("a file where the raw archive's folder should be")
    out = run_cli("run", "--config", str(config))
    assert out.returncode == 1
    db = tmp_path / "demo.duckdb"
    assert _q(db, "SELECT status FROM crawl_runs") == [("failed",)]
    (sent,) = (p["json"] for p in receiver.posts)
    assert sent["status"] == "failed" and sent["alerts"][0]["kind"] == "run_failed"


def test_killed_holder_never_blocks_the_next_run(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    holder = _hold(db, 120)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with RunLock(db, "next"):
        pass


def test_a_scheduled_run_waits_for_the_lock_then_is_skipped_with_an_alert(
    sample_web, receiver: Receiver, tmp_path: Path
) -> None:
    """A scheduled run that finds the database held (a manual run, another machine's schedule) waits for it; if it
    is still held then, the scheduled run fails its flow run saying who holds it, and the webhook is told."""
    from flows.deployment import ScheduledRunSkipped, scheduled_run

    config = write_sample_config(sample_web, tmp_path, extra=f'[alerts]\nwebhook_url = "{receiver.url}"\n')
    db = tmp_path / "demo.duckdb"
    holder = _hold(db, 120)
    try:
        started = time.monotonic()
        with pytest.raises(ScheduledRunSkipped, match="holder-run"):
            scheduled_run(str(config), wait_for_lock_s=2.0)
        assert 2.0 <= time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()
    assert not db.exists() or _q(db, "SELECT count(*) FROM crawl_runs") == [(0,)]  # nothing recorded, nothing touched
    (sent,) = (p["json"] for p in receiver.posts)
    assert sent["status"] == "skipped" and sent["alerts"][0]["kind"] == "run_skipped"
    assert "holder-run" in sent["text"] and str(holder.pid) in sent["text"]
    # once the holder is gone, the next scheduled run goes ahead
    result = scheduled_run(str(config), wait_for_lock_s=2.0)
    assert _q(db, "SELECT status FROM crawl_runs") == [(result["status"],)]
    assert result["status"] != "failed" and result["articles_new"] > 0
