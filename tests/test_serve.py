"""`borderwatch serve`: scheduled runs against the sample site through a local Prefect server it starts itself,
visible through the Prefect API, and a shutdown on SIGTERM/SIGINT that is bounded and leaves no process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import REPO, write_sample_config

from flows.cli import cli
from flows.serve import DEPLOYMENT_NAME, FLOW_NAME, RUNNER_GRACE_S, SERVER_GRACE_S, LocalServer, ServeError
from storage.db import DatabaseLocked, connection

# what a stop may take: the runner's grace, the server's, and the supervisor's own polling
STOP_BOUND_S = RUNNER_GRACE_S + SERVER_GRACE_S + 10
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _start_serve(tmp_path: Path, config: Path, *args: str, **extra_env: str) -> tuple[subprocess.Popen, Path, str]:
    """`borderwatch serve` as a real process, with its own Prefect home (the marker its descendants carry)."""
    home = tmp_path / "prefect-home"
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_UI_ENABLED")}
    env.pop("PREFECT_LOGGING_LEVEL", None)  # the defaults a user gets: UI on, run logs at INFO
    env.update(
        PREFECT_HOME=str(home),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")])),
        PREFECT_RUNNER_POLL_FREQUENCY="2",  # the runner's check for due runs (10 s by default)
        **extra_env,
    )
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", *args, "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )
    return proc, log, f"PREFECT_HOME={home}"


def _marked_processes(marker: str) -> list[int]:
    """Live (not zombie) processes whose environment holds `marker`: serve's whole tree inherits it."""
    found = []
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(item.startswith(needle) for item in environ.split(b"\0")):
            found.append(int(entry.name))
    return found


