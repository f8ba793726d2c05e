"""End to end: the real `borderwatch` CLI crawls the sample news web on 127.0.0.1 (Scrapy in its own
process), cleans, scores, dedups and loads into a real DuckDB file through a real Prefect flow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import run_cli, write_sample_config

from storage.archive import read_ledger, read_responses


def _rel(url: str, web) -> tuple[str, str]:
    """(outlet, path) of a sample-site URL."""
    for key, base in web.bases.items():
        if url.startswith(base):
            return key, url[len(base) :] or "/"
    return "", url


def _q(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_run_exits_zero_and_prints_a_summary(two_runs) -> None:
    first = two_runs["first"]
    assert first.returncode == 0, first.stdout + first.stderr
    assert "completed" in first.stdout
    assert "pages fetched" in first.stdout and "articles new 17" in first.stdout


def test_exactly_the_on_topic_articles_are_stored(two_runs, sample_web, expected) -> None:
    rows = _q(two_runs["db"], "SELECT url FROM articles")
    stored = sorted(_rel(url, sample_web) for (url,) in rows)
    wanted = sorted((a["outlet"], a["path"]) for a in expected["articles"] if a["on_topic"])
    # canonical URLs drop the trailing slash of directory-style paths
    assert stored == sorted((o, p.rstrip("/") or "/") for o, p in wanted)


def test_titles_dates_authors_languages(two_runs, sample_web, expected) -> None:
    rows = _q(two_runs["db"], "SELECT url, title, published_at, authors, language FROM articles")
    by_path = {_rel(r[0], sample_web): r for r in rows}
    for a in expected["articles"]:
        if not a["on_topic"]:
            continue
        _, title, published, authors, language = by_path[(a["outlet"], a["path"].rstrip("/"))]
        assert title == a["title"]
        assert published == datetime.fromisoformat(a["published"]), a["path"]
        assert authors == a["authors"], a["path"]
        assert language == a["language"], a["path"]


def test_text_keeps_the_body_and_drops_boilerplate(two_runs, sample_web, expected) -> None:
    texts = {_rel(u, sample_web): t for u, t in _q(two_runs["db"], "SELECT url, text FROM articles")}
    for a in expected["articles"]:
        if not a["on_topic"]:
            continue
        text = texts[(a["outlet"], a["path"].rstrip("/"))]
        for phrase in a["present"]:
            assert phrase in text, f"{a['path']}: missing {phrase!r}"
        for phrase in a["absent"]:
            assert phrase not in text, f"{a['path']}: boilerplate {phrase!r} kept"


def test_off_topic_pages_are_recorded_with_score_not_loaded(two_runs, sample_web, expected) -> None:
    rows = _q(two_runs["db"], "SELECT url, relevance, reason FROM pages WHERE outcome = 'off_topic'")
    off = {_rel(u, sample_web): (score, reason) for u, score, reason in rows}
    fetched = {(o, p.split("?")[0]) for o, p in two_runs["requests_first"]}
    screened = 0
    for a in expected["articles"]:
        if a["on_topic"]:
            continue
        score, reason = off[(a["outlet"], a["path"])]
        if score is None:  # a clearly off-topic title: screened before download, never requested
            assert "title screened" in reason and (a["outlet"], a["path"]) not in fetched
            screened += 1
        else:
            assert score < 0.5
    assert screened >= 2  # border collies, monarch butterflies, cross-border payments
    assert _q(two_runs["db"], "SELECT min(relevance) FROM articles")[0][0] >= 0.5
    # the evidence is stored with every article
    assert _q(two_runs["db"], "SELECT count(*) FROM articles WHERE len(relevance_terms) = 0")[0][0] == 0


def test_every_url_has_its_outcome(two_runs, sample_web, expected) -> None:
    first_run = _q(two_runs["db"], "SELECT min(run_id) FROM crawl_runs")[0][0]
    rows = _q(two_runs["db"], "SELECT url, outcome, reason FROM pages WHERE run_id = ?", [first_run])
    outcomes = {_rel(u, sample_web): (o, r) for u, o, r in rows}
    why_to_outcome = {"404": "http_error", "500": "http_error", "redirect_loop": "error", "blocked": "blocked"}
    for na in expected["not_articles"]:
        want = why_to_outcome.get(na["why"])
        key = (na["outlet"], na["path"]) if na["path"].startswith("/") else ("", na["path"])
        if want and na["path"] not in {r["to"] for r in expected["redirects"]}:
            assert outcomes[key][0] == want, (key, outcomes.get(key))
    assert outcomes[("frontera-times", "/")][0] == "not_article"
    assert (
        "redirect"
        in outcomes[
            ("diario-del-norte", next(na["path"] for na in expected["not_articles"] if na["why"] == "redirect_loop"))
        ][1]
    )
    assert outcomes[("valley-courier", "/members/border-insider-report-12400.html")][0] == "robots"
    # identical text at a second URL of the outlet, nothing else linking them: the content hash decides
    for a in expected["articles"]:
        for path in a.get("same_text_paths", []):
            outcome, reason = outcomes[(a["outlet"], path)]
            assert outcome == "duplicate" and "same text" in reason
            # ...and the article records both URLs
            base = sample_web.bases[a["outlet"]]
            urls = _q(
                two_runs["db"],
                "SELECT u.url FROM article_urls u JOIN articles a USING (article_id) WHERE a.url = ?",
                [base + a["path"]],
            )
            assert {u for (u,) in urls} == {base + a["path"], base + path}


def test_robots_and_network_guard_keep_the_crawler_out(two_runs, expected) -> None:
    fetched = {path.split("?")[0] for _outlet, path in two_runs["requests_first"]}
    for path in expected["never_fetched"]:
        assert path not in fetched
    # the guarded address never saw a packet: nothing listens there, and the guard refused before connecting
    rows = _q(two_runs["db"], "SELECT count(*) FROM pages WHERE outcome = 'blocked' AND reason LIKE '%127.0.0.9%'")
    assert rows[0][0] >= 1  # the redirect hop to 127.0.0.9
    # the feed item on another host is not followed at all
    offsite = _q(two_runs["db"], "SELECT sum(offsite) FROM source_runs WHERE source = 'valley-courier'")
    assert offsite[0][0] >= 1


def test_second_run_adds_no_rows_and_downloads_no_article(two_runs, expected) -> None:
    second = two_runs["second"]
    assert second.returncode == 0, second.stdout + second.stderr
    assert "articles new 0" in second.stdout
    db = two_runs["db"]
    assert _q(db, "SELECT count(*), count(DISTINCT article_id), count(DISTINCT url) FROM articles")[0] == (17, 17, 17)
    assert _q(db, "SELECT max(version) FROM articles")[0][0] == 1
    assert _q(db, "SELECT count(*) FROM article_versions")[0][0] == 17  # unchanged re-fetches add no version
    assert _q(db, "SELECT count(*), sum(size) FROM clusters")[0] == (17, 17)
    runs = _q(db, "SELECT status, articles_new, not_modified FROM crawl_runs ORDER BY started_at")
    assert [r[0] for r in runs] == ["completed_with_errors"] * 2  # the sample web has deliberate 404/500s
    assert runs[0][1:] == (17, 0) and runs[1][1] == 0
    # feeds, sitemaps and section pages answered 304 to conditional requests; no stored article was downloaded
    second_id = _q(db, "SELECT max(run_id) FROM crawl_runs")[0][0]
    discovery = _q(
        db,
        "SELECT outcome, count(*) FROM pages WHERE run_id = ? AND kind IN ('feed', 'sitemap', 'section') GROUP BY ALL",
        [second_id],
    )
    assert dict(discovery) == {"not_modified": runs[1][2]} and runs[1][2] >= 8
    article_paths = {(a["outlet"], a["path"]) for a in expected["articles"]}
    fetched_again = [(o, p) for o, p in two_runs["requests_second"] if (o, p.split("?")[0]) in article_paths]
    assert fetched_again == []
    # what failed for a passing reason (5xx, a redirect loop) was tried again; a 404 was not
    retried = {p for _, p in two_runs["requests_second"]}
    assert "/news/border/wait-times-spike-at-pharr-bridge-12343.html" in retried
    assert "/news/border/commissioners-back-new-port-of-entry-near-progreso-12340.html" not in retried


def test_per_source_figures_are_recorded(two_runs) -> None:
    db = two_runs["db"]
    first = _q(db, "SELECT min(run_id) FROM crawl_runs")[0][0]
    rows = {
        r[0]: r[1:]
        for r in _q(
            db, "SELECT source, discovered, fetched, articles_new, errors FROM source_runs WHERE run_id = ?", [first]
        )
    }
    assert set(rows) == {"frontera-times", "diario-del-norte", "valley-courier"}
    assert all(discovered > 5 and fetched > 5 for discovered, fetched, _, _ in rows.values())
    assert sum(new for _, _, new, _ in rows.values()) == 17
    status = run_cli("status", "--db", str(db))
    assert "frontera-times" in status.stdout and "not_modified" in status.stdout


def test_raw_archive_keeps_every_response(two_runs) -> None:
    db = two_runs["db"]
    run_id = _q(db, "SELECT min(run_id) FROM crawl_runs")[0][0]
    run_dir = two_runs["data"] / "raw-demo" / run_id
    ledger = read_ledger(run_dir)
    assert len(ledger) == _q(db, "SELECT count(*) FROM pages WHERE run_id = ?", [run_id])[0][0]
    bodies = dict(read_responses(run_dir))
    fetched = [r for r in ledger if r.http_status]
    assert sorted(bodies) == sorted(r.warc_offset for r in fetched)
    for r in fetched:
        assert bodies[r.warc_offset].url == r.final_url
        assert bodies[r.warc_offset].http_status == r.http_status
    sample = next(r for r in fetched if r.kind == "article" and r.http_status == 200)
    assert b"<html" in bodies[sample.warc_offset].body.lower()
    assert bodies[sample.warc_offset].headers["content-type"].startswith("text/html")


def test_status_and_sql_commands(two_runs) -> None:
    db = str(two_runs["db"])
    status = run_cli("status", "--db", db)
    assert status.returncode == 0 and status.stdout.count("completed_with_errors") >= 2
    out = run_cli(
        "sql", "SELECT source, count(*) AS n FROM articles GROUP BY 1 ORDER BY 1", "--db", db, "--format", "json"
    )
    assert out.returncode == 0, out.stderr
    assert {r["source"]: r["n"] for r in json.loads(out.stdout)} == {
        "diario-del-norte": 6,
        "frontera-times": 6,
        "valley-courier": 5,
    }
    csv_out = run_cli("sql", "SELECT count(*) AS n FROM articles", "--db", db, "--format", "csv")
    assert csv_out.stdout.splitlines() == ["n", "17"]


@pytest.mark.parametrize(
    "statement", ["DELETE FROM articles", "DROP TABLE pages; SELECT 1", "UPDATE articles SET title = 'x'"]
)
def test_sql_refuses_writes(two_runs, statement: str) -> None:
    out = run_cli("sql", statement, "--db", str(two_runs["db"]))
    assert out.returncode != 0
    assert "read-only" in out.stderr and "refused" in out.stderr
    assert _q(two_runs["db"], "SELECT count(*) FROM articles")[0][0] == 17


def test_bad_config_gives_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[crawl]\nconcurrency_per_hots = 2\n", encoding="utf-8")
    out = run_cli("run", "--config", str(bad))
    assert out.returncode != 0
    assert "concurrency_per_hots" in out.stderr and str(bad) in out.stderr
    assert "Traceback" not in out.stderr


def test_killed_run_leaves_a_consistent_database(sample_web, tmp_path: Path) -> None:
    """SIGKILL the whole run while it crawls; the next run completes the work without duplicates."""
    config = write_sample_config(sample_web, tmp_path, extra="")
    text = (
        config.read_text()
        .replace("download_delay = 0", "download_delay = 0.3")
        .replace("concurrency_per_host = 4", "concurrency_per_host = 1")
    )
    config.write_text(text)
    exe = Path(sys.executable).parent / "borderwatch"
    proc = subprocess.Popen(
        [str(exe), "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=dict(os.environ),
    )
    raw = tmp_path / "raw-demo"
    deadline = time.monotonic() + 300  # Python, Prefect's server and Scrapy start slowly on a loaded machine
    while time.monotonic() < deadline:
        ledgers = list(raw.glob("*/fetches.jsonl"))
        if ledgers and ledgers[0].stat().st_size > 0:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the crawl never started")
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI, the Prefect server and the crawler subprocess
    proc.wait(30)
    db = tmp_path / "demo.duckdb"
    assert _q(db, "SELECT status FROM crawl_runs") == [("running",)]
    assert _q(db, "SELECT count(*) FROM articles")[0][0] == 0
    again = run_cli("run", "--config", str(config))
    assert again.returncode == 0, again.stdout + again.stderr
    assert _q(db, "SELECT status FROM crawl_runs ORDER BY started_at") == [("interrupted",), ("completed_with_errors",)]
    assert _q(db, "SELECT count(*), count(DISTINCT url) FROM articles")[0] == (17, 17)


def test_a_failed_run_exits_non_zero(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path)
    not_a_db = tmp_path / "folder.duckdb"
    not_a_db.mkdir()  # a folder where the database file should be: DuckDB cannot open it
    out = run_cli("run", "--config", str(config), "--db", str(not_a_db))
    assert out.returncode == 1
    # Prefect logs the flow run's exception itself; the command's last word says what failed
    assert out.stderr.strip().splitlines()[-1].startswith("run failed: IOException")


def test_reprocess_restores_what_the_current_cleaner_extracts(sample_web, tmp_path: Path) -> None:
    """Simulate articles stored by an older, worse cleaner; `reprocess` re-cleans the raw pages."""
    config = write_sample_config(sample_web, tmp_path)
    assert run_cli("run", "--config", str(config)).returncode == 0
    db = tmp_path / "demo.duckdb"
    with duckdb.connect(str(db)) as con:
        (aid, title), *_ = con.execute("SELECT article_id, title FROM articles ORDER BY article_id").fetchall()
        con.execute(
            "UPDATE articles SET title = title || ' | Old Site Suffix', authors = ['Staff'] WHERE article_id = ?", [aid]
        )
    out = run_cli("reprocess", "--all", "--config", str(config))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "articles checked 17, articles updated 1" in out.stdout
    rows = _q(db, "SELECT article_id, title, version, authors FROM articles WHERE version > 1")
    assert [(r[0], r[1], r[2]) for r in rows] == [(aid, title, 2)] and rows[0][3] != ["Staff"]
    # the change is a version of its own; the first version is kept
    versions = _q(db, "SELECT version, title FROM article_versions WHERE article_id = ? ORDER BY version", [aid])
    assert versions == [(1, title), (2, title)]
    assert _q(db, "SELECT count(*) FROM article_versions")[0][0] == 18
    again = run_cli("reprocess", "--all", "--config", str(config))
    assert "articles updated 0" in again.stdout  # nothing changed since: no new versions
    assert run_cli("reprocess", "--config", str(config)).returncode != 0  # --run or --all is required


def test_rescore_moves_articles_in_and_out_without_downloading(sample_web, tmp_path: Path) -> None:
    config = write_sample_config(sample_web, tmp_path)
    assert run_cli("run", "--config", str(config)).returncode == 0
    db = tmp_path / "demo.duckdb"
    before = sorted(r[0] for r in _q(db, "SELECT article_id FROM articles"))
    requests = len(sample_web.requests)
    # a looser topic threshold: the 8 off-topic pages come in, re-cleaned from the raw archive
    loose = tmp_path / "loose.toml"
    loose.write_text(config.read_text().replace("min_relevance = 0.5", "min_relevance = 0.0"))
    # (off-topic pages screened by title were never downloaded: only the fetched ones can come in)
    archived = _q(db, "SELECT count(*) FROM pages WHERE outcome = 'off_topic' AND warc_offset IS NOT NULL")[0][0]
    assert archived >= 5
    out = run_cli("rescore", "--config", str(loose))
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"moved out 0, moved in {archived}" in out.stdout
    assert _q(db, "SELECT count(*) FROM articles")[0][0] == 17 + archived
    # back to the real threshold: they leave again, the on-topic set is what it was
    out = run_cli("rescore", "--config", str(config))
    assert f"moved out {archived}, moved in 0" in out.stdout
    assert sorted(r[0] for r in _q(db, "SELECT article_id FROM articles")) == before
    assert len(sample_web.requests) == requests  # nothing was downloaded
