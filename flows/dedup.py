"""Deduplication: one row per article. Decides, for each on-topic page of a run, whether it is a new
article, a changed or unchanged known article, or a duplicate — against the run itself and the store.

Identity is the canonical URL (tracking parameters, trailing slashes, AMP copies, rel=canonical and
redirects collapse into it); identical text at two URLs of one outlet is caught by the content hash.
Identical text at another outlet is wire copy: it stays a row of its own and shares the `cluster_id`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from flows import near_dup
from storage.near_dup import MinhashRows
from storage.queries import KnownArticle

_WS = re.compile(r"\s+")


def content_hash(title: str | None, text: str) -> str:
    """Hash of the normalised body text: whitespace and case changes are not new content."""
    norm = _WS.sub(" ", text).strip().lower()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:32]


@dataclass
class Candidate:
    """An on-topic article page of this run, ready for the dedup decision."""

    page_url: str
    source: str
    article_id: str
    canonical_url: str
    content_hash: str
    fields: dict[str, Any]  # title, authors, published_at, modified_at, language, text, word_count, relevance...
    self_canonical: bool = False  # the page was fetched at its canonical URL
    declared: bool = False  # ...and says so itself (rel=canonical / og:url): the outlet's primary URL


@dataclass
class Decision:
    outcome: str  # new | updated | unchanged | duplicate
    reason: str | None = None
    article: dict[str, Any] | None = None  # the articles row to upsert, when there is one
    duplicate_of: str | None = None  # for a duplicate: the article it duplicates


@dataclass
class DedupResult:
    decisions: dict[str, Decision] = field(default_factory=dict)  # by page_url

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [d.article for d in self.decisions.values() if d.article is not None]


def decide(candidates: list[Candidate], known: list[KnownArticle], run_id: str, now: datetime) -> DedupResult:
    """The dedup decision for each candidate, in discovery order (the first URL of a story wins)."""
    by_id = {k.article_id: k for k in known}
    by_hash: dict[str, list[tuple[str, str, Any]]] = {}  # hash -> [(article_id, source, first_seen)]
    for k in known:
        by_hash.setdefault(k.content_hash, []).append((k.article_id, k.source, k.first_seen_at))
    claimed: dict[str, str] = {}  # article_id -> page_url that took it in this run
    result = DedupResult()

    # the page that names itself canonical speaks for the article, then any page fetched at its canonical
    # URL, never an AMP copy, redirect alias or unmarked print copy; the URL breaks ties, so the outcome does
    # not depend on the order in which the crawler's concurrent responses arrived. Pages of ONE article tie on
    # all of that (a redirect alias lands on the canonical page: same final URL, same declaration), so the page
    # requested at the canonical URL itself, then the page URL, decide which is "new" and which "duplicate";
    # without them the first response to arrive won, and two crawls of one site (or one crawl in two
    # processes) could store the same articles yet record the pages differently
    def rank(c: Candidate) -> tuple[bool, bool, str, bool, str]:
        return (not c.declared, not c.self_canonical, c.canonical_url, c.page_url != c.canonical_url, c.page_url)

    for c in sorted(candidates, key=rank):
        if c.article_id in claimed:
            result.decisions[c.page_url] = Decision(
                "duplicate", f"same canonical URL as {claimed[c.article_id]}", duplicate_of=c.article_id
            )
            continue
        twins = [t for t in by_hash.get(c.content_hash, []) if t[0] != c.article_id]
        same_outlet = [t for t in twins if t[1] == c.source]
        if same_outlet and c.article_id not in by_id:
            result.decisions[c.page_url] = Decision(
                "duplicate", f"same text as article {same_outlet[0][0]}", duplicate_of=same_outlet[0][0]
            )
            continue
        claimed[c.article_id] = c.page_url
        row = {
            **c.fields,
            "article_id": c.article_id,
            "url": c.canonical_url,
            "source": c.source,
            "content_hash": c.content_hash,
            "last_seen_at": now,
            "run_id": run_id,
        }
        prior = by_id.get(c.article_id)
        if prior is None:
            # wire copy at other outlets: the earliest stored copy names the cluster
            other = sorted((t for t in twins if t[1] != c.source), key=lambda t: (t[2] is None, t[2], t[0]))
            row.update(first_seen_at=now, updated_at=now, version=1, cluster_id=other[0][0] if other else c.article_id)
            outcome = "new"
        else:
            changed = prior.content_hash != c.content_hash or (prior.title or "") != (c.fields.get("title") or "")
            row.update(
                first_seen_at=prior.first_seen_at,
                cluster_id=prior.cluster_id,
                version=prior.version + 1 if changed else prior.version,
            )
            if changed:
                row["updated_at"] = now
                outcome = "updated"
            else:
                row["updated_at"] = prior.updated_at
                outcome = "unchanged"
        by_hash.setdefault(c.content_hash, []).append((c.article_id, c.source, row["first_seen_at"]))
        result.decisions[c.page_url] = Decision(outcome, None, row)
    return result


def _precedence(row: dict[str, Any]) -> tuple[bool, Any, str]:
    # within a run every article was first seen now: the earliest published copy names a new cluster
    published = row.get("published_at")
    return (published is None, published or "", row["article_id"])


Signer = Callable[[Sequence[str]], near_dup.Signatures]


def cluster_copies(
    result: DedupResult,
    lookup: Callable[[list[tuple[int, str, np.ndarray]]], list[tuple[int, str, str, int, np.ndarray]]],
    sign: Signer = near_dup.signatures,
) -> MinhashRows:
    """Give each new article the cluster of its closest copy among stored articles and the run's earlier ones
    (see near_dup), say so in its page's reason, and return the signatures of new and changed articles.
    ``sign`` computes the signatures (on Dask workers with that task runner)."""
    decisions = sorted(
        (d for d in result.decisions.values() if d.article is not None and d.outcome in ("new", "updated")),
        key=lambda d: _precedence(d.article),
    )
    docs = [
        near_dup.NewDoc(
            d.article["article_id"],
            None
            if d.outcome == "new" and d.article["cluster_id"] == d.article["article_id"]
            else d.article["cluster_id"],
        )
        for d in decisions
    ]
    sigs = sign([d.article.get("text") or "" for d in decisions])

    def stored(queries: list[tuple[int, str, np.ndarray]]) -> list[near_dup.StoredMatch]:
        return [near_dup.StoredMatch(*row) for row in lookup(queries)]

    for d, doc, (cluster, match, score) in zip(
        decisions, docs, near_dup.assign_clusters(docs, sigs, stored), strict=True
    ):
        d.article["cluster_id"] = cluster
        if match is not None and doc.cluster_id is None:
            d.reason = f"copy of article {match} (containment {score:.2f}), cluster {cluster}"
    return MinhashRows([d.article["article_id"] for d in decisions], sigs.shingles, sigs.values, sigs.band_keys())


def index_texts(pairs: Sequence[tuple[str, str]], sign: Signer = near_dup.signatures) -> MinhashRows:
    """Signatures of (article_id, text) pairs whose stored text changed outside a new version (boilerplate
    fixes) or that were stored before the index existed."""
    sigs = sign([t for _, t in pairs])
    return MinhashRows([a for a, _ in pairs], sigs.shingles, sigs.values, sigs.band_keys())
