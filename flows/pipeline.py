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
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows import alerts, near_dup, relevance, run_report
from flows.boilerplate_store import BoilerplateLearner
from flows.clean import Cleaned, PageJob, clean_pages
from flows.config import Config, Source
from flows.crawl import read_stats, run_crawlers, write_plan
from flows.dedup import Candidate, Signer, cluster_copies, content_hash, decide, index_texts
from flows.run_lock import RunLock
from flows.search import refresh_after_load
from storage.archive import WARC_NAME, FetchRecord, discovery_date, read_ledger, read_run_responses
from storage.db import connection
from storage.load import fail_run, load_run, start_run
from storage.near_dup import BandLookup, articles_without_signature
from storage.queries import crawl_state, known_articles, source_history
from storage.urls import article_id, canonicalize_url, url_key

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
    alerts: list[str] = field(default_factory=list)
    task_runs: dict[str, int] = field(default_factory=dict)  # Dask runner: task runs by worker

    def lines(self) -> list[str]:
        c = self.counts
        return [
            f"run {self.run_id}: {self.status} in {self.duration_s:.1f} s → {self.db}",
            f"  pages fetched {c.get('pages_fetched', 0)}; articles new {c.get('articles_new', 0)}, "
            f"updated {c.get('articles_updated', 0)}, unchanged {c.get('articles_unchanged', 0)}, "
            f"duplicate {c.get('articles_duplicate', 0)}, off-topic {c.get('articles_offtopic', 0)}; "
            f"not articles {c.get('not_articles', 0)}; errors {c.get('errors', 0)}; "
            f"known and not fetched {c.get('skipped_known', 0)}, not modified {c.get('not_modified', 0)}",
            *(f"  {msg}" for msg in ([self.message] if self.message else [])),
            *(f"  ALERT {a}" for a in self.alerts),
            *(
                [
                    f"  processing on Dask: {sum(self.task_runs.values())} task runs on {len(self.task_runs)} "
                    "workers (" + ", ".join(f"{w}: {n}" for w, n in sorted(self.task_runs.items())) + ")"
                ]
                if self.task_runs
                else []
            ),
            *(
                f"  {source}: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
                for source, outcomes in sorted(self.per_source.items())
            ),
        ]


def new_run_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


# Backstops, far above what a normal run takes: a stage that hangs fails the run (recorded, alerted) instead of
# holding the run lock forever. The crawl is bounded by its own budget below; the network retries (per request,
# with backoff) are the crawler's, so a crawl task is never re-run as a whole.
CLEAN_TIMEOUT_S = 4 * 3600
RELEVANCE_TIMEOUT_S = 3600
LOAD_TIMEOUT_S = 3600


def crawl_budget_s(cfg: Config) -> float:
    """How long the crawler may run before it is asked to stop."""
    # every page is bounded by its own timeout; hosts are crawled in parallel, so the slowest source sets
    # the pace (its pages times the delay) and the whole crawl is bounded by this
    return 600.0 + cfg.crawl.max_pages_per_source * max(cfg.crawl.download_delay, 0.05) * 3


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_stage(cfg: Config, sources: tuple[Source, ...], run_id: str, run_dir: Path, state: list[dict]) -> int:
    topic = relevance.load_topic(cfg.topic.file, scopes=cfg.topic.scopes)
    plan = write_plan(cfg, sources, run_id, run_dir, state, topic.title_screen)
    shared = bool(cfg.crawl.frontier)
    code = run_crawlers(plan, run_dir, timeout_s=crawl_budget_s(cfg), processes=cfg.crawl.processes, shared=shared)
    if code != 0:
        logs = run_dir / ("crawl-w*.log" if shared else "crawl.log")
        log.warning("crawler exited with status %s (see %s)", code, logs)
    return code


def article_offsets(records: list[FetchRecord]) -> dict[tuple[str, int], int]:
    """(WARC file, offset) → ledger index of every fetched article page of the run; keyed by file too: a crawl
    shared by several processes has one WARC file per process."""
    return {
        (r.warc_file or WARC_NAME, r.warc_offset): i
        for i, r in enumerate(records)
        if r.kind == "article" and r.outcome == "fetched" and r.warc_offset is not None
    }


