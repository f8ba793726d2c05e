"""The crawler (a real Scrapy process) against local servers that misbehave in one way each.

Every test builds a tiny site in a temporary folder, serves it on 127.0.0.1 with the sample-site server
(whose `_routes.json` behaviours make it slow, flaky, endless, rude...), runs `python -m crawlers.run`
exactly as the flow does, and reads the ledger and raw archive it leaves.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Site, article, rss  # noqa: E402

from flows.clean import clean_html
from flows.config import parse_config
from flows.crawl import read_stats, run_crawler, write_plan
from flows.demo_site import serve_sample_site
from storage.archive import FetchRecord, read_ledger, read_responses
from storage.urls import url_key


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path / "site")


def crawl(
    site: Site,
    tmp_path: Path,
    *,
    feeds: tuple[str, ...] = (),
    sitemaps: tuple[str, ...] = (),
    sections: tuple[str, ...] = (),
    crawl_cfg: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
    state: list[dict[str, Any]] | None = None,
    during: Callable[[Any], None] | None = None,
    run: str = "run1",
) -> tuple[list[FetchRecord], Any, Path]:
    """Serve the site, crawl it once; returns the ledger, the server (its request log) and the run dir."""
    with serve_sample_site(site.root, first_port=site.port) as web:
        base = web.bases["o"]
        cfg = parse_config(
            {
                "crawl": {
                    "download_delay": 0,
                    "allow_private_hosts": ["127.0.0.1"],
                    "retry_backoff": 0.1,
                    "download_timeout": 5,
                    **(crawl_cfg or {}),
                },
                "sources": [
                    {
                        "key": "o",
                        "name": "O",
                        "language": "en",
                        "feeds": [base + f for f in feeds],
                        "sitemaps": [base + s for s in sitemaps],
                        "sections": [base + s for s in sections],
                        **{
                            k: v.replace("{base}", base) if isinstance(v, str) else v for k, v in (source or {}).items()
                        },
                    }
                ],
            },
            tmp_path / "cfg.toml",
        )
        run_dir = tmp_path / "raw" / run
        plan = write_plan(cfg, cfg.sources, run, run_dir, state)
        code = run_crawler(plan, run_dir / "crawl.log", timeout_s=120)
        assert code == 0, (run_dir / "crawl.log").read_text()[-3000:]
        if during:
            during(web)
        return read_ledger(run_dir), web, run_dir


def by_path(records: list[FetchRecord], web: Any) -> dict[str, FetchRecord]:
    base = web.bases["o"]
    return {r.url.replace(base, ""): r for r in records}


def test_robots_crawl_delay_spaces_requests(site: Site, tmp_path: Path) -> None:
    site.put("robots.txt", "User-agent: *\nCrawl-delay: 1\n")
    for i in range(3):
        site.put(f"/news/story-number-{i}-about-asylum.html", article(f"Story {i}"))
    site.put("/feed.xml", rss(*(f"/news/story-number-{i}-about-asylum.html" for i in range(3))))
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",), crawl_cfg={"concurrency_per_host": 4})
    times = sorted(t for (o, p), t in zip(web.requests, web.times, strict=True) if p.startswith("/news/"))
    assert len(times) == 3
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.9, gaps  # 4 allowed in parallel, but the site asked for one a second


def test_429_with_retry_after_is_waited_for_then_fetched(site: Site, tmp_path: Path) -> None:
    site.put("/news/slow-down-please-story.html", article("Slow down"))
    site.route("/news/slow-down-please-story.html", fail_times=1, fail_status=429, retry_after=2)
    site.put("/feed.xml", rss("/news/slow-down-please-story.html"))
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",))
    rec = by_path(records, web)["/news/slow-down-please-story.html"]
    assert rec.outcome == "fetched" and rec.http_status == 200
    times = [t for (o, p), t in zip(web.requests, web.times, strict=True) if p.startswith("/news/")]
    assert len(times) == 2 and times[1] - times[0] >= 1.9


def test_retry_after_beyond_the_cap_gives_up_for_this_run(site: Site, tmp_path: Path) -> None:
    site.put("/news/come-back-tomorrow-story.html", article("Tomorrow"))
    site.route("/news/come-back-tomorrow-story.html", fail_times=99, fail_status=503, retry_after=86400)
    site.put("/feed.xml", rss("/news/come-back-tomorrow-story.html"))
    t0 = time.monotonic()
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",), crawl_cfg={"max_retry_after": 5})
    rec = by_path(records, web)["/news/come-back-tomorrow-story.html"]
    assert (rec.outcome, rec.http_status) == ("http_error", 503)
    assert sum(1 for _, p in web.requests if p.startswith("/news/")) == 1
    assert time.monotonic() - t0 < 60


def test_transient_5xx_retried_with_backoff(site: Site, tmp_path: Path) -> None:
    site.put("/news/flaky-server-story.html", article("Flaky"))
    site.route("/news/flaky-server-story.html", fail_times=2, fail_status=502)
    site.put("/feed.xml", rss("/news/flaky-server-story.html"))
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",), crawl_cfg={"retries": 3, "retry_backoff": 0.5})
    assert by_path(records, web)["/news/flaky-server-story.html"].outcome == "fetched"
    times = [t for (o, p), t in zip(web.requests, web.times, strict=True) if p.startswith("/news/")]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.35 and times[2] - times[1] >= 0.75  # 0.5 s then 1 s, ±20 % jitter


def test_connection_reset_is_recorded_and_retried_next_run(site: Site, tmp_path: Path) -> None:
    site.put("/news/hang-up-story.html", article("Reset"))
    site.route("/news/hang-up-story.html", reset=True)
    site.put("/feed.xml", rss("/news/hang-up-story.html"))
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",), crawl_cfg={"retries": 1})
    rec = by_path(records, web)["/news/hang-up-story.html"]
    assert rec.outcome == "error" and rec.reason
    # next run: the feed no longer lists it, but the stored failure brings it back
    site.put("/feed.xml", rss())
    site.route("/news/hang-up-story.html")
    state = [
        {
            "key": rec.url,
            "url": rec.url,
            "source": "o",
            "kind": "article",
            "etag": None,
            "last_modified": None,
            "lastmod": None,
            "http_status": None,
            "outcome": "error",
            "fail_count": 1,
        }
    ]
    records2, web2, _ = crawl(site, tmp_path, feeds=("/feed.xml",), state=state, run="run2")
    assert by_path(records2, web2)["/news/hang-up-story.html"].outcome == "fetched"


def test_endless_response_is_cut_at_the_size_limit(site: Site, tmp_path: Path) -> None:
    site.route("/news/never-ending-story-page.html", endless=True)
    site.put("/feed.xml", rss("/news/never-ending-story-page.html"))
    t0 = time.monotonic()
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",), crawl_cfg={"max_response_bytes": 1 << 20})
    rec = by_path(records, web)["/news/never-ending-story-page.html"]
    assert rec.outcome == "error"
    assert time.monotonic() - t0 < 60


def test_gzip_bomb_is_cut_at_the_size_limit(site: Site, tmp_path: Path) -> None:
    site.route("/news/tiny-download-huge-page.html", gzip_bomb_mb=64)
    site.put("/feed.xml", rss("/news/tiny-download-huge-page.html"))
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",), crawl_cfg={"max_response_bytes": 4 << 20})
    rec = by_path(records, web)["/news/tiny-download-huge-page.html"]
    assert rec.outcome == "error"


def test_redirect_loops_and_redirects_into_private_addresses(site: Site, tmp_path: Path) -> None:
    site.route("/news/loop-one-story-here.html", redirect="/news/loop-two-story-here.html", status=302)
    site.route("/news/loop-two-story-here.html", redirect="/news/loop-one-story-here.html", status=302)
    site.route("/news/moved-to-intranet-story.html", redirect="http://127.0.0.9:9/admin", status=302)
    site.put("/feed.xml", rss("/news/loop-one-story-here.html", "/news/moved-to-intranet-story.html"))
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",))
    pages = by_path(records, web)
    assert pages["/news/loop-one-story-here.html"].outcome == "error"
    assert "redirect" in (pages["/news/loop-one-story-here.html"].reason or "")
    blocked = pages["/news/moved-to-intranet-story.html"]
    assert blocked.outcome == "blocked" and "127.0.0.9" in (blocked.reason or "")


def test_non_html_article_is_skipped_without_downloading_it(site: Site, tmp_path: Path) -> None:
    site.put("/files/big-report-on-asylum-2026.pdf", b"%PDF-1.4\n" + b"0" * (5 << 20))
    site.put("/feed.xml", rss("/files/big-report-on-asylum-2026", "/news/report-landing-page-2026.html"))
    site.route(
        "/files/big-report-on-asylum-2026", file="files/big-report-on-asylum-2026.pdf", content_type="application/pdf"
    )
    site.route(
        "/news/report-landing-page-2026.html",
        file="files/big-report-on-asylum-2026.pdf",
        content_type="application/pdf",
    )
    records, web, run_dir = crawl(site, tmp_path, feeds=("/feed.xml",))
    rec = by_path(records, web)["/news/report-landing-page-2026.html"]
    assert rec.outcome == "skipped" and "application/pdf" in (rec.reason or "")
    assert (run_dir / "crawl.warc.gz").stat().st_size < 1 << 20  # the 5 MB body never reached the archive


def test_windows_1252_page_with_only_a_meta_charset(site: Site, tmp_path: Path) -> None:
    page = (
        '<html><head><meta charset="windows-1252"><meta property="og:type" content="article">'
        "<title>Deportación en Juárez</title></head><body><article><p>"
        + "La política migratoria de México cambió según la Secretaría de Gobernación. " * 30
        + "</p></article></body></html>"
    ).encode("cp1252")
    site.put("/noticias/deportacion-en-juarez-2026.html", page)
    site.route(
        "/noticias/deportacion-en-juarez-2026.html",
        file="noticias/deportacion-en-juarez-2026.html",
        content_type="text/html",
    )  # no charset in the header: only the meta tag tells
    site.put("/feed.xml", rss("/noticias/deportacion-en-juarez-2026.html"))
    records, web, run_dir = crawl(site, tmp_path, feeds=("/feed.xml",))
    rec = by_path(records, web)["/noticias/deportacion-en-juarez-2026.html"]
    (resp,) = [r for off, r in read_responses(run_dir) if off == rec.warc_offset]
    cleaned = clean_html(resp.body, resp.url, resp.headers.get("content-type"))
    assert "política migratoria de México cambió según la Secretaría" in cleaned.text
    assert cleaned.title == "Deportación en Juárez"


def test_offsite_links_are_not_followed(site: Site, tmp_path: Path) -> None:
    site.put("/news/our-own-story-on-asylum.html", article("Ours"))
    site.put("/feed.xml", rss("/news/our-own-story-on-asylum.html", "http://127.0.0.1:9/elsewhere/some-story-here"))
    records, web, run_dir = crawl(site, tmp_path, feeds=("/feed.xml",))
    assert [r.url.replace(web.bases["o"], "") for r in records if r.kind == "article"] == [
        "/news/our-own-story-on-asylum.html"
    ]
    assert read_stats(run_dir)["o"]["offsite"] == 1


def test_section_pagination_trap_stops_at_the_limit(site: Site, tmp_path: Path) -> None:
    for n in range(1, 30):  # an endless calendar: every page links the next
        site.put(
            f"/archive/page/{n}/index.html",
            f'<html><body><a href="/archive/page/{n + 1}/" rel="next">Next</a>'
            f'<a href="/2026/01/{n:02d}/story-of-the-day-number-{n}/">Story</a></body></html>',
        )
    records, web, _ = crawl(site, tmp_path, sections=("/archive/page/1/",), crawl_cfg={"max_section_pages": 3})
    assert sum(1 for r in records if r.kind == "section") == 3
    assert sum(1 for r in records if r.kind == "article") == 3


def test_sitemap_xxe_fetches_and_leaks_nothing(site: Site, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")

    def probe(web: Any) -> None:
        assert not any("xxe-probe" in p for _, p in web.requests)

    port = site.port
    site.put(
        "/sitemap.xml",
        f"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY leak SYSTEM "file://{secret}"><!ENTITY ping SYSTEM "http://127.0.0.1:{port}/xxe-probe">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{{{{base:o}}}}/news/a-perfectly-normal-story&leak;&ping;.html</loc></url></urlset>""",
    )
    records, web, _ = crawl(site, tmp_path, sitemaps=("/sitemap.xml",), during=probe)
    assert all("TOP-SECRET" not in r.url for r in records)


