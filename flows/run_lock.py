"""One run at a time per database: an exclusive lock on a file beside it, held from start to end of a run.

DuckDB's own file lock is held only for the short load transaction, so two runs could otherwise crawl at once
and interleave their loads. The lock is `fcntl.flock` on `<db>.run-lock`: the kernel drops it when the holding
process dies (SIGKILL included), so a killed run never leaves a stale lock behind. The file records who holds it,
for the message the second run prints.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any

POLL_S = 0.5


class RunLocked(RuntimeError):
    """Another run holds the database's run lock."""

    def __init__(self, path: Path, holder: dict[str, Any], waited_s: float) -> None:
        self.path = path
        self.holder = holder
        who = ", ".join(f"{k} {holder[k]}" for k in ("run_id", "pid", "host", "since") if holder.get(k))
        super().__init__(
            f"another borderwatch run holds {path} ({who or 'holder unknown'}); not starting (waited {waited_s:.0f} s)"
        )


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".run-lock")


class RunLock:
    """`with RunLock(db, run_id, wait_s=0):` — raises RunLocked when another run holds it after `wait_s` s."""

    def __init__(self, db_path: Path, run_id: str, wait_s: float = 0.0) -> None:
        self.path = lock_path(Path(db_path))
        self.run_id = run_id
        self.wait_s = wait_s
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the run's lifetime
        start = time.monotonic()
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - start
                if waited >= self.wait_s:
                    holder = _read_holder(fh)
                    fh.close()
                    raise RunLocked(self.path, holder, waited) from None
                time.sleep(min(POLL_S, self.wait_s - waited))
        fh.seek(0)
        fh.truncate()
        holder = {
            "run_id": self.run_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fh.write(json.dumps(holder))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is None:
            return
        self._fh.seek(0)
        self._fh.truncate()  # no holder recorded while nobody holds it
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_holder(fh: IO[str]) -> dict[str, Any]:
    try:
        fh.seek(0)
        data = json.loads(fh.read() or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}