@task(name="clean", cache_policy=NO_CACHE, timeout_seconds=CLEAN_TIMEOUT_S)
def clean_stage(
    cfg: Config, records: list[FetchRecord], run_dir: Path, languages: dict[str, str]
) -> dict[int, Cleaned]:
    """Extract every fetched article page of the run (by ledger index) from the raw archive."""
    wanted = article_offsets(records)
    jobs = [
        PageJob(
            key=wanted[where],
            body=resp.body,
            url=resp.url,
            content_type=resp.headers.get("content-type"),
            fallback_language=languages.get(records[wanted[where]].source),
        )
        for where, resp in read_run_responses(run_dir, wanted)
    ]
    return clean_pages(jobs, min_words=cfg.clean.min_words, workers=cfg.clean.workers)


@task(name="relevance", cache_policy=NO_CACHE, timeout_seconds=RELEVANCE_TIMEOUT_S)
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


def article_fields(c: Cleaned, rel: relevance.Relevance, title: str | None) -> dict[str, Any]:
    """What an articles row takes from cleaning and scoring."""
    return {
        "title": title,
        "authors": c.authors,
        "credits": c.credits,
        "published_at": c.published_at,
        "modified_at": c.modified_at,
        "language": c.language,
        "text": c.text,
        "word_count": c.word_count,
        "relevance": rel.score,
        "relevance_terms": list(rel.terms),
        "is_partial": c.is_partial,
    }


def classify_pages(
    cfg: Config,
    run_id: str,
    records: list[FetchRecord],
    cleaned: dict[int, Cleaned],
    scores: dict[int, relevance.Relevance],
) -> tuple[list[dict[str, Any]], list[Candidate]]:
    """A pages row for every ledger record, and the on-topic articles that go on to dedup (their rows wait
    with outcome 'pending' until dedup decides)."""
    pages: list[dict[str, Any]] = []
    candidates: list[Candidate] = []
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
        extra = {
            "canonical_url": canonical,
            "article_id": article_id(canonical),
            "title": c.title or r.hints.get("feed_title"),
            "relevance": rel.score,
            "relevance_terms": list(rel.terms),
        }
        if rel.score < cfg.topic.min_relevance:
            reason = f"relevance {rel.score:.2f} < {cfg.topic.min_relevance}"
            pages.append(_page_row(run_id, r, "off_topic", reason, **extra))
            continue
        pages.append(_page_row(run_id, r, "pending", None, **extra))
        candidates.append(
            Candidate(
                page_url=r.url,
                source=r.source,
                article_id=extra["article_id"],
                canonical_url=canonical,
                content_hash=content_hash(c.title, c.text),
                self_canonical=canonicalize_url(r.final_url or r.url) == canonical,
                declared=c.declares_canonical,
                fields=article_fields(c, rel, extra["title"]),
            )
        )
    return pages, candidates