def test_robots_sitemap_lines_are_followed(site: Site, tmp_path: Path) -> None:
    site.put("robots.txt", "User-agent: *\nDisallow: /private/\nSitemap: {{base:o}}/hidden-sitemap.xml\n")
    site.put(
        "/hidden-sitemap.xml",
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>{{base:o}}/news/only-in-robots-sitemap-story.html</loc></url></urlset>",
    )
    site.put("/news/only-in-robots-sitemap-story.html", article("Hidden"))
    site.put("/feed.xml", rss())
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",))
    assert by_path(records, web)["/news/only-in-robots-sitemap-story.html"].outcome == "fetched"


def _sitemap(entries: dict[str, str], base: str = "{{base:o}}") -> str:
    urls = "".join(f"<url><loc>{base}{p}</loc><lastmod>{d}</lastmod></url>" for p, d in entries.items())
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def test_incremental_second_run_downloads_only_what_changed(site: Site, tmp_path: Path) -> None:
    dates = {f"/news/known-story-number-{i}.html": "2026-11-20T10:00:00Z" for i in range(4)}
    for path in dates:
        site.put(path, article(path))
    site.put("/sitemap.xml", _sitemap(dates))
    first, web, _ = crawl(site, tmp_path, sitemaps=("/sitemap.xml",), crawl_cfg={"max_age_days": 0})
    assert sum(1 for r in first if r.kind == "article" and r.outcome == "fetched") == 4
    state = [
        {
            "key": r.url,
            "url": r.url,
            "source": "o",
            "kind": r.kind,
            "etag": r.etag,
            "last_modified": r.last_modified,
            "lastmod": "2026-11-20T10:00:00+00:00" if r.kind == "article" else None,
            "http_status": r.http_status,
            "outcome": "new",
            "fail_count": 0,
        }
        for r in first
    ]
    # unchanged site: the sitemap answers 304, no article is downloaded
    second, web2, run2 = crawl(
        site, tmp_path, sitemaps=("/sitemap.xml",), crawl_cfg={"max_age_days": 0}, state=state, run="run2"
    )
    assert [r.outcome for r in second] == ["not_modified"]
    assert not [p for _, p in web2.requests if p.startswith("/news/")]
    # one story changes and the sitemap says so: only it is fetched, conditionally
    changed = "/news/known-story-number-2.html"
    dates[changed] = "2026-11-25T10:00:00Z"
    time.sleep(1.1)  # a new Last-Modified second for the sitemap file
    site.put("/sitemap.xml", _sitemap(dates))
    third, web3, run3 = crawl(
        site, tmp_path, sitemaps=("/sitemap.xml",), crawl_cfg={"max_age_days": 0}, state=state, run="run3"
    )
    assert [p for _, p in web3.requests if p.startswith("/news/")] == [changed]
    assert by_path(third, web3)[changed].outcome == "not_modified"  # its own ETag still matches: no new bytes
    assert read_stats(run3)["o"]["skipped_known"] == 3


