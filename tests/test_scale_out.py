"""Scale-out of the crawl: several crawler processes share one frontier and one seen-URL set in a real
redis-server on 127.0.0.1 (installed by scripts/redis.sh, which `make test` runs first).

Each test compares a shared crawl with what a single process does on the same site: the same URLs end in the
ledgers, none twice, and the server sees every page requested as often as a single crawl requests it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, Site, article, free_port, rss, run_cli, write_sample_config  # noqa: E402

from flows.config import Config, ConfigError, load_config, parse_config
from flows.crawl import run_crawler, run_crawlers, write_plan
from flows.demo_site import serve_sample_site
from storage.archive import FetchRecord, ledger_files, read_ledger, read_ledger_file
from storage.urls import url_key


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free loopback port, no persistence, stopped after the module."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed: run scripts/redis.sh (`make test` does it first)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while redis_cli(port, "PING") != "PONG":
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on 127.0.0.1:{port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def redis_cli(port: int | str, *args: str) -> str:
    cli = shutil.which("redis-cli")
    assert cli, "redis-cli is missing (it comes with redis-server)"
    done = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(port), *args], capture_output=True, text=True)
    return done.stdout.strip()


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1].split("/")[0]


def shared_config(text: str, url: str, processes: int) -> str:
    return text.replace("[topic]", f'frontier = "{url}"\nprocesses = {processes}\n\n[topic]', 1)


def two_process_config(base: str, redis_url: str, tmp_path: Path, **crawl: object) -> Config:
    """One outlet (its feed at `base`/feed.xml) crawled by two processes sharing the frontier at `redis_url`."""
    settings = {"concurrency_per_host": 2, "allow_private_hosts": ["127.0.0.1"], "frontier": redis_url, "processes": 2}
    source = {"key": "o", "name": "O", "language": "en", "feeds": [base + "/feed.xml"]}
    return parse_config({"crawl": {**settings, **crawl}, "sources": [source]}, tmp_path / "cfg.toml")


def fetched_urls(records: list[FetchRecord]) -> Counter[str]:
    """By URL key: a page met in a feed (with tracking parameters) and in a sitemap is one URL, requested in
    the form discovered first."""
    return Counter(url_key(r.url) for r in records)


def paths(requests: list[tuple[str, str]]) -> Counter[tuple[str, str]]:
    return Counter((outlet, path.split("?")[0]) for outlet, path in requests)


def test_two_processes_crawl_the_sample_site_once_between_them(redis_url: str, tmp_path: Path) -> None:
    with serve_sample_site() as web:
        # the single-process crawl of the same site: what the shared one must match
        single_cfg = write_sample_config(web, tmp_path / "single")
        cfg = load_config(single_cfg)
        single_dir = tmp_path / "single" / "raw" / "one"
        assert run_crawler(write_plan(cfg, cfg.sources, "one", single_dir), single_dir / "crawl.log", 300) == 0
        single_requests = paths(web.requests)

        shared_cfg = tmp_path / "shared" / "borderwatch.toml"
        shared_cfg.parent.mkdir()
        shared_cfg.write_text(shared_config(single_cfg.read_text(), redis_url, 2), encoding="utf-8")
        cfg = load_config(shared_cfg)
        run_dir = tmp_path / "shared" / "raw" / "two"
        before = len(web.requests)
        plan = write_plan(cfg, cfg.sources, "two", run_dir)
        code = run_crawlers(plan, run_dir, 300, processes=2, shared=True)
        logs = "\n".join(p.read_text()[-2000:] for p in run_dir.glob("crawl-*.log"))
        assert code == 0, logs
        shared_requests = paths(web.requests[before:])

    parts = {p.name: read_ledger_file(p) for p in ledger_files(run_dir)}
    assert sorted(parts) == ["fetches-w1.jsonl", "fetches-w2.jsonl"]
    records = read_ledger(run_dir)
    urls = fetched_urls(records)
    assert [u for u, n in urls.items() if n > 1] == [], "a URL was recorded twice"
    w1, w2 = ({url_key(r.url) for r in recs} for recs in parts.values())
    assert not w1 & w2, "both processes fetched the same URL"
    # every URL (articles, feeds, sitemaps, errors, robots refusals) as a single process crawls them
    single = read_ledger(single_dir)
    assert sorted(urls) == sorted(fetched_urls(single))
    assert {url_key(r.url): r.outcome for r in records} == {url_key(r.url): r.outcome for r in single}
    articles = [r for r in records if r.kind == "article" and r.outcome == "fetched"]
    assert len(articles) >= 20
    # the server saw each page as often as in the single crawl (retries of a 500 included); only robots.txt,
    # which Scrapy's robots middleware reads once per process, is asked for more often
    robots = {k for k in shared_requests if k[1] == "/robots.txt"}
    assert {k: n for k, n in shared_requests.items() if k not in robots} == {
        k: n for k, n in single_requests.items() if k not in robots
    }
    assert all(shared_requests[k] <= 3 for k in robots)
    # the run's keys are gone from Redis; only the marker that ends late workers is left (it expires)
    port = port_of(redis_url)
    assert redis_cli(port, "--scan", "--pattern", "borderwatch:crawl:two:*").split() == ["borderwatch:crawl:two:done"]
    assert 0 < int(redis_cli(port, "TTL", "borderwatch:crawl:two:done")) <= 86400

    # a worker that starts after the shared crawl is over fetches nothing
    late = subprocess.run(
        [sys.executable, "-m", "crawlers.run", str(plan), "--worker", "late"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert late.returncode == 0, late.stderr[-2000:]
    assert read_ledger_file(run_dir / "fetches-late.jsonl") == []


def test_both_processes_take_a_share_of_a_slow_site(redis_url: str, tmp_path: Path) -> None:
    """Thirty articles at 0.2 s each: a crawl long enough that the second process, started with the first,
    takes part; the per-source page cap holds across the processes."""
    site = Site(tmp_path / "site")
    paths = [f"/news/story-{i:02d}-on-asylum.html" for i in range(30)]
    for i, path in enumerate(paths):
        site.put(path, article(f"Story {i}"))
        site.route(path, delay=0.2)
    with serve_sample_site(site.root, first_port=site.port) as web:
        base = web.bases["o"]
        site.put("feed.xml", rss(*(base + p for p in paths)))
        cfg = two_process_config(base, redis_url, tmp_path, download_delay=0, max_pages_per_source=25)
        run_dir = tmp_path / "raw" / "slow"
        plan = write_plan(cfg, cfg.sources, "slow", run_dir)
        assert run_crawlers(plan, run_dir, 300, processes=2, shared=True) == 0
        article_requests = [p for _, p in web.requests if p.startswith("/news/")]

    per_part = {
        p.name: [r for r in read_ledger_file(p) if r.kind == "article" and r.outcome == "fetched"]
        for p in ledger_files(run_dir)
    }
    assert all(per_part.values()), f"one process fetched no article: { {k: len(v) for k, v in per_part.items()} }"
    fetched = [r.url for recs in per_part.values() for r in recs]
    assert len(fetched) == len(set(fetched)) == 25  # the cap of 25 pages, not 25 per process
    assert len(article_requests) == 25 and len(set(article_requests)) == 25


def test_every_process_obeys_robots_txt_for_requests_it_did_not_discover(redis_url: str, tmp_path: Path) -> None:
    """A worker takes article URLs another process discovered, or last run's failures, from the shared queue
    as its first requests to a host: they all wait for that host's robots.txt in this process, and each must
    then be checked against it (Scrapy's middleware gave every waiter after the second "no robots.txt")."""
    site = Site(tmp_path / "site")
    site.route("/robots.txt", delay=0.5)  # the batch arrives while robots.txt is being read
    private = [f"/private/members-story-{i:02d}.html" for i in range(12)]
    public = [f"/news/open-story-{i:02d}-on-asylum.html" for i in range(4)]
    for path in private + public:
        site.put(path, article(f"Story {path}"))
    with serve_sample_site(site.root, first_port=site.port) as web:
        base = web.bases["o"]
        site.put("feed.xml", rss(*(base + p for p in private[6:] + public)))
        cfg = parse_config(
            {
                "crawl": {
                    "download_delay": 0,
                    "allow_private_hosts": ["127.0.0.1"],
                    "frontier": redis_url,
                    "processes": 2,
                },
                "sources": [{"key": "o", "name": "O", "language": "en", "feeds": [base + "/feed.xml"]}],
            },
            tmp_path / "cfg.toml",
        )
        # last run's failures: requested at the start, by whichever process takes them from the queue
        state = [
            {"key": url_key(base + p), "url": base + p, "source": "o", "kind": "article", "fail_count": 1}
            for p in private[:6]
        ]
        run_dir = tmp_path / "raw" / "robots"
        plan = write_plan(cfg, cfg.sources, "robots", run_dir, state)
        assert run_crawlers(plan, run_dir, 300, processes=2, shared=True) == 0
        requested = [p for _, p in web.requests]

    outcomes = {r.url.replace(base, ""): r.outcome for r in read_ledger(run_dir)}
    assert {p: outcomes.get(p) for p in private} == {p: "robots" for p in private}
    assert {p: outcomes.get(p) for p in public} == {p: "fetched" for p in public}
    assert not [p for p in requested if p.startswith("/private/")], "a robots-disallowed page was requested"


def test_pipeline_with_two_processes_stores_the_same_articles(
    redis_url: str, sample_web, two_runs, tmp_path: Path
) -> None:
    data = tmp_path / "scaled"
    config = write_sample_config(sample_web, data)
    config.write_text(shared_config(config.read_text(), redis_url, 2), encoding="utf-8")
    done = run_cli("run", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr

    def stored(db: Path) -> list[tuple]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(
                "SELECT article_id, url, source, title, text, content_hash FROM articles ORDER BY 1"
            ).fetchall()

    def first_run_pages(db: Path) -> list[tuple]:
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.execute(
                "SELECT url, kind, outcome FROM pages WHERE run_id = (SELECT min(run_id) FROM crawl_runs)"
            ).fetchall()
        return sorted((url_key(url), kind, outcome) for url, kind, outcome in rows)

    scaled_db = data / "demo.duckdb"
    assert stored(scaled_db) == stored(two_runs["db"])
    # exact, outcomes included: which page of an article is "new" and which "duplicate" (a redirect alias and
    # its target) does not depend on which process fetched which first, since dedup ranks the pages of one
    # article by URL rather than by arrival (flows/dedup.py decide)
    assert first_run_pages(scaled_db) == first_run_pages(two_runs["db"])
    run_dirs = list((data / "raw-demo").iterdir())
    assert len(run_dirs) == 1
    assert sorted(p.name for p in ledger_files(run_dirs[0])) == ["fetches-w1.jsonl", "fetches-w2.jsonl"]


@pytest.mark.parametrize(
    ("crawl", "message"),
    [
        ({"processes": 2}, "needs a shared frontier"),
        ({"processes": 0, "frontier": "redis://127.0.0.1:6379/0"}, "processes must be at least 1"),
        ({"frontier": "http://127.0.0.1:6379"}, "must be a Redis URL"),
    ],
)
def test_scale_out_settings_are_checked(crawl: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"crawl": crawl}, tmp_path / "cfg.toml")


def test_an_unreachable_frontier_fails_the_crawl_at_once(tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "crawl": {"frontier": f"redis://127.0.0.1:{free_port()}/0", "processes": 2},
            "sources": [{"key": "o", "name": "O", "language": "en", "feeds": ["http://127.0.0.1:9/feed.xml"]}],
        },
        tmp_path / "cfg.toml",
    )
    run_dir = tmp_path / "raw" / "nope"
    started = time.monotonic()
    assert run_crawlers(write_plan(cfg, cfg.sources, "nope", run_dir), run_dir, 120, processes=2, shared=True) == 1
    assert time.monotonic() - started < 60
    assert "cannot reach the shared frontier" in (run_dir / "crawl-w1.log").read_text()
    assert read_ledger(run_dir) == []


