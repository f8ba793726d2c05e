"""Shared fixtures: the sample news web served on 127.0.0.1, configs pointing at it, and Prefect's
offline settings (one ephemeral Prefect home for the whole session, so its database is set up once)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