def url_state_rows(run_id: str, records: list[FetchRecord], pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the next run's crawler should know of each URL this run requested (one row per URL key)."""
    rows: dict[str, dict[str, Any]] = {}
    for r, page in zip(records, pages, strict=True):
        status = r.http_status
        failed = r.outcome == "error" or (status is not None and (status >= 500 or status == 429))
        rows[url_key(r.url)] = {
            "url_key": url_key(r.url),
            "url": r.url,
            "source": r.source,
            "kind": r.kind,
            "etag": None if failed else r.etag,
            "last_modified": None if failed else r.last_modified,
            "lastmod": discovery_date(r.hints),
            "http_status": status,
            "outcome": page["outcome"],
            "failed": failed,
            "fetched_at": page["fetched_at"],
            "run_id": run_id,
        }
    return list(rows.values())


def article_url_rows(pages: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Every URL an article was fetched at this run (AMP copies, tracking variants, redirects, same-text
    copies at another URL of the outlet), canonicalised."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for p in pages:
        if p["outcome"] in ARTICLE_OUTCOMES and p.get("article_id"):
            for url in {url_key(p["url"]), url_key(p["final_url"] or p["url"])}:  # redirect aliases too
                rows[(p["article_id"], url)] = {
                    "article_id": p["article_id"],
                    "url": url,
                    "source": p["source"],
                    "seen_at": now,
                }
    return list(rows.values())


def outcome_counts(outcomes: Counter[str]) -> dict[str, int]:
    """The run and per-source figures that come from page outcomes."""
    return {
        "not_modified": outcomes["not_modified"],
        "articles_new": outcomes["new"],
        "articles_updated": outcomes["updated"],
        "articles_unchanged": outcomes["unchanged"],
        "articles_duplicate": outcomes["duplicate"],
        "articles_offtopic": outcomes["off_topic"],
        "not_articles": outcomes["not_article"] + outcomes["skipped"],
        "errors": sum(outcomes[o] for o in ERROR_OUTCOMES),
    }


def source_run_rows(
    run_id: str,
    sources: list[str],
    pages: list[dict[str, Any]],
    stats: dict[str, dict[str, int]],
    crawl_s: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Per-source figures: the crawler's discovery counts plus the outcomes of its pages."""
    crawl_s = crawl_s or {}
    out = []
    for source in sources:
        outcomes = Counter(p["outcome"] for p in pages if p["source"] == source)
        found = stats.get(source, {})
        out.append(
            {
                "run_id": run_id,
                "source": source,
                "discovered": found.get("discovered", 0),
                "skipped_known": found.get("skipped_known", 0),
                "offsite": found.get("offsite", 0),
                "over_limit": found.get("over_limit", 0),
                "fetched": sum(1 for p in pages if p["source"] == source and p["http_status"] is not None),
                **outcome_counts(outcomes),
                "crawl_s": crawl_s.get(source, 0.0),
            }
        )
    return out


@task(name="dedup-and-load", cache_policy=NO_CACHE, timeout_seconds=LOAD_TIMEOUT_S)
def dedup_load_stage(
    cfg: Config,
    db_path: Path,
    run_id: str,
    sources: list[str],
    records: list[FetchRecord],
    cleaned: dict[int, Cleaned],
    scores: dict[int, relevance.Relevance],
    stats: dict[str, dict[str, int]],
    started: float,
    crawl_code: int,
    sign: Signer = near_dup.signatures,
) -> RunSummary:
    now = datetime.now(UTC)
    pages, candidates = classify_pages(cfg, run_id, records, cleaned, scores)
    index = {p["url"]: i for i, p in enumerate(pages) if p["outcome"] == "pending"}
    with connection(db_path) as con:
        # the band table is read ahead on another core while the identity decisions and signatures are made
        with BandLookup(con) as lookup:
            learner = BoilerplateLearner(con, sources, cfg.clean.boilerplate_min_articles)
            raw_texts = learner.strip_known(candidates)
            known = known_articles(con, [c.article_id for c in candidates], [c.content_hash for c in candidates])
            result = decide(candidates, known, run_id, now)
            new_texts = [
                (d.article["source"], raw_texts[url]) for url, d in result.decisions.items() if d.outcome == "new"
            ]
            boilerplate, fixes = learner.learn(new_texts, result.rows, now)
            # copies are compared without the boilerplate learned so far, this run's included: a shared outlet
            # footer must not make two stories one
            minhash = cluster_copies(result, lookup, sign)
        # fixed stored texts and articles stored before the index existed get (new) signatures too
        minhash += index_texts([(f["article_id"], f["text"]) for f in fixes] + articles_without_signature(con), sign)
        for url, decision in result.decisions.items():
            pages[index[url]].update(outcome=decision.outcome, reason=decision.reason)
            if decision.duplicate_of:
                pages[index[url]]["article_id"] = decision.duplicate_of
        per_source = source_run_rows(run_id, sources, pages, stats, run_report.crawl_seconds(records))
        counts = Counter(p["outcome"] for p in pages)
        run_counts = {
            "pages_fetched": sum(1 for r in records if r.http_status is not None),
            **outcome_counts(counts),
            "skipped_known": sum(s["skipped_known"] for s in per_source),
        }
        message = f"crawler exited with status {crawl_code}" if crawl_code != 0 else None
        status = "completed" if crawl_code == 0 and run_counts["errors"] == 0 else "completed_with_errors"
        if crawl_code != 0 and not records:
            status = "failed"
        duration = time.monotonic() - started
        history = source_history(con, sources, cfg.alerts.zero_article_runs)
        raised = alerts.run_alerts(cfg.alerts, status, message, per_source, history)
        report = run_report.markdown(run_id, status, duration, per_source, [a.message for a in raised])
        run = {
            "finished_at": datetime.now(UTC),
            "status": status,
            "duration_s": duration,
            "message": message,
            "report": report,
        }
        load_run(
            con,
            run_id,
            pages,
            result.rows,
            {**run, **run_counts},
            url_state_rows(run_id, records, pages),
            per_source,
            boilerplate,
            fixes,
            article_url_rows(pages, now),
            minhash,
        )
        refresh_after_load(con)  # search index: new and changed articles only, same short hold of the file
    publish_report(run_id, report)
    alerts.post(cfg.alerts, run_id, status, raised)
    by_source: dict[str, Counter[str]] = {}
    for p in pages:
        by_source.setdefault(p["source"], Counter())[p["outcome"]] += 1
    for row in per_source:
        if row["skipped_known"]:
            by_source.setdefault(row["source"], Counter())["known, not fetched"] = row["skipped_known"]
    return RunSummary(
        run_id,
        status,
        str(db_path),
        duration,
        run_counts,
        {k: dict(v) for k, v in by_source.items()},
        message,
        [a.message for a in raised],
    )


def publish_report(run_id: str, report: str) -> None:
    """The run's table as a Prefect artifact (shown with the flow run in the UI); never fails the run."""
    try:
        create_markdown_artifact(report, key="borderwatch-run-report", description=f"borderwatch run {run_id}")
    except Exception as exc:  # the same table is in crawl_runs.report
        log.warning("could not publish the run report as a Prefect artifact: %s", exc)


def run_pipeline(
    cfg: Config, source_keys: list[str] | None = None, db_path: Path | None = None, lock_wait_s: float = 0.0
) -> RunSummary:
    """pipeline_flow on the task runner of ``[processing] task_runner``."""
    if cfg.processing.task_runner == "dask":
        from flows.scale_out import task_runner

        flow_ = pipeline_flow.with_options(task_runner=task_runner(cfg.processing))
        return flow_(cfg, source_keys, db_path, lock_wait_s)
    return pipeline_flow(cfg, source_keys, db_path, lock_wait_s)


@flow(name="borderwatch-run", validate_parameters=False)
def pipeline_flow(
    cfg: Config, source_keys: list[str] | None = None, db_path: Path | None = None, lock_wait_s: float = 0.0
) -> RunSummary:
    """One batch run over the configured sources; one at a time per database (see flows.run_lock)."""
    started = time.monotonic()
    sources = cfg.select(source_keys)
    db_path = Path(db_path or cfg.storage.db)
    now = datetime.now(UTC)
    run_id = new_run_id(now)
    with RunLock(db_path, run_id, wait_s=lock_wait_s):  # raises RunLocked: nothing recorded, nothing touched
        return _run(cfg, sources, db_path, run_id, now, started)


def _run(
    cfg: Config, sources: tuple[Source, ...], db_path: Path, run_id: str, now: datetime, started: float
) -> RunSummary:
    run_dir = Path(cfg.storage.raw_dir) / run_id
    keys = [s.key for s in sources]
    dask = None
    try:
        with connection(db_path) as con:
            start_run(con, run_id, now, keys)
            state = crawl_state(con, keys)
        if cfg.processing.task_runner == "dask":
            from flows.scale_out import DaskProcessing  # distributed is imported for this runner only

            dask = DaskProcessing()  # the cluster starts while the crawl runs
        code = crawl_stage(cfg, sources, run_id, run_dir, state)
        records = read_ledger(run_dir)
        languages = {s.key: s.language for s in sources}
        if dask is None:
            cleaned = clean_stage(cfg, records, run_dir, languages)
            scores = relevance_stage(cfg, cleaned)
            stats = read_stats(run_dir)
            return dedup_load_stage(cfg, db_path, run_id, keys, records, cleaned, scores, stats, started, code)
        pages = [(i, offset, languages.get(records[i].source)) for offset, i in article_offsets(records).items()]
        topic = relevance.load_topic(cfg.topic.file, scopes=cfg.topic.scopes)
        cleaned, scores = dask.clean_and_score(pages, run_dir, cfg.clean.min_words, topic)
        stats = read_stats(run_dir)
        summary = dedup_load_stage(
            cfg, db_path, run_id, keys, records, cleaned, scores, stats, started, code, dask.signatures
        )
        summary.task_runs = dict(dask.task_runs)
        return summary
    except BaseException as exc:
        # a run timeout, a cancellation or a signal reaches the stage in progress as a BaseException
        # (CancelledError, TerminationSignal, KeyboardInterrupt): the run is recorded as failed all the same
        message = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, Exception):
            message = f"stopped by a run timeout, a cancellation or a signal ({type(exc).__name__})"
        try:
            with connection(db_path) as con:
                fail_run(con, run_id, datetime.now(UTC), message)
        except Exception as record_exc:  # e.g. the database itself is what failed
            log.warning("could not record the failure of run %s in %s: %s", run_id, db_path, record_exc)
        alerts.post(cfg.alerts, run_id, "failed", alerts.run_alerts(cfg.alerts, "failed", message, [], {}))
        raise
    finally:
        if dask is not None:
            dask.close()
