"""`borderwatch extract`: the pipeline's cleaner over saved pages (.html, .html.gz, WARC files)."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flows.clean import HTML_TYPES, Cleaned, clean_html
from storage.archive import iter_warc

log = logging.getLogger("borderwatch.extract")

WARC_SUFFIXES = (".warc", ".warc.gz")


def _record(page_id: str, url: str | None, cleaned: Cleaned) -> dict[str, Any]:
    record: dict[str, Any] = {"id": page_id, "url": cleaned.canonical_url or url}
    record.update({k: v for k, v in asdict(cleaned).items() if k != "canonical_url"})
    return record


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".html.gz", ".htm.gz", ".warc.gz", ".html", ".htm", ".warc", ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def extract_records(paths: tuple[Path, ...] | list[Path], url: str | None = None) -> Iterator[dict[str, Any]]:
    """One record per page; a file that cannot be read is logged and skipped."""
    for path in paths:
        try:
            if path.name.endswith(WARC_SUFFIXES):
                for offset, resp in iter_warc(path):
                    ctype = resp.headers.get("content-type", "")
                    if resp.http_status != 200 or (ctype and ctype.split(";")[0].strip().lower() not in HTML_TYPES):
                        continue
                    yield _record(f"{_stem(path)}#{offset}", resp.url, clean_html(resp.body, resp.url, ctype))
                continue
            body = path.read_bytes()
            if path.name.endswith(".gz"):
                body = gzip.decompress(body)
            yield _record(_stem(path), url, clean_html(body, url or "", "text/html"))
        except (OSError, EOFError, ValueError) as exc:
            log.warning("%s: cannot read (%s)", path, exc)
