"""Crash points for recovery tests: with BORDERWATCH_CRASH_AT=<name> in the environment, the process kills
itself with SIGKILL when it reaches that point, exactly as an OOM killer or a power cut would end it.

Names in use: ``load`` (inside the load transaction, after the articles are written, before COMMIT).
"""

from __future__ import annotations

import logging
import os
import signal

ENV = "BORDERWATCH_CRASH_AT"
log = logging.getLogger(__name__)


def crash_point(name: str) -> None:
    if os.environ.get(ENV) == name:
        log.warning("crash point %r reached: killing this process (%s=%s)", name, ENV, name)
        os.kill(os.getpid(), signal.SIGKILL)
