"""The pipeline flow: crawl → raw archive → clean → relevance → dedup → load, as one Prefect flow run.

One Prefect task per stage per batch (a task run costs milliseconds of server time; per-article tasks
would swamp the ephemeral server). Every stage works on plain data handed down by this composer; only
the load stage writes to the database, in one short transaction.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import relevance
from flows.clean import Cleaned, PageJob, clean_pages
from flows.config import Config, Source
from flows.crawl import run_crawler, write_plan
from flows.dedup import Candidate, content_hash, decide
from storage.archive import FetchRecord, read_ledger, read_responses
from storage.db import connection
from storage.load import fail_run, load_run, start_run
from storage.queries import known_articles
from storage.urls import article_id, canonicalize_url

log = logging.getLogger("borderwatch.pipeline")

ERROR_OUTCOMES = {"http_error", "error", "blocked"}
ARTICLE_OUTCOMES = {"new", "updated", "unchanged", "duplicate"}


@dataclass
class RunSummary:
    run_id: str
    status: str
    db: str
    duration_s: float
    counts: dict[str, int] = field(default_factory=dict)
    per_source: dict[str, dict[str, int]] = field(default_factory=dict)
    message: str | None = None

    def lines(self) -> list[str]:
        c = self.counts
        return [
            f"run {self.run_id}: {self.status} in {self.duration_s:.1f} s → {self.db}",
            f"  pages fetched {c.get('pages_fetched', 0)}; articles new {c.get('articles_new', 0)}, "
            f"updated {c.get('articles_updated', 0)}, unchanged {c.get('articles_unchanged', 0)}, "
            f"duplicate {c.get('articles_duplicate', 0)}, off-topic {c.get('articles_offtopic', 0)}; "
            f"not articles {c.get('not_articles', 0)}; errors {c.get('errors', 0)}",
            *(f"  {msg}" for msg in ([self.message] if self.message else [])),
            *(
                f"  {source}: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
                for source, outcomes in sorted(self.per_source.items())
            ),
        ]


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_stage(cfg: Config, sources: tuple[Source, ...], run_id: str, run_dir: Path) -> int:
    plan = write_plan(cfg, sources, run_id, run_dir)
    # bounded: every page is bounded by its own timeout, the whole crawl by this
    # hosts are crawled in parallel, so the slowest source sets the pace: its pages times the delay
    budget = 600.0 + cfg.crawl.max_pages_per_source * max(cfg.crawl.download_delay, 0.05) * 3
    code = run_crawler(plan, run_dir / "crawl.log", timeout_s=budget)
    if code != 0:
        log.warning("crawler exited with status %s (see %s)", code, run_dir / "crawl.log")
    return code


@task(name="clean", cache_policy=NO_CACHE)
def clean_stage(
    cfg: Config, records: list[FetchRecord], run_dir: Path, languages: dict[str, str]
) -> dict[int, Cleaned]:
    """Extract every fetched article page of the run (by ledger index) from the raw archive."""
    wanted = {
        r.warc_offset: i
        for i, r in enumerate(records)
        if r.kind == "article" and r.outcome == "fetched" and r.warc_offset is not None
    }
    jobs = [
        PageJob(
            key=wanted[offset],
            body=resp.body,
            url=resp.url,
            content_type=resp.headers.get("content-type"),
            fallback_language=languages.get(records[wanted[offset]].source),
        )
        for offset, resp in read_responses(run_dir, set(wanted))
    ]
    return clean_pages(jobs, min_words=cfg.clean.min_words, workers=cfg.clean.workers)


@task(name="relevance", cache_policy=NO_CACHE)
def relevance_stage(cfg: Config, cleaned: dict[int, Cleaned]) -> dict[int, relevance.Relevance]:
    topic = relevance.load_topic(cfg.topic.file, scopes=cfg.topic.scopes)
    keys = [k for k, c in cleaned.items() if c.is_article]
    scores = relevance.score_many(topic, [(cleaned[k].title or "", cleaned[k].text, cleaned[k].language) for k in keys])
    return dict(zip(keys, scores, strict=True))


def _page_row(run_id: str, r: FetchRecord, outcome: str, reason: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "url": r.url,
        "final_url": r.final_url,
        "source": r.source,
        "kind": r.kind,
        "http_status": r.http_status,
        "outcome": outcome,
        "reason": reason,
        "fetched_at": datetime.fromisoformat(r.fetched_at),
        "content_type": r.content_type,
        "warc_file": r.warc_file,
        "warc_offset": r.warc_offset,
        **extra,
    }


@task(name="dedup-and-load", cache_policy=NO_CACHE)
def dedup_load_stage(
    cfg: Config,
    db_path: Path,
    run_id: str,
    records: list[FetchRecord],
    cleaned: dict[int, Cleaned],
    scores: dict[int, relevance.Relevance],
    started: float,
    crawl_code: int,
) -> RunSummary:
    now = datetime.now(UTC)
    pages: list[dict[str, Any]] = []
    candidates: list[Candidate] = []
    cand_index: dict[str, int] = {}
    for i, r in enumerate(records):
        if r.kind != "article" or r.outcome != "fetched":
            outcome = "discovery" if r.outcome == "fetched" else r.outcome
            pages.append(_page_row(run_id, r, outcome, r.reason))
            continue
        c = cleaned.get(i)
        if c is None:
            pages.append(_page_row(run_id, r, "error", "response missing from the raw archive"))
            continue
        if not c.is_article:
            pages.append(_page_row(run_id, r, "not_article", c.reason, title=c.title))
            continue
        rel = scores[i]
        canonical = c.canonical_url or canonicalize_url(r.final_url or r.url)
        aid = article_id(canonical)
        extra = {
            "canonical_url": canonical,
            "article_id": aid,
            "title": c.title or r.hints.get("feed_title"),
            "relevance": rel.score,
            "relevance_terms": list(rel.terms),
        }
        if rel.score < cfg.topic.min_relevance:
            pages.append(
                _page_row(run_id, r, "off_topic", f"relevance {rel.score:.2f} < {cfg.topic.min_relevance}", **extra)
            )
            continue
        cand_index[r.url] = len(pages)
        pages.append(_page_row(run_id, r, "pending", None, **extra))
        candidates.append(
            Candidate(
                page_url=r.url,
                source=r.source,
                article_id=aid,
                canonical_url=canonical,
                content_hash=content_hash(c.title, c.text),
                self_canonical=canonicalize_url(r.final_url or r.url) == canonical,
                fields={
                    "title": extra["title"],
                    "authors": c.authors,
                    "published_at": c.published_at,
                    "modified_at": c.modified_at,
                    "language": c.language,
                    "text": c.text,
                    "word_count": c.word_count,
                    "relevance": rel.score,
                    "relevance_terms": list(rel.terms),
                },
            )
        )
    with connection(db_path) as con:
        known = known_articles(con, [c.article_id for c in candidates], [c.content_hash for c in candidates])
        result = decide(candidates, known, run_id, now)
        for url, decision in result.decisions.items():
            pages[cand_index[url]].update(outcome=decision.outcome, reason=decision.reason)
        counts = Counter(p["outcome"] for p in pages)
        run_counts = {
            "pages_fetched": sum(1 for r in records if r.http_status is not None),
            "articles_new": counts["new"],
            "articles_updated": counts["updated"],
            "articles_unchanged": counts["unchanged"],
            "articles_duplicate": counts["duplicate"],
            "articles_offtopic": counts["off_topic"],
            "not_articles": counts["not_article"],
            "errors": sum(counts[o] for o in ERROR_OUTCOMES),
        }
        message = None
        if crawl_code != 0:
            message = f"crawler exited with status {crawl_code}"
        status = "completed" if crawl_code == 0 and run_counts["errors"] == 0 else "completed_with_errors"
        if crawl_code != 0 and not records:
            status = "failed"
        duration = time.monotonic() - started
        load_run(
            con,
            run_id,
            pages,
            result.rows,
            {
                "finished_at": datetime.now(UTC),
                "status": status,
                "duration_s": duration,
                "message": message,
                **run_counts,
            },
        )
    per_source: dict[str, Counter[str]] = {}
    for p in pages:
        per_source.setdefault(p["source"], Counter())[p["outcome"]] += 1
    return RunSummary(
        run_id, status, str(db_path), duration, run_counts, {k: dict(v) for k, v in per_source.items()}, message
    )


@flow(name="borderwatch-run", validate_parameters=False)
def pipeline_flow(cfg: Config, source_keys: list[str] | None = None, db_path: Path | None = None) -> RunSummary:
    """One batch run over the configured sources."""
    started = time.monotonic()
    sources = cfg.select(source_keys)
    db_path = Path(db_path or cfg.storage.db)
    now = datetime.now(UTC)
    run_id = new_run_id(now)
    run_dir = Path(cfg.storage.raw_dir) / run_id
    with connection(db_path) as con:
        start_run(con, run_id, now, [s.key for s in sources])
    try:
        code = crawl_stage(cfg, sources, run_id, run_dir)
        records = read_ledger(run_dir)
        cleaned = clean_stage(cfg, records, run_dir, {s.key: s.language for s in sources})
        scores = relevance_stage(cfg, cleaned)
        return dedup_load_stage(cfg, db_path, run_id, records, cleaned, scores, started, code)
    except Exception as exc:
        with connection(db_path) as con:
            fail_run(con, run_id, datetime.now(UTC), f"{type(exc).__name__}: {exc}")
        raise
