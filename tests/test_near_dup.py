"""Near-duplicate clustering of wire copy: signatures, the labelled pairs, the DuckDB index, and whole runs
in which copies of one story at several outlets share a cluster while translations and other stories don't."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest
from conftest import REPO, free_port, run_cli

from flows import near_dup
from flows.near_dup import NewDoc, Signatures, StoredMatch, assign_clusters, containment, jaccard, signatures
from storage.db import connection
from storage.near_dup import MinhashRows, band_matches, write_index

_spec = importlib.util.spec_from_file_location("pairset", REPO / "tests/fixtures/dedup/pairset.py")
pairset = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pairset)  # type: ignore[union-attr]
PAIRS = [json.loads(line) for line in (REPO / "tests/fixtures/dedup/pairs.jsonl").read_text("utf-8").splitlines()]
BY_ID = {p["id"]: p for p in PAIRS}
WIRE = BY_ID["p035"]["a"]  # an AP story on three drownings near Eagle Pass
COPY = BY_ID["p035"]["b"]  # an outlet's copy: own first paragraph, trimmed end, "Read more" lines
TRANSLATION = BY_ID["p055"]["b"]  # the full Spanish translation (a different cluster by definition)
OTHER_AGENCY = BY_ID["p007"]["b"]  # Reuters on the same drownings in its own words (a different story)
FOLLOW_UP = BY_ID["p030"]["b"]  # another story altogether


def _words(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    return " ".join(f"w{int(i)}" for i in rng.integers(0, 50_000, n))


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert near_dup.normalise("«Migración»,  dijo   —“ASILO”!") == "migracion dijo asilo"
    assert near_dup.normalise("El niño") == "el nino"  # an ASCII-only feed's "nino" is the same word


def test_signatures_are_stable_across_processes() -> None:
    """Signatures are stored and compared with later runs': no per-process hash seed may enter them."""
    code = "from flows.near_dup import signatures; import sys; sys.stdout.write(signatures([sys.argv[1]]).band_keys().tobytes().hex())"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code, WIRE["text"]],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1 and outs == {signatures([WIRE["text"]]).band_keys().tobytes().hex()}


def test_estimates_follow_the_true_overlap() -> None:
    base = _words(2000, 1).split()
    half = " ".join(base[:1000])
    sigs = signatures([" ".join(base), half, _words(2000, 2), " ".join(base)])
    j = jaccard(sigs.values[0], sigs.values[1])
    assert abs(j - 996 / 2000) < 0.1  # a brief of the first half: Jaccard about one half ...
    c = containment(sigs.values[0], sigs.values[1], sigs.shingles[0], sigs.shingles[1])
    assert c > 0.85  # ... but contained almost whole
    assert jaccard(sigs.values[0], sigs.values[2]) < 0.05
    assert (sigs.values[0] == sigs.values[3]).all()
    assert sigs.shingles[0] == 1996


def test_short_and_empty_texts_are_never_called_copies() -> None:
    sigs = signatures(["", "Border Patrol agents said.", WIRE["text"]])
    assert list(sigs.matchable()) == [False, False, True]
    assert sigs.shingles[0] == 0


def _predict(pairs: list[dict], texts: tuple[list[str], list[str]] | None = None) -> np.ndarray:
    """The pipeline's decision on a pair: a shared LSH band (candidate) and estimated containment."""
    a_texts, b_texts = texts or ([p["a"]["text"] for p in pairs], [p["b"]["text"] for p in pairs])
    a, b = signatures(a_texts), signatures(b_texts)
    candidate = (a.band_keys() == b.band_keys()).any(axis=1)
    score = containment(a.values, b.values, a.shingles, b.shingles)
    return candidate & near_dup.is_copy(score, a.shingles, b.shingles)


def _precision_recall(pairs: list[dict], predicted: np.ndarray) -> tuple[float, float]:
    labels = np.array([p["label"] for p in pairs]) == 1
    tp = int((predicted & labels).sum())
    return tp / max(1, int(predicted.sum())), tp / int(labels.sum())


