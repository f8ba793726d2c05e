"""The raw archive: every fetched response as a WARC record, plus a JSON-lines ledger of every URL's outcome.

Layout of one run: ``<raw_dir>/<run_id>/crawl.warc.gz`` (original bytes, URL, status, headers, fetch time;
one gzip member per record, so a killed crawl leaves every finished record readable) and
``<raw_dir>/<run_id>/fetches.jsonl`` (one line per requested URL, written after its WARC record).
A later run can re-clean old pages from these two files alone.

A crawl shared by several crawler processes writes one pair per process ("part"): ``crawl-<part>.warc.gz``
and ``fetches-<part>.jsonl``, so no two processes ever append to the same file. The readers below read
every part of a run; a ledger record names its WARC file.
"""

from __future__ import annotations

import heapq
import json
import logging
import re
from collections.abc import Iterable, Iterator
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
PART_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def part_names(part: str | None = None) -> tuple[str, str]:
    """The WARC and ledger file names of one crawler process's part of a run (the classic pair when None)."""
    if part is None:
        return WARC_NAME, LEDGER_NAME
    if not PART_RE.match(part):
        raise ValueError(f"archive part name must match {PART_RE.pattern}, got {part!r}")
    return f"crawl-{part}.warc.gz", f"fetches-{part}.jsonl"


def ledger_files(run_dir: str | Path) -> list[Path]:
    """Every ledger of a run: the single-process one first, then the parts by name."""
    run_dir = Path(run_dir)
    single = run_dir / LEDGER_NAME
    return ([single] if single.exists() else []) + sorted(run_dir.glob("fetches-*.jsonl"))


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
    """Appends responses to the run's WARC file and outcomes to its ledger, flushing after each.
    `part` names this process's own pair of files when several processes crawl one run."""

    def __init__(self, run_dir: str | Path, part: str | None = None):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.warc_name, ledger_name = part_names(part)
        self._warc: IO[bytes] = open(self.run_dir / self.warc_name, "ab")
        self._writer = WARCWriter(self._warc, gzip=True)
        self._ledger: IO[str] = open(self.run_dir / ledger_name, "a", encoding="utf-8")

    def write(
        self, record: FetchRecord, body: bytes | None = None, headers: list[tuple[str, str]] | None = None
    ) -> None:
        if body is not None and record.final_url:
            record.warc_file = self.warc_name
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


def read_ledger_file(path: str | Path) -> list[FetchRecord]:
    """The records of one ledger file; a line cut short by a killed crawl is skipped with a warning."""
    records: list[FetchRecord] = []
    if not Path(path).exists():
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


def read_ledger(run_dir: str | Path) -> list[FetchRecord]:
    """The run's fetch records; the parts of a shared crawl are merged in the order of their fetch times
    (each part is in that order already), so later stages see one crawl, as from a single process."""
    parts = [read_ledger_file(path) for path in ledger_files(run_dir)]
    if len(parts) == 1:
        return parts[0]
    return list(heapq.merge(*parts, key=lambda r: r.fetched_at))


@dataclass
class ArchivedResponse:
    url: str
    http_status: int
    headers: dict[str, str]
    body: bytes


def _response(rec: Any) -> ArchivedResponse:
    http = rec.http_headers
    return ArchivedResponse(
        url=rec.rec_headers.get_header("WARC-Target-URI"),
        http_status=int(http.get_statuscode() or 0) if http else 0,
        headers={k.lower(): v for k, v in http.headers} if http else {},
        body=rec.content_stream().read(),
    )


def iter_warc(path: str | Path, offsets: set[int] | None = None) -> Iterator[tuple[int, ArchivedResponse]]:
    """Stream ``(offset, response)`` from the response records of any WARC file (gzip or not),
    optionally only those at `offsets`. A damaged record ends the stream with a warning, not an error."""
    with open(path, "rb") as fh:
        iterator = ArchiveIterator(fh)
        try:
            for rec in iterator:
                if rec.rec_type != "response":
                    continue
                resp = _response(rec)  # reads the body before get_record_offset(), which consumes the record
                offset = iterator.get_record_offset()
                if offsets is None or offset in offsets:
                    yield offset, resp
        except Exception as exc:  # a record cut short by a killed crawl ends the stream, not the run
            log.warning("%s: stopped reading at a damaged record (%s)", path, exc)


def read_responses(
    run_dir: str | Path, offsets: set[int] | None = None, warc_file: str = WARC_NAME
) -> Iterator[tuple[int, ArchivedResponse]]:
    """Stream ``(offset, response)`` from one WARC file of a run (the single-process one unless `warc_file`
    names a part), optionally only those at `offsets`."""
    path = Path(run_dir) / _run_file(warc_file)
    if path.exists():
        yield from iter_warc(path, offsets)


def read_run_responses(
    run_dir: str | Path, wanted: Iterable[tuple[str, int]]
) -> Iterator[tuple[tuple[str, int], ArchivedResponse]]:
    """``((warc_file, offset), response)`` of the wanted response records of a run, whichever of its WARC files
    holds them, in file and offset order. Each is read by seeking to it (the run's writer makes every record its
    own gzip member): as fast as streaming a whole file, a batch of a few pages does not decompress a whole file,
    and a damaged record costs that page alone, not the records after it."""
    by_file: dict[str, list[int]] = {}
    for name, offset in set(wanted):
        by_file.setdefault(_run_file(name), []).append(offset)
    for name in sorted(by_file):
        path = Path(run_dir) / name
        if not path.exists():
            continue
        with open(path, "rb") as fh:
            for offset in sorted(by_file[name]):
                try:
                    fh.seek(offset)
                    rec = next(iter(ArchiveIterator(fh)), None)
                    if rec is not None and rec.rec_type == "response":
                        yield (name, offset), _response(rec)
                except Exception as exc:  # a damaged record is a missing page
                    log.warning("%s: no readable record at offset %d (%s)", path, offset, exc)


def _run_file(name: str) -> str:
    if Path(name).name != name:
        raise ValueError(f"not a WARC file name of a run: {name!r}")
    return name