def _wait_for_line(proc: subprocess.Popen, log: Path, pattern: str, timeout_s: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        match = re.search(pattern, log.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match
        assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{log.read_text()}"
        time.sleep(0.5)
    raise AssertionError(f"no {pattern!r} in {timeout_s:.0f} s:\n{log.read_text()}")


def _finished_runs(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    try:
        # the read helper waits while a run's load holds the file
        with connection(db, read_only=True, wait_s=20) as con:
            return con.execute(
                "SELECT run_id, status FROM crawl_runs WHERE status IN ('completed', 'completed_with_errors')"
            ).fetchall()
    except DatabaseLocked:
        return []


def _runs_since(db: Path, since: datetime, status: str) -> list[str]:
    with connection(db, read_only=True, wait_s=20) as con:
        rows = con.execute(
            "SELECT run_id FROM crawl_runs WHERE started_at > ? AND status = ? ORDER BY run_id", [since, status]
        ).fetchall()
    return [r[0] for r in rows]


def _api(url: str, body: dict | None = None, missing_ok: bool = False) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with LOCAL.open(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if missing_ok and exc.code == 404:
            return None
        raise


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # it ended meanwhile
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _stop(proc: subprocess.Popen, sig: int, marker: str) -> float:
    """Send `sig`, check serve ends with 0 within the bound and leaves no process of its tree; the time taken."""
    started = time.monotonic()
    proc.send_signal(sig)
    try:
        code = proc.wait(timeout=STOP_BOUND_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    took = time.monotonic() - started
    assert code == 0
    deadline = time.monotonic() + 5  # an orphan's last moments (init reaping it) are not a leftover
    while _marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked_processes(marker) == []
    return took


def test_serve_runs_on_schedule_shows_runs_in_prefect_and_stops_cleanly(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path / "data")
    db = tmp_path / "data" / "demo.duckdb"
    proc, log, marker = _start_serve(tmp_path, config, "--interval", "4")
    try:
        ready = _wait_for_line(proc, log, r"Prefect server ready in ([\d.]+) s \(pid (\d+)\): API (\S+/api)", 200)
        start_s, server_pid, api = float(ready.group(1)), int(ready.group(2)), ready.group(3)
        assert re.match(r"http://127\.0\.0\.1:\d+/api$", api)
        with LOCAL.open(api.removesuffix("/api") + "/", timeout=30) as page:  # the UI, served locally
            assert page.status == 200 and b"<html" in page.read().lower()

        deadline = time.monotonic() + 180
        deployment, runs = None, []
        # the runner creates the deployment once it is up; a run is recorded in crawl_runs by the pipeline a
        # moment before Prefect marks the flow run Completed
        while deployment is None or len(runs) < 2 or len(_finished_runs(db)) < 2:
            assert time.monotonic() < deadline, f"fewer than 2 finished runs in 180 s:\n{log.read_text()}"
            assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{log.read_text()}"
            time.sleep(2)
            deployment = deployment or _api(f"{api}/deployments/name/{FLOW_NAME}/{DEPLOYMENT_NAME}", missing_ok=True)
            if deployment:
                completed = {"deployment_id": {"any_": [deployment["id"]]}, "state": {"type": {"any_": ["COMPLETED"]}}}
                runs = _api(f"{api}/flow_runs/filter", {"flow_runs": completed})
        assert deployment["schedules"] and deployment["schedules"][0]["schedule"]["interval"] == 4
        assert deployment["parameters"]["config_path"] == str(config.resolve())
        assert all(r["auto_scheduled"] for r in runs)  # fired by the schedule, not started by hand
        rss = _rss_mb(server_pid)

        # the config is read at every run: a slow crawl from the next run on, so that SIGTERM meets one
        edited = datetime.now(UTC)
        config.write_text(config.read_text().replace("download_delay = 0", "download_delay = 3"))
        while not (running := _runs_since(db, edited, "running")):
            assert time.monotonic() < deadline + 120, f"no run started after the edit:\n{log.read_text()}"
            assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{log.read_text()}"
            time.sleep(1)
        time.sleep(3)  # into its crawl
        tree = _marked_processes(marker)
        assert server_pid in tree and len(tree) >= 5  # serve, server, runner, the flow run, its crawler
        tree_rss = sum(_rss_mb(pid) for pid in tree)
    except BaseException:
        proc.kill()
        raise
    took = _stop(proc, signal.SIGTERM, marker)
    print(
        f"\nPrefect server: ready in {start_s:.1f} s, RSS {rss:.0f} MB; during a run {len(tree)} processes, "
        f"{tree_rss:.0f} MB in all; serve stopped in {took:.1f} s mid-run"
    )
    assert "received SIGTERM" in log.read_text()
    # the run cut short is recorded as failed (flows.pipeline), not left 'running'
    assert _runs_since(db, edited, "failed") == running


def test_with_prefect_api_url_it_serves_there_and_leaves_that_server_running(sample_web, tmp_path: Path) -> None:
    shared = LocalServer(tmp_path / "shared-server", ui=False)  # stands for a shared server
    shared.start()
    try:
        config = write_sample_config(sample_web, tmp_path / "data")
        proc, log, marker = _start_serve(tmp_path, config, "--interval", "5", PREFECT_API_URL=shared.api_url)
        try:
            _wait_for_line(proc, log, re.escape(f"using the Prefect server at {shared.api_url}"), 60)
            deadline = time.monotonic() + 180
            runs: list = []
            while not runs:
                assert time.monotonic() < deadline, f"no completed run in 180 s:\n{log.read_text()}"
                assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{log.read_text()}"
                time.sleep(2)
                completed = {
                    "deployments": {"name": {"any_": [DEPLOYMENT_NAME]}},
                    "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
                }
                runs = _api(f"{shared.api_url}/flow_runs/filter", completed)
            assert not (tmp_path / "prefect-home" / "server").exists()  # it started no server of its own
        except BaseException:
            proc.kill()
            raise
        _stop(proc, signal.SIGTERM, marker)
        assert shared.proc is not None and shared.proc.poll() is None
        deployment = _api(f"{shared.api_url}/deployments/name/{FLOW_NAME}/{DEPLOYMENT_NAME}")
        assert deployment["paused"]  # nothing serves it now: its schedule makes no runs meanwhile
    finally:
        shared.stop()


def test_sigint_while_the_server_starts_ends_everything(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path / "data")
    proc, log, marker = _start_serve(tmp_path, config, "--cron", "0 * * * *")
    try:
        _wait_for_line(proc, log, r"starting a local Prefect server", 60)
        time.sleep(1)  # the server process is up and initialising
    except BaseException:
        proc.kill()
        raise
    assert _stop(proc, signal.SIGINT, marker) < STOP_BOUND_S
    assert "Prefect server ready" not in log.read_text()


def test_a_killed_serve_takes_its_server_and_runner_with_it(sample_web, tmp_path: Path) -> None:
    """SIGKILL leaves serve no chance to clean up: its children are told by the kernel (PR_SET_PDEATHSIG)."""
    config = write_sample_config(sample_web, tmp_path / "data")
    proc, log, marker = _start_serve(tmp_path, config, "--cron", "0 * * * *")
    try:
        _wait_for_line(proc, log, r"serving deployment", 200)
        assert len(_marked_processes(marker)) >= 3
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 30  # the server stops in seconds, the runner within its 10 s grace
    while _marked_processes(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _marked_processes(marker) == []


def test_a_server_that_exits_at_once_is_a_clear_error(tmp_path: Path) -> None:
    server = LocalServer(tmp_path, command=[sys.executable, "-c", "print('port is taken'); raise SystemExit(3)"])
    with pytest.raises(ServeError, match=r"exited with status 3 before it was ready[\s\S]*port is taken"):
        server.start()


def test_a_server_that_never_answers_is_stopped_and_reported(tmp_path: Path) -> None:
    server = LocalServer(tmp_path, start_timeout_s=1, command=[sys.executable, "-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    with pytest.raises(ServeError, match="did not answer .*/health within 1 s"):
        server.start()
    assert server.proc is not None and server.proc.poll() is not None
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a schedule"),
        (["--cron", "0 * * * *", "--interval", "60"], "give a schedule"),
        (["--interval", "0"], "positive"),
        (["--cron", "hourly"], "five fields"),
    ],
)
def test_the_schedule_is_checked_before_anything_starts(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["serve", *args])
    assert result.exit_code == 2 and message in result.output


def test_a_run_that_passes_its_timeout_is_failed_and_its_crawler_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduled flow bounds each run (flows.deployment.run_timeout_s): a hung crawl does not hold the
    schedule forever. Here a page that answers after 30 s meets a 4 s run timeout."""
    from conftest import Site, article, rss

    from flows import deployment
    from flows.demo_site import serve_sample_site

    site = Site(tmp_path / "site")
    site.put("story.html", article("Asylum hearings resume at the border"))
    site.route("/story.html", delay=30)
    with serve_sample_site(site.root, first_port=site.port) as web:
        base = web.bases["o"]
        site.put("feed.xml", rss(f"{base}/story.html"))
        config = tmp_path / "borderwatch.toml"
        config.write_text(
            f'[storage]\ndb = "{tmp_path / "bw.duckdb"}"\nraw_dir = "{tmp_path / "raw"}"\n'
            '[crawl]\ndownload_delay = 0\ndownload_timeout = 60\nallow_private_hosts = ["127.0.0.1"]\n'
            f'[[sources]]\nkey = "o"\nname = "O"\nlanguage = "en"\nfeeds = ["{base}/feed.xml"]\n'
        )
        monkeypatch.setattr(deployment, "run_timeout_s", lambda cfg: 4.0)
        with pytest.raises(Exception, match="(?i)timeout|timed out"):
            deployment.scheduled_run(str(config))
    with connection(tmp_path / "bw.duckdb", read_only=True) as con:
        status, message, took = con.execute(
            "SELECT status, message, epoch(finished_at - started_at) FROM crawl_runs"
        ).fetchone()
    assert status == "failed" and "run timeout" in message
    assert took < 15  # the crawler, waiting for its 30 s page, was stopped