def test_old_sitemap_entries_are_not_fetched(site: Site, tmp_path: Path) -> None:
    site.put("/news/fresh-story-about-asylum.html", article("Fresh"))
    site.put("/news/ancient-story-about-asylum.html", article("Ancient"))
    site.put(
        "/sitemap.xml",
        _sitemap(
            {
                "/news/fresh-story-about-asylum.html": time.strftime("%Y-%m-%d"),
                "/news/ancient-story-about-asylum.html": "2015-01-01",
            }
        ),
    )
    records, web, run_dir = crawl(site, tmp_path, sitemaps=("/sitemap.xml",), crawl_cfg={"max_age_days": 30})
    assert [r.url.replace(web.bases["o"], "") for r in records if r.kind == "article"] == [
        "/news/fresh-story-about-asylum.html"
    ]
    assert read_stats(run_dir)["o"]["over_limit"] == 1


def test_gzip_sitemap_and_robots_disallow(site: Site, tmp_path: Path) -> None:
    site.put("/private/members-only-story-here.html", article("Members"))
    site.put("/news/public-story-about-asylum.html", article("Public"))
    xml = _sitemap(
        {"/news/public-story-about-asylum.html": "2026-11-20", "/private/members-only-story-here.html": "2026-11-20"},
        base="",
    )  # relative locs: the server fills no placeholders into gzip bytes
    site.put("/sitemap.xml.gz", gzip.compress(xml.encode()))
    records, web, _ = crawl(site, tmp_path, sitemaps=("/sitemap.xml.gz",), crawl_cfg={"max_age_days": 0})
    pages = by_path(records, web)
    assert pages["/news/public-story-about-asylum.html"].outcome == "fetched"
    assert pages["/private/members-only-story-here.html"].outcome == "robots"
    assert not any(p.startswith("/private/") for _, p in web.requests)


