"""Reading and validating borderwatch.toml. Read once, at the edge, and passed down as plain dataclasses.

Unknown keys and bad values are rejected with a message naming the file and the key, so a typo in a
scheduled job's config fails loudly instead of silently using a default.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_CONFIG = Path("borderwatch.toml")
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class StorageConfig:
    db: Path = Path("data/borderwatch.duckdb")
    raw_dir: Path = Path("data/raw")


@dataclass(frozen=True)
class CrawlConfig:
    obey_robots: bool = True
    concurrency_per_host: int = 2
    download_delay: float = 1.0
    max_pages_per_source: int = 500
    max_section_pages: int = 3
    max_age_days: float = 14.0
    download_timeout: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    retries: int = 2
    retry_backoff: float = 1.0
    max_retry_after: float = 300.0
    max_crawl_delay: float = 30.0
    user_agent: str = ""
    allow_private_hosts: tuple[str, ...] = ()
    frontier: str = ""  # a Redis URL: crawler processes share the run's queue and seen-URL set there
    processes: int = 1  # crawler processes this machine starts per run (more than 1 needs a frontier)


@dataclass(frozen=True)
class CleanConfig:
    min_words: int = 80
    workers: int = 0  # 0 = one per core
    boilerplate_min_articles: int = 4


@dataclass(frozen=True)
class TopicConfig:
    min_relevance: float = 0.5
    file: Path | None = None  # None = the bundled border-policy topic
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertsConfig:
    webhook_url: str = ""  # "" = no alerts
    on_failure: bool = True
    zero_article_runs: int = 24  # a source with no new or updated article in this many finished runs in a row
    max_error_rate: float = 0.5  # a source whose error pages / fetched pages in a run exceed this
    min_pages_for_error_rate: int = 5
    timeout: float = 10.0
    retries: int = 3


TASK_RUNNERS = ("default", "dask")
DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")  # what a Dask scheduler listens on
_HOST_PORT = re.compile(r"(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+)(:\d{1,5})?")


@dataclass(frozen=True)
class ProcessingConfig:
    task_runner: str = "default"  # default = this process (cleaning in a process pool); dask = a Dask cluster
    dask_address: str = ""  # "" = a LocalCluster on 127.0.0.1 for the run; else a running scheduler's address
    dask_workers: int = 0  # worker processes of that LocalCluster; 0 = one per core


SOURCE_TYPES = ("news", "gdelt")


@dataclass(frozen=True)
class Source:
    key: str
    name: str
    language: str
    type: str = "news"
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    robots_sitemaps: bool = True
    domains: tuple[str, ...] = ()
    country: str = ""
    article_pattern: str = ""
    query: str = ""
    gdelt_api: str = ""
    timespan: str = "1d"
    max_records: int = 250


@dataclass(frozen=True)
class Config:
    path: Path
    storage: StorageConfig = field(default_factory=StorageConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    topic: TopicConfig = field(default_factory=TopicConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    processing: ProcessingConfig = field(default_factory=ProcessingConfig)
    sources: tuple[Source, ...] = ()

    def select(self, keys: list[str] | None) -> tuple[Source, ...]:
        """The sources named by `keys` (all when None); an unknown key is an error."""
        if not keys:
            return self.sources
        known = {s.key: s for s in self.sources}
        missing = [k for k in keys if k not in known]
        if missing:
            raise ConfigError(f"{self.path}: unknown source key(s) {', '.join(missing)}; known: {', '.join(known)}")
        return tuple(known[k] for k in keys)

    def crawl_plan_dict(self) -> dict[str, Any]:
        crawl = asdict(self.crawl)
        crawl["allow_private_hosts"] = list(self.crawl.allow_private_hosts)
        return crawl


def _coerce(path: Path, where: str, name: str, kind: Any, value: Any) -> Any:
    """Check one value against its field type; the error names the file and `where.name`."""
    label = f"{path}: [{where}] {name}" if where else f"{path}: {name}"
    if kind in (int, "int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{label} must be an integer, got {value!r}")
        if value < 0:
            raise ConfigError(f"{label} must not be negative, got {value!r}")
        return value
    if kind in (float, "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{label} must be a number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{label} must not be negative, got {value!r}")
        return float(value)
    if kind in (bool, "bool"):
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false, got {value!r}")
        return value
    if kind in (str, "str"):
        if not isinstance(value, str):
            raise ConfigError(f"{label} must be a string, got {value!r}")
        return value
    if kind in ("tuple[str, ...]",):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{label} must be a list of strings, got {value!r}")
        return tuple(value)
    if kind in ("Path", "Path | None"):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{label} must be a path string, got {value!r}")
        p = Path(value).expanduser()
        return p if p.is_absolute() else (path.parent / p)
    raise AssertionError(f"unhandled config type {kind!r}")


def _section(path: Path, where: str, cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [{where}] must be a table")
    allowed = {f.name: f.type for f in fields(cls)}
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r} in [{where}]; allowed: {', '.join(sorted(allowed))}")
    return cls(**{k: _coerce(path, where, k, allowed[k], v) for k, v in data.items()})


def _check_url(path: Path, where: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{path}: {where}: {url!r} is not an http(s) URL")


def _check_scale_out(path: Path, crawl: CrawlConfig) -> None:
    if crawl.frontier and urlsplit(crawl.frontier).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"{path}: [crawl] frontier must be a Redis URL (redis://host:6379/0, rediss://, unix://), "
            f"got {crawl.frontier!r}"
        )
    if crawl.processes < 1:
        raise ConfigError(f"{path}: [crawl] processes must be at least 1")
    if crawl.processes > 1 and not crawl.frontier:
        raise ConfigError(f"{path}: [crawl] processes = {crawl.processes} needs a shared frontier ([crawl] frontier)")


def _source(path: Path, index: int, data: Any) -> Source:
    where = f"sources #{index + 1}"
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [[sources]] entry {index + 1} must be a table")
    for required in ("key", "name", "language"):
        if required not in data:
            raise ConfigError(f"{path}: [{where}] is missing {required!r}")
    src: Source = _section(path, where, Source, data)
    where = f"sources {src.key!r}"
    if not _KEY_RE.match(src.key):
        raise ConfigError(f"{path}: [{where}] key must match {_KEY_RE.pattern}")
    if not re.fullmatch(r"[a-z]{2}", src.language):
        raise ConfigError(
            f"{path}: [{where}] language must be a two-letter code like 'en' or 'es', got {src.language!r}"
        )
    if src.type not in SOURCE_TYPES:
        raise ConfigError(f"{path}: [{where}] type must be one of {', '.join(SOURCE_TYPES)}, got {src.type!r}")
    if src.type == "gdelt":
        if not src.query.strip():
            raise ConfigError(f"{path}: [{where}] a gdelt source needs a query")
        if not 1 <= src.max_records <= 250:
            raise ConfigError(f"{path}: [{where}] max_records must be between 1 and 250 (the GDELT API's limit)")
        if not re.fullmatch(r"\d+(min|h|d|w|m)", src.timespan):
            raise ConfigError(f"{path}: [{where}] timespan must look like 15min, 24h, 1d, 2w or 3m")
        if src.gdelt_api:
            _check_url(path, f"[{where}] gdelt_api", src.gdelt_api)
    elif not (src.feeds or src.sitemaps or src.sections):
        raise ConfigError(f"{path}: [{where}] needs at least one of feeds, sitemaps, sections")
    elif src.query:
        raise ConfigError(f'{path}: [{where}] query is for gdelt sources (type = "gdelt")')
    for kind in ("feeds", "sitemaps", "sections"):
        for url in getattr(src, kind):
            _check_url(path, f"[{where}] {kind}", url)
    if src.article_pattern:
        try:
            re.compile(src.article_pattern)
        except re.error as exc:
            raise ConfigError(f"{path}: [{where}] article_pattern is not a valid regex: {exc}") from exc
    return src


def _check_processing(path: Path, p: ProcessingConfig) -> None:
    if p.task_runner not in TASK_RUNNERS:
        raise ConfigError(
            f"{path}: [processing] task_runner must be one of {', '.join(TASK_RUNNERS)}, got {p.task_runner!r}"
        )
    if not p.dask_address:
        return
    scheme, sep, rest = p.dask_address.partition("://")
    if not sep:  # Dask reads a bare host:port as TCP
        scheme, rest = "tcp", p.dask_address
    if scheme not in DASK_SCHEMES or not _HOST_PORT.fullmatch(rest):
        raise ConfigError(
            f"{path}: [processing] dask_address must be a scheduler address like tcp://10.0.0.5:8786, "
            f"got {p.dask_address!r}"
        )


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """Validate an already-parsed TOML document."""
    sections = {
        "storage": StorageConfig,
        "crawl": CrawlConfig,
        "clean": CleanConfig,
        "topic": TopicConfig,
        "alerts": AlertsConfig,
        "processing": ProcessingConfig,
    }
    unknown = sorted(set(data) - set(sections) - {"sources"})
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key {unknown[0]!r}; allowed: {', '.join([*sections, 'sources'])}")
    parts = {name: _section(path, name, cls, data.get(name, {})) for name, cls in sections.items()}
    if not 0.0 <= parts["topic"].min_relevance <= 1.0:
        raise ConfigError(f"{path}: [topic] min_relevance must be between 0 and 1")
    if parts["crawl"].concurrency_per_host < 1:
        raise ConfigError(f"{path}: [crawl] concurrency_per_host must be at least 1")
    alerts = parts["alerts"]
    if alerts.webhook_url:
        _check_url(path, "[alerts] webhook_url", alerts.webhook_url)
    if not 0.0 <= alerts.max_error_rate <= 1.0:
        raise ConfigError(f"{path}: [alerts] max_error_rate must be between 0 and 1")
    if alerts.zero_article_runs < 1:
        raise ConfigError(f"{path}: [alerts] zero_article_runs must be at least 1")
    _check_scale_out(path, parts["crawl"])
    _check_processing(path, parts["processing"])
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{path}: sources must be an array of tables ([[sources]])")
    sources = tuple(_source(path, i, s) for i, s in enumerate(raw_sources))
    keys = [s.key for s in sources]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ConfigError(f"{path}: source key {dupes[0]!r} is used more than once")
    return Config(path=path, sources=sources, **parts)


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a config file (default: ./borderwatch.toml). Relative paths in it are
    resolved against the file's own folder, so a scheduled job can run from any directory."""
    path = Path(path) if path else DEFAULT_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(data, path.resolve())
