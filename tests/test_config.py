"""Config validation: every bad value is rejected with a message naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.config import ConfigError, load_config

REPO = Path(__file__).resolve().parent.parent

GOOD = """
[storage]
db = "x.duckdb"
[[sources]]
key = "a"
name = "A"
language = "en"
feeds = ["https://a.example/feed"]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bw.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_config_resolves_paths_against_the_file(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.storage.db == tmp_path / "x.duckdb"
    assert cfg.crawl.obey_robots is True and cfg.crawl.concurrency_per_host == 2
    assert [s.key for s in cfg.sources] == ["a"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD + "\n[crawl]\nconcurency_per_host = 3\n", "'concurency_per_host' in [crawl]"),
        (GOOD.replace("[storage]", "[storrage]"), "unknown top-level key 'storrage'"),
        (GOOD + '\n[crawl]\ndownload_delay = "fast"\n', "[crawl] download_delay must be a number"),
        (GOOD + "\n[crawl]\nobey_robots = 1\n", "[crawl] obey_robots must be true or false"),
        (GOOD + "\n[crawl]\nmax_pages_per_source = -5\n", "max_pages_per_source must not be negative"),
        (GOOD + "\n[topic]\nmin_relevance = 1.5\n", "min_relevance must be between 0 and 1"),
        (GOOD.replace('language = "en"', 'language = "english"'), "language must be a two-letter code"),
        (GOOD.replace('key = "a"', 'key = "Bad Key"'), "key must match"),
        (GOOD.replace('feeds = ["https://a.example/feed"]', 'feeds = ["ftp://a.example/feed"]'), "not an http(s) URL"),
        (GOOD.replace('feeds = ["https://a.example/feed"]', "feeds = []"), "needs at least one of feeds"),
        (GOOD.replace('name = "A"\n', ""), "is missing 'name'"),
        (GOOD + GOOD.split('[storage]\ndb = "x.duckdb"')[1], "source key 'a' is used more than once"),
        (
            GOOD.replace('language = "en"', 'language = "en"\nsitemap = ["https://a.example/s.xml"]'),
            "unknown key 'sitemap'",
        ),
        ("[storage\n", "not valid TOML"),
        (GOOD + '\n[processing]\ntask_runner = "spark"\n', "[processing] task_runner must be one of default, dask"),
        (GOOD + '\n[processing]\ndask_address = "http://10.0.0.5:8786"\n', "[processing] dask_address must be"),
        (GOOD + '\n[processing]\ndask_address = "tcp://10.0.0.5:port"\n', "[processing] dask_address must be"),
        (GOOD + "\n[processing]\ndask_workers = -1\n", "[processing] dask_workers must not be negative"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert needle in message
    assert str(path.resolve()) in message or str(path) in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_unknown_source_selection(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="unknown source key"):
        cfg.select(["a", "zz"])


def test_default_config_lists_real_outlets_in_both_languages_and_countries() -> None:
    cfg = load_config(REPO / "borderwatch.toml")
    assert len(cfg.sources) >= 12
    assert {s.language for s in cfg.sources} >= {"en", "es"}
    assert {s.country for s in cfg.sources} >= {"US", "MX"}
    for s in cfg.sources:
        for url in (*s.feeds, *s.sitemaps, *s.sections):
            assert url.startswith("https://"), url
    # the default config never points the crawler at this machine
    assert cfg.crawl.allow_private_hosts == ()


def test_processing_settings(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, GOOD)).processing.task_runner == "default"
    for address in ("tcp://10.0.0.5:8786", "10.0.0.5:8786", "tls://scheduler.internal:8786", "tcp://[::1]:8786"):
        text = GOOD + f'\n[processing]\ntask_runner = "dask"\ndask_address = "{address}"\ndask_workers = 3\n'
        p = load_config(write(tmp_path, text)).processing
        assert (p.task_runner, p.dask_address, p.dask_workers) == ("dask", address, 3)