def test_hosts_schedule_is_shared_through_redis(redis_url: str) -> None:
    """Reservations on the shared schedule are spaced by the host's delay whoever makes them; a Retry-After pause
    holds every process; nothing is kept once the run is over."""
    from crawlers.frontier import RedisFrontier

    a = RedisFrontier.from_url(redis_url, "hosts", "w1")
    b = RedisFrontier.from_url(redis_url, "hosts", "w2")
    waits = [a.reserve_host("n.example", 0.5), b.reserve_host("n.example", 0.5), a.reserve_host("n.example", 0.5)]
    assert waits[0] == pytest.approx(0.0, abs=0.05)
    assert waits[1] == pytest.approx(0.5, abs=0.05) and waits[2] == pytest.approx(1.0, abs=0.05)
    assert b.reserve_host("other.example", 0.5) == pytest.approx(0.0, abs=0.05)  # hosts are apart
    assert b.reserve_host("other.example", 0.5, at_least=3.0) == pytest.approx(3.0, abs=0.05)  # a retry's backoff
    a.pause_host("p.example", 2.0)
    assert b.reserve_host("p.example", 0.0) == pytest.approx(2.0, abs=0.05)
    assert a.idle() and a.is_done()  # an empty queue and no lease held: the run is over
    assert a.reserve_host("n.example", 0.5) == 0.0 and a.client.exists(a.keys["hosts"]) == 0


