"""Near-duplicate clustering at scale: 100,000 synthetic ~600-word articles, 10% of them planted copies with
wire-style edits, through the pipeline's own code (flows.near_dup signatures and clustering, the DuckDB index
of storage.near_dup written by storage.load.load_run). Then the cost of adding 1,000 articles to that corpus
vs. to an empty database. Prints JSON.

Usage: .venv/bin/python bench/dedup_scale.py [--articles 100000] [--add 1000] [--dir /tmp/bw-dedup-bench]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from flows.near_dup import NewDoc, StoredMatch, assign_clusters, signatures
from storage.db import connection
from storage.load import load_run
from storage.near_dup import BandLookup, MinhashRows, write_index

VOCAB = 40_000
NOW = datetime(2026, 12, 1, tzinfo=UTC)


class Corpus:
    """Random articles of Zipf-distributed words in paragraphs, and copies of them with outlet edits."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        ranks = np.arange(1, VOCAB + 1, dtype=np.float64)
        self.p = ranks**-1.05 / (ranks**-1.05).sum()
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        lengths = self.rng.integers(2, 11, VOCAB)
        self.words = np.array(["".join(self.rng.choice(letters, n)) for n in lengths])

    def paragraphs(self, n_words: int) -> list[str]:
        words = self.words[self.rng.choice(VOCAB, n_words, p=self.p)]
        cuts = np.cumsum(self.rng.integers(35, 80, n_words // 35 + 1))
        return [" ".join(part) for part in np.split(words, cuts[cuts < n_words]) if len(part)]

    def article(self) -> list[str]:
        return self.paragraphs(int(self.rng.integers(520, 680)))

    def copy(self, paras: list[str]) -> list[str]:
        """An outlet's copy: its own lede, the last paragraph or two trimmed, a credit line, sometimes a
        "Read more" line and two paragraphs swapped."""
        out = self.paragraphs(40)[:1] + paras[: len(paras) - int(self.rng.integers(1, 3))]
        if self.rng.random() < 0.5 and len(out) > 4:
            out[2], out[3] = out[3], out[2]
        if self.rng.random() < 0.5:
            out.insert(len(out) // 2, "Read more: " + " ".join(self.words[self.rng.choice(VOCAB, 8)]))
        return [*out, "The Associated Press contributed to this report."]


def make(corpus: Corpus, n: int, copy_share: float, prefix: str, pool: dict[str, str] | None = None) -> tuple:
    """n texts, ids and planted (copy id -> original id); copies are of earlier texts of this batch, or of
    `pool` (id -> text: the stored corpus) when given."""
    texts, ids, planted = [], [], {}
    stored_ids = list(pool) if pool is not None else None
    for i in range(n):
        aid = f"{prefix}{i:06d}"
        sources = stored_ids if stored_ids is not None else ids
        if sources and corpus.rng.random() < copy_share:
            j = int(corpus.rng.integers(0, len(sources)))
            base = pool[sources[j]] if pool is not None else texts[j]
            texts.append("\n\n".join(corpus.copy(base.split("\n\n"))))
            planted[aid] = sources[j]
        else:
            texts.append("\n\n".join(corpus.article()))
        ids.append(aid)
    return texts, ids, planted


def cluster(con, ids: list[str], texts: list[str]) -> tuple[list, MinhashRows, dict[str, float]]:
    """The dedup stage's near-duplicate work for one batch: signatures, band lookup in the store, clusters; the
    band table is read ahead while the signatures are made, as in the pipeline (storage.near_dup.BandLookup)."""
    with BandLookup(con) as band_lookup:
        t0 = time.perf_counter()
        sigs = signatures(texts)
        t1 = time.perf_counter()

        def lookup(queries):
            return [StoredMatch(*row) for row in band_lookup(queries)]

        out = assign_clusters([NewDoc(a, None) for a in ids], sigs, lookup)
        t2 = time.perf_counter()
    rows = MinhashRows(ids, sigs.shingles, sigs.values, sigs.band_keys())
    return out, rows, {"signatures_s": t1 - t0, "clustering_s": t2 - t1}


def store(con, ids: list[str], texts: list[str], clusters: list, rows: MinhashRows) -> float:
    """The load transaction: article rows, versions and the index (storage.load.load_run)."""
    articles = [
        {
            "article_id": a,
            "url": f"https://example.org/{a}",
            "source": f"outlet{int(a[-3:]) % 40}",
            "title": a,
            "text": t,
            "word_count": t.count(" ") + 1,
            "cluster_id": c,
            "content_hash": a,
            "first_seen_at": NOW,
            "last_seen_at": NOW,
            "updated_at": NOW,
            "version": 1,
        }
        for a, t, (c, _, _) in zip(ids, texts, clusters, strict=True)
    ]
    t0 = time.perf_counter()
    load_run(con, "bench", [], articles, {"finished_at": NOW, "status": "completed", "duration_s": 0}, minhash=rows)
    return time.perf_counter() - t0


def quality(ids: list[str], clusters: list, planted: dict[str, str], cluster_of: dict[str, str]) -> dict:
    found = sum(1 for a, (c, _, _) in zip(ids, clusters, strict=True) if a in planted and c == cluster_of[planted[a]])
    wrong = sum(1 for a, (c, _, _) in zip(ids, clusters, strict=True) if a not in planted and c != a)
    return {"planted_copies": len(planted), "copies_found": found, "originals_wrongly_merged": wrong}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--add", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bw-dedup-bench"))
    args = ap.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    corpus = Corpus(7)
    t0 = time.perf_counter()
    texts, ids, planted = make(corpus, args.articles, 0.10, "a")
    out: dict[str, object] = {
        "articles": args.articles,
        "words_per_article": round(statistics.mean(t.count(" ") + 1 for t in texts[:2000])),
        "generate_s": round(time.perf_counter() - t0, 1),
    }
    big = args.dir / "big.duckdb"
    with connection(big) as con:
        t0 = time.perf_counter()
        clusters, rows, times = cluster(con, ids, texts)
        out["signatures_s"] = round(times["signatures_s"], 1)
        out["clustering_s"] = round(times["clustering_s"], 1)
        out["signature_and_clustering_s"] = round(time.perf_counter() - t0, 1)
        # the process peak so far: the 100k texts themselves, signatures, band keys, candidate pairs
        out["peak_rss_mb_signature_and_clustering"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        out["load_with_index_s"] = round(store(con, ids, texts, clusters, rows), 1)
    out["peak_rss_mb_after_load"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["quality_100k"] = quality(ids, clusters, planted, {a: c for a, (c, _, _) in zip(ids, clusters, strict=True)})
    cluster_of = {a: c for a, (c, _, _) in zip(ids, clusters, strict=True)}
    stored = dict(zip(ids, texts, strict=True))
    del texts, clusters, rows

    # adding a batch: to the 100k corpus (10% of the batch copies stored articles) vs. to an empty database
    # wall time, and CPU time of the process (all threads: DuckDB's included) so the read-ahead is not free
    timings: dict[str, list[float]] = {"to_100k": [], "to_empty": [], "to_100k_cpu": [], "to_empty_cpu": []}
    add_quality = {}
    for r in range(args.repeat):
        new_texts, new_ids, new_planted = make(corpus, args.add, 0.10, f"n{r}_", pool=stored)
        for label, path in (("to_100k", big), ("to_empty", args.dir / f"empty{r}.duckdb")):
            with connection(path) as con:
                con.execute("CHECKPOINT")
                t0, c0 = time.perf_counter(), time.process_time()
                clusters, rows, _ = cluster(con, new_ids, new_texts)
                con.execute("BEGIN TRANSACTION")  # measured as the pipeline does it, then undone to repeat
                write_index(con, rows)
                con.execute("ROLLBACK")
                timings[label].append(time.perf_counter() - t0)
                timings[label + "_cpu"].append(time.process_time() - c0)
            if label == "to_100k":
                add_quality = quality(new_ids, clusters, new_planted, cluster_of)
    out["add_batch"] = {
        "articles": args.add,
        "to_100k_s": round(statistics.median(timings["to_100k"]), 3),
        "to_empty_s": round(statistics.median(timings["to_empty"]), 3),
        "ratio": round(statistics.median(timings["to_100k"]) / statistics.median(timings["to_empty"]), 2),
        "to_100k_cpu_s": round(statistics.median(timings["to_100k_cpu"]), 3),
        "to_empty_cpu_s": round(statistics.median(timings["to_empty_cpu"]), 3),
        "cpu_ratio": round(statistics.median(timings["to_100k_cpu"]) / statistics.median(timings["to_empty_cpu"]), 2),
        "quality_vs_100k": add_quality,
    }
    out["db_mb"] = round(big.stat().st_size / 2**20)
    out["peak_rss_mb_end"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
