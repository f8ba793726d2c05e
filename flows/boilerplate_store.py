"""Applying and growing the per-source boilerplate statistics during a run's load (see flows.boilerplate)."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flows.boilerplate import strip_lines, text_lines
from flows.dedup import Candidate, content_hash
from storage.queries import (
    articles_of_source_containing,
    boilerplate_counts,
    boilerplate_keys,
    source_article_counts,
)

if TYPE_CHECKING:  # duckdb lives in storage/: flows only pass its connections along
    import duckdb

# a line is template when it recurs in this share of a source's articles (and in at least min_articles):
# template lines stand in most of an outlet's stories, a repeated quote in a handful
SHARE = 0.1


class BoilerplateLearner:
    """Strips the known boilerplate of the run's sources, then learns from the run's new articles."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sources: list[str], min_articles: int):
        self.con = con
        self.min_articles = min_articles
        self.counts = source_article_counts(con, sources)
        self.known = boilerplate_keys(con, {s: self.threshold(n) for s, n in self.counts.items()})

    def threshold(self, articles: int) -> int:
        return max(self.min_articles, math.ceil(SHARE * articles))

    def strip_known(self, candidates: list[Candidate]) -> dict[str, str]:
        """Remove known boilerplate from the candidates' text (before dedup hashes it); returns the raw texts."""
        raw: dict[str, str] = {}
        for c in candidates:
            text = c.fields["text"]
            raw[c.page_url] = text
            stripped = strip_lines(text, self.known.get(c.source, ()))
            if stripped != text:
                c.fields.update(text=stripped, word_count=len(stripped.split()))
                c.content_hash = content_hash(c.fields.get("title"), stripped)
        return raw

    def learn(
        self, new_texts: list[tuple[str, str]], rows: list[dict[str, Any]], now: datetime
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Count the lines of the run's new articles (raw text, one count per article); lines that cross the
        threshold now are removed from this run's rows and from the source's stored articles.
        Returns the counter increments and the stored-article fixes for the load transaction."""
        increments: dict[tuple[str, str], list[Any]] = {}
        per_source_new: dict[str, int] = defaultdict(int)
        for source, text in new_texts:
            per_source_new[source] += 1
            for key, line in text_lines(text).items():
                increments.setdefault((source, key), [line, 0])[1] += 1
        current = boilerplate_counts(self.con, list(increments))
        crossing: dict[str, dict[str, str]] = defaultdict(dict)
        for (source, key), (line, add) in increments.items():
            needed = self.threshold(self.counts.get(source, 0) + per_source_new[source])
            if current.get((source, key), 0) + add >= needed and key not in self.known.get(source, set()):
                crossing[source][key] = line
        fixes: list[dict[str, Any]] = []
        batch_ids = {r["article_id"] for r in rows}
        for row in rows:
            keys = crossing.get(row["source"])
            if keys:
                text = strip_lines(row["text"], keys)
                row.update(text=text, word_count=len(text.split()), content_hash=content_hash(row["title"], text))
        for source, keys in crossing.items():
            for aid, text in articles_of_source_containing(self.con, source, list(keys.values())):
                stripped = strip_lines(text, keys)
                if aid not in batch_ids and stripped != text:
                    fixes.append(
                        {
                            "article_id": aid,
                            "text": stripped,
                            "word_count": len(stripped.split()),
                            "content_hash": content_hash(None, stripped),
                        }
                    )
        boilerplate = [
            {"source": s, "line_key": k, "line": line, "articles": add, "seen_at": now}
            for (s, k), (line, add) in increments.items()
        ]
        return boilerplate, fixes