def test_held_out_pairs_precision_and_recall() -> None:
    """The threshold was chosen on the development halves (bench/dedup_quality.py); the held-out halves of
    both sets, compared as the pipeline compares them (after per-outlet boilerplate learning), reach 0.97."""
    pairs, dev = pairset.load_pairs()
    held = [p for p, d in zip(pairs, dev, strict=True) if not d]
    precision, recall = _precision_recall(held, _predict(held, pairset.as_stored(held)))
    assert precision >= 0.97 and recall >= 0.97, (precision, recall)
    main = [p for p in held if p["id"].startswith("p")]  # the 264-pair set alone, raw texts
    assert _precision_recall(main, _predict(main)) == (1.0, 1.0)


def test_briefs_are_copies_by_containment_not_by_jaccard() -> None:
    """A quarter-length brief shares under a third of the full story's shingles (Jaccard) but nearly all of its
    own (containment): the reason copies are decided on containment."""
    briefs = [p for p in pairset.load_pairs()[0] if p["kind"] == "brief_quarter"]
    a = signatures([p["a"]["text"] for p in briefs])
    b = signatures([p["b"]["text"] for p in briefs])
    assert jaccard(a.values, b.values).max() < 0.4
    assert containment(a.values, b.values, a.shingles, b.shingles).min() >= 0.7


@pytest.mark.parametrize("kind", ["translation", "same_event_other_agency", "follow_up", "rewritten_update"])
def test_hard_negatives_stay_apart(kind: str) -> None:
    pairs = [p for p in PAIRS if p["kind"] == kind]
    assert pairs and not _predict(pairs).any()


@pytest.mark.parametrize("kind", ["brief", "new_lede+half_paragraphs+headline", "accents_stripped", "sibling_copies"])
def test_hard_positives_are_found(kind: str) -> None:
    pairs = [p for p in PAIRS if p["kind"] == kind]
    assert pairs and _predict(pairs).all()


def test_assign_clusters_joins_the_closest_copy_and_never_renames() -> None:
    texts = [WIRE["text"], COPY["text"], TRANSLATION["text"], OTHER_AGENCY["text"]]
    sigs = signatures(texts)
    docs = [NewDoc("wire", None), NewDoc("copy", None), NewDoc("translation", None), NewDoc("reuters", None)]
    # nothing stored: the run's earliest copy names the cluster
    out = assign_clusters(docs, sigs, lambda queries: [])
    assert [c for c, _, _ in out] == ["wire", "wire", "translation", "reuters"]
    assert out[1][1] == "wire" and out[1][2] >= near_dup.CONTAINMENT_THRESHOLD
    # the wire story is stored already (cluster "old"): the copy joins it through the lookup
    stored = signatures([WIRE["text"]])
    seen: list = []

    def lookup(queries):
        seen.extend(queries)
        return [StoredMatch(i, "stored-wire", "old", int(stored.shingles[0]), stored.values[0]) for i, _, _ in queries]

    out = assign_clusters(docs[1:], signatures(texts[1:]), lookup)
    assert [c for c, _, _ in out] == ["old", "translation", "reuters"]
    assert len(seen) == 3 and all(len(keys) == near_dup.BANDS for _, _, keys in seen)
    # a doc whose cluster is already known (an exact copy, an updated article) keeps it and asks nothing
    out = assign_clusters([NewDoc("copy", "kept")], signatures([COPY["text"]]), lambda q: pytest.fail("asked"))
    assert out == [("kept", None, 1.0)]


def _store_indexed(con: duckdb.DuckDBPyConnection, texts: dict[str, str]) -> Signatures:
    """Articles (their ids as URLs, each its own cluster) and their signatures in the index; the signatures."""
    for aid in texts:
        con.execute("INSERT INTO articles (article_id, url, source, cluster_id) VALUES (?, ?, 'x', ?)", [aid, aid, aid])
    sigs = signatures(list(texts.values()))
    write_index(con, MinhashRows(list(texts), sigs.shingles, sigs.values, sigs.band_keys()))
    return sigs


