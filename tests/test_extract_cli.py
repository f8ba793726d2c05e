"""`borderwatch extract`: the pipeline's cleaner over saved .html, .html.gz and WARC files."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from click.testing import CliRunner

from flows.cli import cli
from flows.demo_site import SAMPLE_SITE
from storage.archive import ArchiveWriter, FetchRecord

PAGE = SAMPLE_SITE / "outlets/frontera-times/2026/11/12/asylum-seekers-wait-longer-at-paso-del-norte/index.html"
TITLE = "Asylum seekers wait longer at Paso del Norte as new processing limits take effect"


def _html() -> bytes:
    return re.sub(rb"\{\{base:([a-z-]+)\}\}", rb"https://\1.example", PAGE.read_bytes())


def test_html_and_gzip_files(tmp_path: Path) -> None:
    (tmp_path / "story.html").write_bytes(_html())
    (tmp_path / "story2.html.gz").write_bytes(gzip.compress(_html()))
    result = CliRunner().invoke(cli, ["extract", str(tmp_path / "story.html"), str(tmp_path / "story2.html.gz")])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in records] == ["story", "story2"]
    for r in records:
        assert r["title"] == TITLE and r["is_article"] and r["language"] == "en"
        assert r["authors"] == ["Marisol Quintana", "Derek Hollis"]
        assert r["published_at"] == "2026-11-12T15:30:00+00:00"
        assert "Dozens of families lined the sidewalk" in r["text"]
        assert "Learn the benefits of becoming a Member" not in r["text"]


def test_warc_file_and_json_format(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path)
    url = "https://frontera-times.example/2026/11/12/asylum-seekers-wait-longer-at-paso-del-norte/"
    common = {"source": "s", "kind": "article", "outcome": "fetched", "fetched_at": "2026-11-30T10:00:00+00:00"}
    writer.write(
        FetchRecord(url=url, final_url=url, http_status=200, **common),
        body=_html(),
        headers=[("Content-Type", "text/html; charset=utf-8")],
    )
    writer.write(
        FetchRecord(url=url + "x.pdf", final_url=url + "x.pdf", http_status=200, **common),
        body=b"%PDF-1.4",
        headers=[("Content-Type", "application/pdf")],
    )
    writer.close()
    result = CliRunner().invoke(cli, ["extract", "--format", "json", str(tmp_path / "crawl.warc.gz")])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)  # the PDF is not an HTML page: no record
    assert record["id"].startswith("crawl#") and record["url"] == url.rstrip("/")
    assert record["title"] == TITLE


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "bad.html.gz").write_bytes(b"not gzip at all")
    (tmp_path / "good.html").write_bytes(_html())
    result = CliRunner().invoke(cli, ["extract", str(tmp_path / "bad.html.gz"), str(tmp_path / "good.html")])
    assert result.exit_code == 0
    assert [json.loads(line)["id"] for line in result.output.splitlines() if line.startswith("{")] == ["good"]