def test_gdelt_source_finds_articles_anywhere_and_the_guard_still_applies(site: Site, tmp_path: Path) -> None:
    """A canned GDELT DOC API answer served locally: its article URLs lie outside any configured domain."""
    site.put("/elsewhere/2026/11/30/cbp-one-appointments-resume-at-nogales.html", article("CBP One"))
    site.put(
        "/api/v2/doc/doc.json",
        json.dumps(
            {
                "articles": [
                    {
                        "url": "{{base:o}}/elsewhere/2026/11/30/cbp-one-appointments-resume-at-nogales.html",
                        "title": "CBP One appointments resume at Nogales",
                        "seendate": "20261130T101500Z",
                        "domain": "example.com",
                        "language": "English",
                        "sourcecountry": "United States",
                    },
                    {
                        "url": "http://127.0.0.9:9/2026/11/30/private-network-story.html",
                        "title": "Private",
                        "seendate": "20261130T101500Z",
                        "domain": "intranet",
                        "language": "Spanish",
                        "sourcecountry": "Mexico",
                    },
                ]
            }
        ),
    )
    site.route("/api/v2/doc/doc", file="api/v2/doc/doc.json", content_type="application/json")
    records, web, _ = crawl(
        site,
        tmp_path,
        source={
            "type": "gdelt",
            "query": '(frontera OR "border patrol") sourcecountry:mexico',
            "gdelt_api": "{base}/api/v2/doc/doc",
            "timespan": "1d",
            "max_records": 50,
        },
    )
    query = next(p for _, p in web.requests if p.startswith("/api/v2/doc/doc"))
    assert "mode=ArtList" in query and "format=json" in query and "maxrecords=50" in query
    pages = by_path(records, web)
    assert pages["/elsewhere/2026/11/30/cbp-one-appointments-resume-at-nogales.html"].outcome == "fetched"
    blocked = next(r for r in records if "127.0.0.9" in r.url)
    assert blocked.outcome == "blocked"