def test_two_processes_keep_one_processs_pace_on_a_host(redis_url: str, tmp_path: Path) -> None:
    """Per-host politeness is shared: two processes crawling one outlet with a 0.25 s delay send it requests 0.25 s
    apart between them, not each on its own (which sends pairs at once). More stories than a process takes off the
    queue at once (16), so that both take part."""
    site = Site(tmp_path / "site")
    paths = [f"/news/story-{i:02d}-on-asylum.html" for i in range(24)]
    for i, path in enumerate(paths):
        site.put(path, article(f"Story {i}"))
    with serve_sample_site(site.root, first_port=site.port) as web:
        base = web.bases["o"]
        site.put("feed.xml", rss(*(base + p for p in paths)))
        cfg = two_process_config(base, redis_url, tmp_path, download_delay=0.25)
        run_dir = tmp_path / "raw" / "paced"
        plan = write_plan(cfg, cfg.sources, "paced", run_dir)
        assert run_crawlers(plan, run_dir, 300, processes=2, shared=True) == 0
        log = sorted((t, path) for (outlet, path), t in zip(web.requests, web.times, strict=True) if outlet == "o")
        times = [t for t, _ in log]
    per_part = [
        [r for r in read_ledger_file(p) if r.kind == "article" and r.outcome == "fetched"]
        for p in ledger_files(run_dir)
    ]
    assert sum(map(len, per_part)) == 24 and all(per_part), [len(p) for p in per_part]  # both took part
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) >= 26  # robots.txt, the feed and the 24 stories
    assert min(gaps) >= 0.2, [(round(g, 3), log[i][1], log[i + 1][1]) for i, g in enumerate(gaps) if g < 0.2]
