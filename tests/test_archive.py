"""The raw archive: records written by the crawler are read back by (WARC file, offset), whichever reader asks."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.archive import ArchiveWriter, FetchRecord, read_ledger, read_responses, read_run_responses


def _write_run(run_dir: Path, parts: dict[str | None, int]) -> list[FetchRecord]:
    for part, count in parts.items():
        writer = ArchiveWriter(run_dir, part)
        for i in range(count):
            url = f"https://n.example/{part or 'main'}/{i}"
            rec = FetchRecord(
                url, "n", "article", "fetched", "2026-12-01T00:00:00+00:00", final_url=url, http_status=200
            )
            writer.write(
                rec, f"<html><body><p>page {part} {i}</p></body></html>".encode(), [("Content-Type", "text/html")]
            )
        writer.close()
    return read_ledger(run_dir)


def test_wanted_records_are_read_from_every_part_in_order(tmp_path: Path) -> None:
    records = _write_run(tmp_path, {None: 3, "w1": 2, "w2": 2})
    wanted = [(r.warc_file, r.warc_offset) for r in records]
    got = list(read_run_responses(tmp_path, reversed(wanted)))  # any order in, file and offset order out
    assert [where for where, _ in got] == sorted(wanted)
    by_url = {resp.url: resp for _, resp in got}
    assert by_url["https://n.example/w1/1"].body == b"<html><body><p>page w1 1</p></body></html>"
    assert by_url["https://n.example/w1/1"].headers["content-type"] == "text/html"
    assert by_url["https://n.example/w1/1"].http_status == 200
    # a few of them, and the whole-file reader agrees with the seeking one
    some = [wanted[1], wanted[5]]
    assert [where for where, _ in read_run_responses(tmp_path, some)] == sorted(some)
    streamed = dict(read_responses(tmp_path))
    assert {off: r.body for off, r in streamed.items()} == {
        off: r.body for (name, off), r in got if name == records[0].warc_file
    }


def test_a_damaged_record_costs_that_page_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    records = _write_run(tmp_path, {None: 4})
    wanted = [(r.warc_file, r.warc_offset) for r in records]
    path = tmp_path / records[0].warc_file
    data = bytearray(path.read_bytes())
    start = records[1].warc_offset
    data[start + 20 : start + 60] = b"\xff" * 40  # inside the second record's gzip member
    path.write_bytes(bytes(data))
    got = [where for where, _ in read_run_responses(tmp_path, wanted)]
    assert got == [wanted[0], wanted[2], wanted[3]]
    assert "no readable record at offset" in caplog.text
    # a missing file or a name outside the run is no page, and never a path outside the run
    assert list(read_run_responses(tmp_path, [("crawl-w9.warc.gz", 0)])) == []
    with pytest.raises(ValueError):
        list(read_run_responses(tmp_path, [("../other/crawl.warc.gz", 0)]))