def test_slow_response_hits_the_download_timeout(site: Site, tmp_path: Path) -> None:
    site.put("/news/very-slow-server-story.html", article("Slow"))
    site.route("/news/very-slow-server-story.html", delay=4)
    site.put("/news/fast-server-story-here.html", article("Fast"))
    site.put("/feed.xml", rss("/news/very-slow-server-story.html", "/news/fast-server-story-here.html"))
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",), crawl_cfg={"download_timeout": 1, "retries": 0})
    pages = by_path(records, web)
    assert pages["/news/very-slow-server-story.html"].outcome == "error"
    assert "Timeout" in (pages["/news/very-slow-server-story.html"].reason or "")
    assert pages["/news/fast-server-story-here.html"].outcome == "fetched"  # the rest of the run goes on


def test_pages_per_source_limit(site: Site, tmp_path: Path) -> None:
    paths = [f"/news/one-of-many-stories-{i}.html" for i in range(12)]
    for path in paths:
        site.put(path, article(path))
    site.put("/feed.xml", rss(*paths))
    records, web, run_dir = crawl(site, tmp_path, feeds=("/feed.xml",), crawl_cfg={"max_pages_per_source": 5})
    assert sum(1 for r in records if r.kind == "article") == 5
    assert read_stats(run_dir)["o"]["over_limit"] == 7


@pytest.mark.parametrize(
    ("title", "skipped"),
    [
        ("Border collies steal the show at Las Cruces herding trials", True),
        ("Llegan las mariposas monarca a Michoacán", True),
        ("El Paso startup for cross-border payments raises $40 million", True),
        ("Monarch butterfly migration peaks early this year", True),
        ("Border Patrol adds border collies to its canine teams", False),  # a keep word outside the phrase
        ("Cross-border payments by migrants fall after remittance tax", False),
        ("Asylum seekers wait at the bridge", False),  # no skip phrase: fetch and decide on the text
        ("Storm floods El Paso's west side", False),  # unsure: fetched, scored on its text
    ],
)
def test_title_screen(title: str, skipped: bool) -> None:
    from crawlers.spiders.news import screened_out
    from flows import relevance

    screen = {k: list(v) for k, v in relevance.load_topic().title_screen.items()}
    assert (screened_out(title, screen) is not None) == skipped


def test_robots_disallow_holds_for_every_request_waiting_for_robots_txt(site: Site, tmp_path: Path) -> None:
    """Several requests for a host reach the robots middleware while its robots.txt is still downloading (here:
    last run's failed articles, requested at start; in a shared crawl: a batch a worker takes from the queue).
    Every one of them must be checked against robots.txt, not only the first two."""
    site.route("/robots.txt", delay=0.5)  # all of them arrive before robots.txt is read
    paths = [f"/private/members-story-{i}.html" for i in range(6)]
    for path in paths:
        site.put(path, article("Members only"))
    site.put("feed.xml", rss())
    port = site.port
    state = [
        {
            "key": url_key(f"http://127.0.0.1:{port}{p}"),
            "url": f"http://127.0.0.1:{port}{p}",
            "source": "o",
            "kind": "article",
            "fail_count": 1,
        }
        for p in paths
    ]
    records, web, _ = crawl(site, tmp_path, feeds=("/feed.xml",), state=state)
    pages = by_path(records, web)
    assert {p: pages[p].outcome for p in paths} == {p: "robots" for p in paths}
    assert not [p for _, p in web.requests if p.startswith("/private/")], "a disallowed page was requested"
