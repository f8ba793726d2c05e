"""Shared fixtures: the sample news web served on 127.0.0.1, configs pointing at it, and Prefect's
offline settings (one ephemeral Prefect home for the whole session, so its database is set up once)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    import flows  # noqa: F401 - sets the offline Prefect defaults before anything imports prefect

    yield home


@pytest.fixture(scope="session")
def sample_web():
    from flows.demo_site import serve_sample_site

    with serve_sample_site() as web:
        yield web


@pytest.fixture(scope="session")
def expected(sample_web) -> dict:
    return sample_web.expected()


@pytest.fixture(scope="session")
def two_runs(sample_web, tmp_path_factory):
    """Two identical batch runs over the sample web into one database, shared by every test that only reads
    it (one pair of pipeline runs per session, not one per module)."""
    data = tmp_path_factory.mktemp("e2e")
    config = write_sample_config(sample_web, data)
    before = len(sample_web.requests)
    first = run_cli("run", "--config", str(config))
    requests_first = sample_web.requests[before:]
    before = len(sample_web.requests)
    second = run_cli("run", "--config", str(config))
    requests_second = sample_web.requests[before:]
    return {
        "data": data,
        "config": config,
        "db": data / "demo.duckdb",
        "first": first,
        "second": second,
        "requests_first": requests_first,
        "requests_second": requests_second,
    }


def write_sample_config(web, data_dir: Path, extra: str = "") -> Path:
    from flows.demo_site import sample_config_toml

    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "borderwatch.toml"
    text = sample_config_toml(web, data_dir)
    path.write_text(text.replace("[topic]", extra + "\n[topic]") if extra else text, encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """The real `borderwatch` entry point in a subprocess, as a user or a scheduler runs it."""
    exe = Path(sys.executable).parent / "borderwatch"
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, cwd=cwd or REPO, timeout=timeout, env=dict(os.environ)
    )


# -- small sites built by a test, served by the sample-site server ---------------------------------------

ARTICLE = """<html><head><title>{title}</title><meta property="og:type" content="article"></head>
<body><article><h1>{title}</h1><p>{body}</p></article></body></html>"""


def article(title: str) -> str:
    return ARTICLE.format(title=title, body="Asylum seekers waited at the port of entry. " * 40)


def rss(*links: str) -> str:
    items = "".join(f"<item><title>{link}</title><link>{link}</link></item>" for link in links)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Site:
    """A one-outlet site (key "o") in a folder, served while the test runs."""

    def __init__(self, root: Path):
        self.root = root
        self.dir = root / "outlets" / "o"
        self.dir.mkdir(parents=True)
        self.routes: dict[str, dict[str, Any]] = {}
        self.port = free_port()  # every crawl of a test sees the site at one address, as a real outlet is
        self.put("robots.txt", "User-agent: *\nDisallow: /private/\n")

    def put(self, path: str, text: str | bytes) -> None:
        file = self.dir / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        (file.write_bytes if isinstance(text, bytes) else file.write_text)(text)

    def route(self, path: str, **behaviour: Any) -> None:
        self.routes[path] = behaviour
        (self.dir / "_routes.json").write_text(json.dumps(self.routes))
