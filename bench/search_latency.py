"""Full-text search at scale: index build time, BM25 query latency (p50/p95) and the cost of refreshing the
index after a run, over synthetic English and Spanish articles. Prints JSON.

Usage: .venv/bin/python bench/search_latency.py [--docs 100000] [--new 1000] [--queries 200] [--refreshes 10]

The text is drawn from a Zipf-distributed vocabulary (word frequencies like real prose: a few very common
words, a long tail of rare ones) plus the beat's own words, so posting lists have realistic lengths.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from storage.db import connection
from storage.load import load_run, start_run
from storage.search import index_size, refresh_index, search

BEAT = {
    "en": "border asylum migrants patrol wall deportation crossing bridge port entry court judge policy "
    "cartel fentanyl smuggling detention shelter caravan visa refugee customs agents governor".split(),
    "es": "frontera asilo migrantes patrulla muro deportación cruce puente aduana juez política cártel "
    "contrabando detención albergue caravana visa refugiados agentes gobernador migración".split(),
}
PLACES = "Matamoros Reynosa Juárez Tijuana Nogales Laredo Brownsville McAllen Yuma Eagle Pass Piedras Negras".split()
SUFFIXES = {"en": ["", "s", "ing", "ed", "ation"], "es": ["", "es", "ando", "ción", "ado", "as"]}
SYLLABLES = "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo fu ga ge go gu la le li lo lu ma me mi mo mu "
SYLLABLES += "na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za zo"


def vocabulary(lang: str, size: int, rng: np.random.Generator) -> np.ndarray:
    syl = SYLLABLES.split()
    words = set(BEAT[lang]) | {p.lower() for p in PLACES}
    while len(words) < size:
        stem = "".join(rng.choice(syl, size=rng.integers(2, 5)))
        words.add(stem + rng.choice(SUFFIXES[lang]))
    ordered = sorted(words)
    rng.shuffle(ordered)
    # the beat's words are among the 500 most common, as they are in border news
    beat = [w for w in ordered if w in BEAT[lang]]
    rest = [w for w in ordered if w not in BEAT[lang]]
    return np.array(rest[:50] + beat + rest[50:])


def articles(n: int, offset: int, rng: np.random.Generator, vocab: dict[str, np.ndarray], run_id: str) -> list[dict]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    langs = rng.choice(["en", "es"], size=n, p=[0.6, 0.4])
    lengths = rng.integers(150, 700, size=n)
    out = []
    for lang in ("en", "es"):
        idx = np.flatnonzero(langs == lang)
        v = vocab[lang]
        ranks = np.arange(1, len(v) + 1)
        p = 1.0 / ranks**1.05
        p /= p.sum()
        picks = v[rng.choice(len(v), size=int(lengths[idx].sum()) + 12 * len(idx), p=p)]
        pos = 0
        for i in idx:
            k = int(lengths[i])
            title = " ".join(picks[pos : pos + 10]).capitalize()
            text = " ".join(picks[pos + 10 : pos + 10 + k]) + ". " + " ".join(rng.choice(PLACES, size=2))
            pos += k + 12
            aid = f"{offset + i:016x}"
            out.append(
                {
                    "article_id": aid,
                    "url": f"https://outlet{i % 40}.example/{aid}",
                    "source": f"outlet{(offset + i) % 40}",
                    "title": title,
                    "published_at": base + timedelta(minutes=int(offset + i) * 5),
                    "language": lang,
                    "text": text,
                    "word_count": k,
                    "relevance": 0.9,
                    "relevance_terms": ["asylum"],
                    "cluster_id": aid,
                    "content_hash": aid,
                    "first_seen_at": base,
                    "last_seen_at": base,
                    "updated_at": base,
                    "version": 1,
                    "run_id": run_id,
                }
            )
    return out


def queries(n: int, rng: np.random.Generator, vocab: dict[str, np.ndarray]) -> list[tuple[str, dict]]:
    out = []
    for i in range(n):
        lang = "en" if i % 5 < 3 else "es"
        v = vocab[lang]
        words = [str(rng.choice(BEAT[lang]))]  # a beat word: long posting lists, the hard case
        if i % 2:
            words.append(str(rng.choice(PLACES)))
        if i % 3 == 0:
            words.append(str(v[rng.integers(100, len(v))]))  # a rarer word
        filters: dict = {}
        if i % 4 == 1:
            filters["lang"] = lang
        if i % 4 == 2:
            filters["since"] = datetime(2026, 6, 1, tzinfo=UTC)
        if i % 8 == 3:
            filters["source"] = f"outlet{i % 40}"
        out.append((" ".join(words), filters))
    return out


def timed_queries(con, qs: list[tuple[str, dict]]) -> dict:
    times = []
    for q, f in qs:
        t0 = time.perf_counter()
        search(con, q, limit=10, **f)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "queries": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
        "max_ms": round(times[-1], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--refreshes", type=int, default=10, help="runs of --new articles after the build")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    vocab = {lang: vocabulary(lang, 40_000, rng) for lang in ("en", "es")}
    now = datetime.now(UTC)
    out: dict = {"docs": args.docs}
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "search.duckdb"
        with connection(db) as con:
            for start in range(0, args.docs, 50_000):
                batch = articles(min(50_000, args.docs - start), start, rng, vocab, "r0")
                start_run(con, f"r0-{start}", now, ["x"])
                load_run(con, f"r0-{start}", [], batch, {"finished_at": now, "status": "completed", "duration_s": 0})
            con.execute("CHECKPOINT")
            build = refresh_index(con)
            out["build_s"] = round(build.seconds, 2)
            out["index"] = index_size(con)
            qs = queries(args.queries, rng, vocab)
            timed_queries(con, qs[:10])  # warm the caches once, as a long-lived reader would be
            out["query_after_build"] = timed_queries(con, qs)
            refreshes = []
            for r in range(args.refreshes):
                run_id = f"r{r + 1}"
                start_run(con, run_id, now, ["x"])
                batch = articles(args.new, args.docs + r * args.new, rng, vocab, run_id)
                # a run also changes a few stored articles (a corrected story): they are re-indexed
                changed = con.execute("SELECT article_id FROM articles USING SAMPLE 20 ROWS").fetchall()
                for (aid,) in changed:
                    batch.append({**batch[0], "article_id": aid, "content_hash": f"{aid}-v{r}", "url": aid})
                load_run(con, run_id, [], batch, {"finished_at": now, "status": "completed", "duration_s": 0})
                stats = refresh_index(con)
                refreshes.append(
                    {"seconds": round(stats.seconds, 3), "added": stats.added, "merged": stats.merged_segments}
                )
            out[f"refresh_{args.new}_new"] = {
                "first_s": refreshes[0]["seconds"] if refreshes else None,
                "median_s": round(statistics.median(r["seconds"] for r in refreshes), 3) if refreshes else None,
                "max_s": max((r["seconds"] for r in refreshes), default=None),
                "runs": refreshes,
            }
            out["index_after_refreshes"] = index_size(con)
            out["query_after_refreshes"] = timed_queries(con, qs)
        # a fresh process opening the file, as `borderwatch search` does
        with connection(db, read_only=True) as con:
            t0 = time.perf_counter()
            search(con, "asylum Matamoros")
            out["cold_first_query_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
