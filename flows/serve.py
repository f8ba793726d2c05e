"""`borderwatch serve`: the pipeline as a scheduled Prefect deployment, kept running by one command.

Prefect's temporary ephemeral server does not fire schedules (none fired in 165 s when measured), so unless
PREFECT_API_URL names a server (a shared one or Prefect Cloud), this supervisor starts a local one on
127.0.0.1 with analytics off. The deployment is served by a second child process, the runner
(flows.deployment), which starts each scheduled run in a subprocess of its own.

Each child gets its own process group, so one signal reaches everything below it (the flow run, the crawler,
the cleaning workers), and this process imports no Prefect, so it stays small and always answers signals.
Shutdown on SIGTERM or SIGINT, bounded: the runner is asked to stop (Prefect cancels a run in progress and
pauses the schedule) and its group is killed after RUNNER_GRACE_S; then the server gets SIGTERM and its
group is killed after SERVER_GRACE_S. A run cut short stays 'running' in crawl_runs until the next run
marks it 'interrupted'; the crawl is incremental, so the next run picks up what it missed.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows import PREFECT_EXPLICIT

log = logging.getLogger("borderwatch.serve")

REPO_ROOT = Path(__file__).resolve().parent.parent
FLOW_NAME = "borderwatch-scheduled"
DEPLOYMENT_NAME = "borderwatch"
SERVER_START_TIMEOUT_S = 180.0  # a cold start migrates a new SQLite database; slow disks and busy cores
RUNNER_GRACE_S = 45.0  # Prefect gives a cancelled run 30 s to stop by itself before it kills it
SERVER_GRACE_S = 15.0
POLL_S = 0.5
# the proxy settings of the environment must not route loopback health checks elsewhere
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ServeError(RuntimeError):
    """serve could not start (the server did not come up, a bad schedule); the message says why."""


@dataclass
class Schedule:
    cron: str | None = None
    interval: float | None = None

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.interval is None):
            raise ServeError("give a schedule: --cron 'EXPR' or --interval SECONDS (one of them)")
        if self.interval is not None and self.interval <= 0:
            raise ServeError("--interval must be a positive number of seconds")
        if self.cron is not None and len(self.cron.split()) not in (5, 6):
            raise ServeError(f"--cron {self.cron!r}: expected five fields, e.g. '0 * * * *' (hourly)")

    def describe(self) -> str:
        return f"cron {self.cron!r}" if self.cron else f"every {self.interval:g} s"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def api_healthy(api_url: str, timeout_s: float = 2.0) -> bool:
    try:
        with _LOCAL.open(api_url.rstrip("/") + "/health", timeout=timeout_s) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _die_with_parent() -> Callable[[], None] | None:
    """For the child, before exec (Linux): be sent SIGTERM when this supervisor dies, even by SIGKILL, so a
    server or runner is never left behind by a supervisor that could not clean up. The C function is looked
    up here, in the parent: between fork and exec the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _start_group(cmd: list[str], env: dict[str, str], log_path: Path | None = None) -> subprocess.Popen[bytes]:
    out = open(log_path, "ab") if log_path else None  # the child keeps its own copy; ours is closed below
    try:
        return subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,  # its own process group: one killpg reaches all its descendants
            preexec_fn=_die_with_parent(),
        )
    finally:
        if out:
            out.close()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group id is the child's pid (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


