"""The one item the spider yields: a fetch (or failed fetch) destined for the raw archive."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.archive import FetchRecord


@dataclass
class FetchItem:
    record: FetchRecord
    body: bytes | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
