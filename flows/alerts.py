"""Alerts: what a run found wrong, posted as JSON to a webhook (`[alerts]` in the config).

The payload has a `text` field, so Slack, Mattermost and similar incoming webhooks show it as is, plus the
structured `alerts` for anything else. Posting never fails the run: after bounded retries a failure is logged.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from flows.config import AlertsConfig

log = logging.getLogger("borderwatch.alerts")


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failed, no_articles, error_rate, run_skipped (a scheduled run found the database held)
    message: str
    source: str | None = None


def run_alerts(
    cfg: AlertsConfig,
    status: str,
    message: str | None,
    per_source: list[dict[str, Any]],
    history: dict[str, list[int]],
) -> list[Alert]:
    """The alerts of a finished run. `history`: per source, new + updated articles of its earlier finished runs,
    newest first (storage.queries.source_history); this run's figures are in `per_source`."""
    alerts: list[Alert] = []
    if status == "failed" and cfg.on_failure:
        alerts.append(Alert("run_failed", f"run failed: {message or 'no message'}"))
    for row in per_source:
        source = row["source"]
        fetched, errors = int(row.get("fetched", 0)), int(row.get("errors", 0))
        if fetched >= cfg.min_pages_for_error_rate and errors / fetched > cfg.max_error_rate:
            alerts.append(
                Alert("error_rate", f"{source}: {errors} of {fetched} pages failed ({errors / fetched:.0%})", source)
            )
        if status == "failed":
            continue
        streak = 0
        for articles in [int(row.get("articles_new", 0)) + int(row.get("articles_updated", 0)), *history[source]]:
            if articles:
                break
            streak += 1
        # said once when the streak reaches the threshold, then again every as many runs: not on every run
        if streak and streak % cfg.zero_article_runs == 0:
            alerts.append(Alert("no_articles", f"{source}: no new or updated article in {streak} runs", source))
    return alerts


def post(cfg: AlertsConfig, run_id: str, status: str, alerts: list[Alert]) -> bool:
    """POST the alerts to the webhook, retrying with backoff; True when the receiver accepted them."""
    if not cfg.webhook_url or not alerts:
        return False
    text = f"borderwatch run {run_id} ({status}):\n" + "\n".join(f"• {a.message}" for a in alerts)
    body = json.dumps({"text": text, "run_id": run_id, "status": status, "alerts": [asdict(a) for a in alerts]})
    request = urllib.request.Request(
        cfg.webhook_url,
        data=body.encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "borderwatch-alerts"},
        method="POST",
    )
    for attempt in range(cfg.retries + 1):
        try:
            with urllib.request.urlopen(request, timeout=cfg.timeout) as response:
                response.read(65536)
            log.info("posted %d alert(s) of run %s to the webhook", len(alerts), run_id)
            return True
        except urllib.error.HTTPError as exc:
            if 400 <= exc.code < 500 and exc.code != 429:  # the receiver refuses this request: retrying won't help
                log.warning("alert webhook refused the alerts (HTTP %s); not delivered", exc.code)
                return False
            error: Exception = exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = exc
        if attempt == cfg.retries:
            log.warning("alert webhook failed after %d attempts, alerts not delivered: %s", attempt + 1, error)
            return False
        delay = 2.0**attempt
        log.warning("alert webhook failed (%s); retrying in %.0f s", error, delay)
        time.sleep(delay)
    return False