def test_index_in_duckdb_finds_copies_by_join_and_replaces_signatures(tmp_path: Path) -> None:
    db = tmp_path / "nd.duckdb"
    texts = {"wire": WIRE["text"], "reuters": OTHER_AGENCY["text"], "es": TRANSLATION["text"]}
    with connection(db) as con:
        sigs = _store_indexed(con, texts)
        assert con.execute("SELECT count(*), count(DISTINCT doc) FROM article_minhash").fetchone() == (3, 3)
        assert con.execute("SELECT count(*) FROM minhash_bands").fetchone()[0] == 3 * near_dup.BANDS
        copy = signatures([COPY["text"]])
        hits = band_matches(con, [(7, "copy", copy.band_keys()[0])])
        assert {(q, a, c) for q, a, c, _, _ in hits} == {(7, "wire", "wire")}
        assert (hits[0][4] == sigs.values[0]).all() and hits[0][3] == sigs.shingles[0]
        assert band_matches(con, [(0, "wire", sigs.band_keys()[0])]) == []  # never its own signature
        # the wire article changes to another text: its old bands leave, no stale match remains, its doc stays
        doc = con.execute("SELECT doc FROM article_minhash WHERE article_id = 'wire'").fetchone()
        other = signatures([FOLLOW_UP["text"]])
        write_index(con, MinhashRows(["wire"], other.shingles, other.values, other.band_keys()))
        assert con.execute("SELECT count(*) FROM minhash_bands").fetchone()[0] == 3 * near_dup.BANDS
        assert band_matches(con, [(7, "copy", copy.band_keys()[0])]) == []
        assert con.execute("SELECT doc FROM article_minhash WHERE article_id = 'wire'").fetchone() == doc


