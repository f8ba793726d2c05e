"""Prefect flows and tasks that compose the stages, the cleaning, relevance and dedup logic, config and the CLI.

Prefect reads its settings from the environment when it is first imported, so the offline-safe defaults
are set here, before any module of this package can import it. Explicit environment values win.
"""

import os

PREFECT_DEFAULTS = {
    # otherwise its telemetry tries to resolve an outside host
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # a cold start of the ephemeral server's database can pass the default 20 s
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "60",
    "PREFECT_UI_ENABLED": "false",
}
# which of them the user set: `borderwatch serve` picks other values for its own server and runner otherwise
PREFECT_EXPLICIT = frozenset(key for key in PREFECT_DEFAULTS if key in os.environ)
for _key, _value in PREFECT_DEFAULTS.items():
    os.environ.setdefault(_key, _value)
