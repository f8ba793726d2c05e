"""The raw archive: every fetched response as a WARC record, plus a JSON-lines ledger of every URL's outcome.

Layout of one run: ``<raw_dir>/<run_id>/crawl.warc.gz`` (original bytes, URL, status, headers, fetch time;
one gzip member per record, so a killed crawl leaves every finished record readable) and
``<raw_dir>/<run_id>/fetches.jsonl`` (one line per requested URL, written after its WARC record).
A later run can re-clean old pages from these two files alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

log = logging.getLogger("borderwatch.archive")

WARC_NAME = "crawl.warc.gz"
LEDGER_NAME = "fetches.jsonl"


@dataclass
class FetchRecord:
    """One requested URL and what became of it; `warc_offset` points at its bytes when there are any."""

    url: str
    source: str
    kind: str  # feed | sitemap | section | article
    outcome: str  # fetched | not_modified | http_error | error | blocked | robots | skipped
    fetched_at: str  # ISO 8601, UTC
    final_url: str | None = None
    http_status: int | None = None
    reason: str | None = None
    content_type: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    etag: str | None = None  # validators for the next run's conditional request
    last_modified: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)  # what discovery knew: feed title, dates, referrer


def parse_date(value: Any) -> datetime | None:
    """An ISO 8601 / W3C datetime as an aware UTC datetime; None when unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


DISCOVERY_DATE_HINTS = ("lastmod", "news_published", "feed_updated_iso", "feed_published_iso", "gdelt_seen")


def discovery_date(hints: dict[str, Any]) -> datetime | None:
    """The newest change date discovery reported for a URL (sitemap lastmod, feed dates, GDELT's seen date):
    what decides whether a known article is fetched again."""
    found = [d for d in (parse_date(hints.get(k)) for k in DISCOVERY_DATE_HINTS) if d is not None]
    return max(found) if found else None


class ArchiveWriter:
    """Appends responses to the run's WARC file and outcomes to its ledger, flushing after each."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._warc: IO[bytes] = open(self.run_dir / WARC_NAME, "ab")
        self._writer = WARCWriter(self._warc, gzip=True)
        self._ledger: IO[str] = open(self.run_dir / LEDGER_NAME, "a", encoding="utf-8")

    def write(
        self, record: FetchRecord, body: bytes | None = None, headers: list[tuple[str, str]] | None = None
    ) -> None:
        if body is not None and record.final_url:
            record.warc_file = WARC_NAME
            record.warc_offset = self._warc.tell()
            status_line = f"{record.http_status or 200} {'OK' if (record.http_status or 200) < 400 else 'ERROR'}"
            http_headers = StatusAndHeaders(status_line, headers or [], protocol="HTTP/1.1")
            warc_record = self._writer.create_warc_record(
                record.final_url,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": record.fetched_at},
            )
            self._writer.write_record(warc_record)
            self._warc.flush()
        self._ledger.write(json.dumps(asdict(record), ensure_ascii=False) + "\n")
        self._ledger.flush()

    def close(self) -> None:
        self._warc.close()
        self._ledger.close()


def read_ledger(run_dir: str | Path) -> list[FetchRecord]:
    """The run's fetch records; a line cut short by a killed crawl is skipped with a warning."""
    path = Path(run_dir) / LEDGER_NAME
    records: list[FetchRecord] = []
    if not path.exists():
        return records
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                records.append(FetchRecord(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                log.warning("%s:%d: unreadable ledger line skipped (%s)", path, lineno, exc)
    return records


@dataclass
class ArchivedResponse:
    url: str
    http_status: int
    headers: dict[str, str]
    body: bytes


def iter_warc(path: str | Path, offsets: set[int] | None = None) -> Iterator[tuple[int, ArchivedResponse]]:
    """Stream ``(offset, response)`` from the response records of any WARC file (gzip or not),
    optionally only those at `offsets`. A damaged record ends the stream with a warning, not an error."""
    with open(path, "rb") as fh:
        iterator = ArchiveIterator(fh)
        try:
            for rec in iterator:
                if rec.rec_type != "response":
                    continue
                body = rec.content_stream().read()  # before get_record_offset(), which consumes the record
                offset = iterator.get_record_offset()
                if offsets is not None and offset not in offsets:
                    continue
                http = rec.http_headers
                yield (
                    offset,
                    ArchivedResponse(
                        url=rec.rec_headers.get_header("WARC-Target-URI"),
                        http_status=int(http.get_statuscode() or 0) if http else 0,
                        headers={k.lower(): v for k, v in http.headers} if http else {},
                        body=body,
                    ),
                )
        except Exception as exc:  # a record cut short by a killed crawl ends the stream, not the run
            log.warning("%s: stopped reading at a damaged record (%s)", path, exc)


def read_responses(run_dir: str | Path, offsets: set[int] | None = None) -> Iterator[tuple[int, ArchivedResponse]]:
    """Stream ``(offset, response)`` from a run's WARC file, optionally only those at `offsets`."""
    path = Path(run_dir) / WARC_NAME
    if path.exists():
        yield from iter_warc(path, offsets)


def read_responses_at(run_dir: str | Path, offsets: list[int]) -> Iterator[tuple[int, ArchivedResponse]]:
    """``(offset, response)`` of the response records at `offsets` of a run's WARC file, each read by seeking to it
    (every record is its own gzip member): a batch of a few pages does not decompress the whole file."""
    path = Path(run_dir) / WARC_NAME
    if not path.exists():
        return
    with open(path, "rb") as fh:
        for offset in sorted(set(offsets)):
            try:
                fh.seek(offset)
                rec = next(iter(ArchiveIterator(fh)), None)
                if rec is None or rec.rec_type != "response":
                    continue
                http = rec.http_headers
                yield (
                    offset,
                    ArchivedResponse(
                        url=rec.rec_headers.get_header("WARC-Target-URI"),
                        http_status=int(http.get_statuscode() or 0) if http else 0,
                        headers={k.lower(): v for k, v in http.headers} if http else {},
                        body=rec.content_stream().read(),
                    ),
                )
            except Exception as exc:  # a damaged record is a missing page, as when streaming the whole file
                log.warning("%s: no readable record at offset %d (%s)", path, offset, exc)