def test_band_table_read_ahead_works_on_a_writing_connection(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The dedup stage's connection attaches the file under its own catalog name and USEs it; the read-ahead's
    second cursor must look there too (it once looked in DuckDB's in-memory catalog, failed, and only warned)."""
    from storage.near_dup import BandLookup

    db = tmp_path / "nd.duckdb"
    texts = {"wire": WIRE["text"], "reuters": OTHER_AGENCY["text"]}
    with connection(db) as con:
        _store_indexed(con, texts)
    caplog.set_level("WARNING", logger="borderwatch.near_dup")
    with connection(db) as con, BandLookup(con) as lookup:
        copy = signatures([COPY["text"]])
        hits = lookup([(7, "copy", copy.band_keys()[0])])
    assert {(q, a) for q, a, _, _, _ in hits} == {(7, "wire")}
    assert "ahead failed" not in caplog.text


# -- whole runs: four outlets, the copy arrives a run after the original ------------------------------------

PAGE = """<html lang="{lang}"><head><title>{title}</title><meta property="og:type" content="article">
<meta property="article:published_time" content="{published}"></head>
<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"""


def _page(story: dict, lang: str, published: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in story["text"].split("\n\n") if p.strip())
    return PAGE.format(lang=lang, title=story["title"], published=published, paragraphs=paragraphs)


def _wire_web(root: Path, second_run: bool) -> None:
    pages = {
        "ap": [("/2026/11/20/drownings-eagle-pass.html", WIRE, "en", "2026-11-20T15:00:00Z")],
        "opinion": [("/2026/11/20/mueren-ahogados.html", TRANSLATION, "es", "2026-11-20T18:00:00Z")],
        "plains": [],
        "reuters": [],
    }
    if second_run:
        pages["plains"].append(("/2026/11/21/three-migrants-drown.html", COPY, "en", "2026-11-21T09:00:00Z"))
        pages["reuters"].append(("/2026/11/21/woman-children-drown.html", OTHER_AGENCY, "en", "2026-11-21T10:00:00Z"))
        pages["ap"].append(("/2026/11/21/follow-up.html", FOLLOW_UP, "en", "2026-11-21T12:00:00Z"))
    for outlet, items in pages.items():
        folder = root / "outlets" / outlet
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "robots.txt").write_text("User-agent: *\nAllow: /\n")
        for path, story, lang, published in items:
            file = folder / path.lstrip("/")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(_page(story, lang, published), encoding="utf-8")
        links = "".join(f"<item><title>t</title><link>{{{{base:{outlet}}}}}{p}</link></item>" for p, *_ in items)
        (folder / "feed.xml").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel>{links}</channel></rss>')


def _q(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_copies_across_outlets_and_runs_share_a_cluster(tmp_path: Path) -> None:
    from flows.demo_site import serve_sample_site

    root, db = tmp_path / "web", tmp_path / "wire.duckdb"
    first_port = free_port()  # the outlets keep their addresses from one run to the next, as real ones do

    def run(second: bool) -> None:
        _wire_web(root, second)
        with serve_sample_site(root, first_port=first_port) as web:
            sources = "".join(
                f'[[sources]]\nkey = "{k}"\nname = "{k}"\nlanguage = "{"es" if k == "opinion" else "en"}"\n'
                f'feeds = ["{base}/feed.xml"]\n'
                for k, base in web.bases.items()
            )
            config = tmp_path / "wire.toml"
            config.write_text(
                f'[storage]\ndb = "{db}"\nraw_dir = "{tmp_path / "raw"}"\n'
                '[crawl]\ndownload_delay = 0\nmax_age_days = 0\nallow_private_hosts = ["127.0.0.1"]\n' + sources
            )
            out = run_cli("run", "--config", str(config))
            assert out.returncode == 0, out.stdout + out.stderr

    run(False)
    run(True)
    arts = _q(db, "SELECT source, title, article_id, cluster_id FROM articles")
    assert len(arts) == 5  # both copies stay rows: analysts want to know which outlets ran the story
    found = {(source, title): (aid, cluster) for source, title, aid, cluster in arts}
    wire_id, wire_cluster = found[("ap", WIRE["title"])]
    assert wire_cluster == wire_id  # the earliest article names the cluster
    assert found[("plains", COPY["title"])][1] == wire_id
    for source, story in (("opinion", TRANSLATION), ("reuters", OTHER_AGENCY), ("ap", FOLLOW_UP)):
        aid, cluster = found[(source, story["title"])]
        assert cluster == aid
    assert _q(db, f"SELECT size, outlets, representative_title FROM clusters WHERE cluster_id = '{wire_id}'") == [
        (2, ["ap", "plains"], WIRE["title"])
    ]
    reason = _q(db, "SELECT reason FROM pages WHERE source = 'plains' AND outcome = 'new'")[0][0]
    assert reason.startswith(f"copy of article {wire_id} (containment ")
    assert _q(db, "SELECT count(*) FROM article_minhash")[0][0] == 5
    # a third run changes nothing: no new rows, no new signatures, the same clusters
    before = _q(db, "SELECT article_id, cluster_id, version FROM articles ORDER BY 1")
    run(True)
    assert _q(db, "SELECT article_id, cluster_id, version FROM articles ORDER BY 1") == before
    assert _q(db, "SELECT count(*), count(DISTINCT doc) FROM article_minhash") == [(5, 5)]
    assert _q(db, "SELECT count(*) FROM minhash_bands")[0][0] == 5 * near_dup.BANDS
    # a database whose articles were stored before the index existed (schema 4): the next run signs them all
    with duckdb.connect(str(db)) as con:
        con.execute("DELETE FROM minhash_bands")
        con.execute("DELETE FROM article_minhash")
    run(True)
    assert _q(db, "SELECT count(*) FROM articles ANTI JOIN article_minhash USING (article_id)") == [(0,)]
    assert _q(db, "SELECT count(*) FROM minhash_bands")[0][0] == 5 * near_dup.BANDS
    assert _q(db, "SELECT article_id, cluster_id, version FROM articles ORDER BY 1") == before
