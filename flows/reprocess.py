"""Reprocessing: re-clean stored raw pages with the current code, so improvements reach old data without
re-crawling. An article whose text or metadata comes out different gets a new version."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import relevance
from flows.boilerplate import strip_lines
from flows.boilerplate_store import BoilerplateLearner
from flows.clean import Cleaned, PageJob, clean_pages
from flows.config import Config
from flows.dedup import content_hash
from flows.run_lock import RunLock
from flows.search import refresh_after_load
from storage.archive import WARC_NAME, read_run_responses
from storage.db import connection
from storage.load import load_run, start_run
from storage.queries import reprocess_targets, stored_articles

# what a re-clean may change; a difference in any of them is a new version of the article
COMPARED = ("title", "authors", "credits", "published_at", "modified_at", "language", "text", "is_partial")


@task(name="reprocess-clean", cache_policy=NO_CACHE)
def reclean(cfg: Config, targets: list[dict[str, Any]]) -> dict[int, Cleaned]:
    jobs: list[PageJob] = []
    by_run: dict[str, dict[tuple[str, int], int]] = {}
    for i, t in enumerate(targets):
        by_run.setdefault(t["run_id"], {})[(t.get("warc_file") or WARC_NAME, t["warc_offset"])] = i
    for run_id, wanted in by_run.items():
        for where, resp in read_run_responses(Path(cfg.storage.raw_dir) / run_id, wanted):
            jobs.append(PageJob(wanted[where], resp.body, resp.url, resp.headers.get("content-type"), None))
    return clean_pages(jobs, min_words=cfg.clean.min_words, workers=cfg.clean.workers)


@flow(name="borderwatch-reprocess", validate_parameters=False)
def reprocess_flow(cfg: Config, db_path: Path, run_ids: list[str] | None, lock_wait_s: float = 0.0) -> dict[str, int]:
    """Re-clean the latest archived page of every stored article (of `run_ids`, or all)."""
    with RunLock(Path(db_path), "reprocess", wait_s=lock_wait_s):  # never beside a run or another reprocess
        return _reprocess(cfg, db_path, run_ids)


def _reprocess(cfg: Config, db_path: Path, run_ids: list[str] | None) -> dict[str, int]:
    started = time.monotonic()
    now = datetime.now(UTC)
    run_id = now.strftime("reprocess-%Y%m%dT%H%M%SZ")
    with connection(db_path) as con:
        targets = reprocess_targets(con, run_ids)
        stored = stored_articles(con, [t["article_id"] for t in targets])
        sources = sorted({t["source"] for t in targets})
        learner = BoilerplateLearner(con, sources, cfg.clean.boilerplate_min_articles)
    cleaned = reclean(cfg, targets)
    topic = relevance.load_topic(cfg.topic.file, scopes=cfg.topic.scopes)
    rows: list[dict[str, Any]] = []
    missing = 0
    for i, t in enumerate(targets):
        c = cleaned.get(i)
        old = stored.get(t["article_id"])
        if c is None or old is None or not c.is_article:
            missing += 1  # the raw page is gone or no longer extracts: keep what is stored
            continue
        text = strip_lines(c.text, learner.known.get(t["source"], ()))
        rel = relevance.score(topic, c.title or "", text, c.language)
        new = {
            "title": c.title or old["title"],
            "authors": c.authors,
            "credits": c.credits,
            "published_at": c.published_at,
            "modified_at": c.modified_at,
            "language": c.language,
            "text": text,
            "is_partial": c.is_partial,
        }
        if all(_same(new[k], old.get(k)) for k in COMPARED):
            continue
        rows.append(
            {
                **old,
                **new,
                "word_count": len(text.split()),
                "content_hash": content_hash(new["title"], text),
                "relevance": rel.score,
                "relevance_terms": list(rel.terms),
                "version": old["version"] + 1,
                "updated_at": now,
                "run_id": run_id,
            }
        )
    counts = {"articles_checked": len(targets), "articles_updated": len(rows), "not_reprocessed": missing}
    with connection(db_path) as con:
        start_run(con, run_id, now, sources)
        load_run(
            con,
            run_id,
            [],
            rows,
            {
                "finished_at": datetime.now(UTC),
                "status": "completed",
                "duration_s": time.monotonic() - started,
                "message": f"reprocess of {len(targets)} articles",
                "articles_updated": len(rows),
            },
        )
        refresh_after_load(con)  # changed or moved articles are re-indexed
    return counts


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    return (a or None) == (b or None)
