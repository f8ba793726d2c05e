"""Item pipeline: every fetch item goes to the raw archive (WARC bytes plus the outcome ledger)."""

from __future__ import annotations

from scrapy import Spider
from scrapy.crawler import Crawler

from crawlers.items import FetchItem
from storage.archive import ArchiveWriter


class RawArchivePipeline:
    """Writes each FetchItem to ``RAW_RUN_DIR``; switched on in ITEM_PIPELINES."""

    def __init__(self, run_dir: str, part: str | None = None):
        self.run_dir = run_dir
        self.part = part  # this process's own files when several crawl one run (ARCHIVE_PART)
        self.writer: ArchiveWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RawArchivePipeline:
        return cls(crawler.settings.get("RAW_RUN_DIR"), crawler.settings.get("ARCHIVE_PART"))

    def open_spider(self, spider: Spider | None = None) -> None:
        self.writer = ArchiveWriter(self.run_dir, self.part)

    def close_spider(self, spider: Spider | None = None) -> None:
        if self.writer:
            self.writer.close()

    def process_item(self, item: FetchItem, spider: Spider | None = None) -> FetchItem:
        assert self.writer is not None
        self.writer.write(item.record, body=item.body, headers=item.headers)
        return item