def stop_group(proc: subprocess.Popen[bytes], grace_s: float, name: str) -> None:
    """SIGTERM the child, SIGKILL its whole group after `grace_s`, and always sweep the group at the end
    (a crawler or a cleaning worker may outlive the process that started it)."""
    started = time.monotonic()
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0f s; killing it", name, grace_s)
    _signal_group(proc, signal.SIGKILL)
    proc.wait()
    log.warning("%s stopped in %.1f s", name, time.monotonic() - started)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class LocalServer:
    """A `prefect server start` child on 127.0.0.1, its database and log in `home`."""

    home: Path
    port: int = 0
    ui: bool = True
    start_timeout_s: float = SERVER_START_TIMEOUT_S
    command: list[str] | None = None  # tests replace it
    proc: subprocess.Popen[bytes] | None = None
    start_s: float = 0.0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"

    def start(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Start the server and wait until it answers; returns early (server stopped) if `should_stop()`."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        cmd = self.command or [
            sys.executable, "-m", "prefect", "server", "start",
            "--host", "127.0.0.1", "--port", str(self.port), "--analytics-off",
            "--ui" if self.ui else "--no-ui",
        ]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env.update(PREFECT_HOME=str(self.home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
        started = time.monotonic()
        self.proc = _start_group(cmd, env, self.log_path)
        deadline = started + self.start_timeout_s
        while not api_healthy(self.api_url):
            if should_stop():
                self.stop()
                return
            if self.proc.poll() is not None:
                raise ServeError(
                    f"the Prefect server exited with status {self.proc.returncode} before it was ready "
                    f"(log: {self.log_path}):\n{_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServeError(
                    f"the Prefect server did not answer {self.api_url}/health within {self.start_timeout_s:.0f} s "
                    f"(log: {self.log_path}):\n{_tail(self.log_path)}"
                )
            time.sleep(POLL_S)
        self.start_s = time.monotonic() - started

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc, SERVER_GRACE_S, "Prefect server")


@dataclass
class Supervisor:
    """Starts the server (when needed) and the runner, and ends both, bounded, on SIGTERM/SIGINT."""

    config_path: Path
    db_path: Path | None
    schedule: Schedule
    prefect_home: Path
    server: LocalServer | None = None
    runner: subprocess.Popen[bytes] | None = None
    _stop_signal: int | None = field(default=None, init=False)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if self._stop_signal is None:
            log.warning("received %s: stopping", signal.Signals(signum).name)
        self._stop_signal = signum

    def run(self) -> int:
        """Serve until a signal (exit 0) or until a child dies (exit 1)."""
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            return self._serve()
        finally:
            self.shutdown()
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _serve(self) -> int:
        api_url = os.environ.get("PREFECT_API_URL")
        if not api_url:
            self.server = LocalServer(self.prefect_home / "server", port=_env_port(), ui=_ui_wanted())
            log.warning("starting a local Prefect server (log: %s)", self.server.log_path)
            self.server.start(should_stop=lambda: self._stop_signal is not None)
            if self._stop_signal is not None:
                return 0
            api_url = self.server.api_url
            ui = f"; UI at {api_url.removesuffix('/api')}" if self.server.ui else ""
            log.warning(
                "Prefect server ready in %.1f s (pid %d): API %s%s",
                self.server.start_s, self.server.proc.pid if self.server.proc else 0, api_url, ui,
            )  # fmt: skip
        else:
            log.warning("using the Prefect server at %s (PREFECT_API_URL)", api_url)
        self.runner = _start_group(self._runner_cmd(), self._runner_env(api_url))
        log.warning(
            "serving deployment %s/%s, %s (runner pid %d); stop with SIGTERM or Ctrl-C",
            FLOW_NAME, DEPLOYMENT_NAME, self.schedule.describe(), self.runner.pid,
        )  # fmt: skip
        while self._stop_signal is None:
            if self.runner is not None and self.runner.poll() is not None:
                log.error("the runner exited with status %s", self.runner.returncode)
                return 1
            if self.server and self.server.proc and self.server.proc.poll() is not None:
                log.error("the Prefect server exited with status %s (log: %s)", self.server.proc.returncode,
                          self.server.log_path)  # fmt: skip
                return 1
            time.sleep(POLL_S)
        return 0

    def _runner_cmd(self) -> list[str]:
        spec = {
            "config": str(self.config_path.resolve()),
            "db": str(self.db_path.resolve()) if self.db_path else None,
            "cron": self.schedule.cron,
            "interval": self.schedule.interval,
        }
        return [sys.executable, "-c", "from flows.deployment import main; main()", json.dumps(spec)]

    def _runner_env(self, api_url: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PREFECT_API_URL"] = api_url
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
        if "PREFECT_LOGGING_LEVEL" not in PREFECT_EXPLICIT:
            env["PREFECT_LOGGING_LEVEL"] = "INFO"  # a long-lived service says when each run starts and ends
        return env

    def shutdown(self) -> None:
        """Runner first (it cancels its run and pauses the schedule through the server), then the server."""
        if self.runner is not None:
            stop_group(self.runner, RUNNER_GRACE_S, "runner")
        if self.server is not None:
            self.server.stop()


def _env_port() -> int:
    return int(os.environ.get("PREFECT_SERVER_API_PORT", "0") or 0)


def _ui_wanted() -> bool:
    # the UI is where scheduled runs are watched, so serve's own server has it unless the user said no
    if "PREFECT_UI_ENABLED" in PREFECT_EXPLICIT:
        return os.environ.get("PREFECT_UI_ENABLED", "").lower() in ("1", "true", "yes", "on")
    return True


def serve(config_path: Path, db_path: Path | None, schedule: Schedule, prefect_home: Path) -> int:
    return Supervisor(config_path, db_path, schedule, prefect_home).run()
