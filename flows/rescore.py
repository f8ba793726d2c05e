"""Rescoring: apply a changed topic file (or threshold) to what is stored. Articles that no longer qualify
leave `articles`; off-topic pages that now qualify come in, re-cleaned from the raw archive. Nothing is
downloaded."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow

from flows import relevance
from flows.boilerplate_store import BoilerplateLearner
from flows.config import Config
from flows.dedup import Candidate, content_hash, decide
from flows.pipeline import article_fields
from flows.reprocess import reclean
from flows.run_lock import RunLock
from flows.search import refresh_after_load
from storage.db import connection
from storage.load import apply_rescore, start_run
from storage.queries import articles_for_rescore, known_articles, offtopic_pages


@flow(name="borderwatch-rescore", validate_parameters=False)
def rescore_flow(cfg: Config, db_path: Path, lock_wait_s: float = 0.0) -> dict[str, int]:
    """Re-apply the topic to every stored article and off-topic page, re-cleaning those that come in."""
    with RunLock(Path(db_path), "rescore", wait_s=lock_wait_s):  # never beside a run or another rescore
        return _rescore(cfg, db_path)


def _rescore(cfg: Config, db_path: Path) -> dict[str, int]:
    started = time.monotonic()
    now = datetime.now(UTC)
    run_id = now.strftime("rescore-%Y%m%dT%H%M%SZ")
    topic = relevance.load_topic(cfg.topic.file, scopes=cfg.topic.scopes)
    threshold = cfg.topic.min_relevance
    with connection(db_path) as con:
        stored = articles_for_rescore(con)
        outside = offtopic_pages(con)
        learner = BoilerplateLearner(con, sorted({p["source"] for p in outside}), cfg.clean.boilerplate_min_articles)
    scores = relevance.score_many(topic, [(title or "", text, lang) for _, title, text, lang, _ in stored])
    rescored, moved_out = [], []
    for (aid, *_), rel in zip(stored, scores, strict=True):
        if rel.score < threshold:
            moved_out.append(aid)
        else:
            rescored.append({"article_id": aid, "relevance": rel.score, "relevance_terms": list(rel.terms)})
    # off-topic pages: their text is not stored, so they are re-cleaned from the raw archive
    cleaned = reclean(cfg, outside)
    candidates: list[Candidate] = []
    for i, page in enumerate(outside):
        c = cleaned.get(i)
        if c is None or not c.is_article:
            continue
        rel = relevance.score(topic, c.title or "", c.text, c.language)
        if rel.score < threshold:
            continue
        candidates.append(
            Candidate(
                page_url=page["url"],
                source=page["source"],
                article_id=page["article_id"],
                canonical_url=page["canonical_url"],
                content_hash=content_hash(c.title, c.text),
                self_canonical=True,
                fields=article_fields(c, rel, c.title),
            )
        )
    learner.strip_known(candidates)
    with connection(db_path) as con:
        known = known_articles(con, [c.article_id for c in candidates], [c.content_hash for c in candidates])
        leaving = set(moved_out)
        known = [k for k in known if k.article_id not in leaving]
        result = decide(candidates, known, run_id, now)
        moved_in: list[dict[str, Any]] = [d.article for d in result.decisions.values() if d.outcome == "new"]
        start_run(con, run_id, now, sorted({p["source"] for p in outside}))
        message = f"rescore: {len(moved_out)} articles moved out, {len(moved_in)} moved in"
        apply_rescore(
            con,
            run_id,
            rescored,
            moved_out,
            moved_in,
            {
                "finished_at": datetime.now(UTC),
                "status": "completed",
                "duration_s": time.monotonic() - started,
                "message": message,
            },
        )
        refresh_after_load(con)  # changed or moved articles are re-indexed
    return {"articles_rescored": len(stored), "moved_out": len(moved_out), "moved_in": len(moved_in)}
