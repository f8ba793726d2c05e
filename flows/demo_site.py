"""Serving the bundled sample news web (`sample_site/`) on 127.0.0.1, one port per outlet.

Used by `borderwatch demo` and by the tests. Each outlet's folder is a document root; `{{base:<key>}}` in
text files becomes that outlet's base URL, and `_routes.json` adds behaviours a static server lacks
(error statuses, redirects, other content types, slow responses).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import mimetypes
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

SAMPLE_SITE = Path(__file__).resolve().parent.parent / "sample_site"
DEMO_FIRST_PORT = 47801  # above Prefect's 8000-8999 and below Linux's ephemeral range
_PLACEHOLDER = re.compile(r"\{\{base:([a-z0-9_-]+)\}\}")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".txt": "text/plain; charset=utf-8",
    ".gz": "application/gzip",
    ".json": "application/json",
    ".pdf": "application/pdf",
}
log = logging.getLogger("borderwatch.demo_site")


@dataclass
class SampleWeb:
    """The running servers: outlet key → base URL, plus a request log for tests."""

    bases: dict[str, str]
    requests: list[tuple[str, str]] = field(default_factory=list)  # (outlet, path)
    times: list[float] = field(default_factory=list)  # monotonic arrival time of each request above
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, outlet: str, path: str) -> int:
        """Log a request; returns how many times this path has been requested (for fail-N-times routes)."""
        with self._lock:
            self.requests.append((outlet, path))
            self.times.append(time.monotonic())
            return sum(1 for o, p in self.requests if o == outlet and p.split("?")[0] == path.split("?")[0])

    def expected(self) -> dict[str, Any]:
        return json.loads((SAMPLE_SITE / "expected.json").read_text(encoding="utf-8"))


def _handler(web: SampleWeb, key: str, root: Path) -> type[BaseHTTPRequestHandler]:
    routes_file = root / "_routes.json"
    routes: dict[str, dict[str, Any]] = json.loads(routes_file.read_text()) if routes_file.exists() else {}

    class Handler(BaseHTTPRequestHandler):
        server_version = "sample-site/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            log.debug("%s %s", key, format % args)

        def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _file(self, rel: str) -> tuple[bytes, str, float] | None:
            path = (root / rel.lstrip("/")).resolve()
            if path.is_dir():
                path = path / "index.html"
            if root.resolve() not in path.parents or not path.is_file():
                return None
            data = path.read_bytes()
            ctype = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if ctype.startswith(
                ("text/", "application/xml", "application/rss", "application/atom", "application/json")
            ):
                data = _PLACEHOLDER.sub(
                    lambda m: web.bases.get(m.group(1), m.group(0)), data.decode("utf-8", "surrogateescape")
                ).encode("utf-8", "surrogateescape")
            return data, ctype, path.stat().st_mtime

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            path = unquote(urlsplit(self.path).path)
            hits = web.record(key, self.path)
            route = routes.get(path, {})
            if "delay" in route:
                time.sleep(float(route["delay"]))
            if route.get("reset"):
                self.close_connection = True  # hang up without a response: a connection reset
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if hits <= int(route.get("fail_times", 0)):
                status = int(route.get("fail_status", 503))
                extra = {"Retry-After": str(route["retry_after"])} if "retry_after" in route else {}
                self._send(status, b"<html><body>try later</body></html>", "text/html", extra)
                return
            if "redirect" in route:
                target = _PLACEHOLDER.sub(lambda m: web.bases.get(m.group(1), m.group(0)), route["redirect"])
                self._send(int(route.get("status", 301)), b"", "text/plain", {"Location": target})
                return
            if route.get("endless"):
                self._endless(route.get("content_type", "text/html"))
                return
            if "gzip_bomb_mb" in route:
                bomb = gzip.compress(b"<p>" + b"\0" * (int(route["gzip_bomb_mb"]) << 20), compresslevel=9)
                self._send(200, bomb, "text/html", {"Content-Encoding": "gzip"})
                return
            if "file" in route:
                found = self._file(route["file"])
            elif route.get("status", 200) >= 400:
                status = int(route["status"])
                self._send(
                    status, f"<html><body><h1>Error {status}</h1></body></html>".encode(), "text/html; charset=utf-8"
                )
                return
            else:
                found = self._file(path)
            if found is None:
                self._send(404, b"<html><body><h1>Not found</h1></body></html>", "text/html; charset=utf-8")
                return
            body, ctype, mtime = found
            headers = {
                "ETag": '"' + hashlib.sha1(body).hexdigest()[:16] + '"',
                "Last-Modified": formatdate(mtime, usegmt=True),
                **route.get("headers", {}),
            }
            if self._not_modified(headers["ETag"], mtime):
                self._send(304, b"", route.get("content_type", ctype), headers)
                return
            self._send(int(route.get("status", 200)), body, route.get("content_type", ctype), headers)

        def _not_modified(self, etag: str, mtime: float) -> bool:
            """Conditional GET, as a well-behaved news server does it."""
            if self.headers.get("If-None-Match"):
                return etag in [t.strip() for t in self.headers["If-None-Match"].split(",")]
            since = self.headers.get("If-Modified-Since")
            if since:
                try:
                    return int(mtime) <= parsedate_to_datetime(since).timestamp()
                except (TypeError, ValueError):
                    return False
            return False

        def _endless(self, ctype: str) -> None:
            """A response that never ends (bounded here at 256 MiB or 60 s so a broken client can't hang us)."""
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.end_headers()
            chunk, sent, deadline = b"<p>more</p>" * 6000, 0, time.monotonic() + 60
            try:
                while sent < 256 << 20 and time.monotonic() < deadline:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except OSError:
                pass  # the client hung up: what a size limit does
            self.close_connection = True

        do_HEAD = do_GET

    return Handler


@contextmanager
def serve_sample_site(root: Path = SAMPLE_SITE, host: str = "127.0.0.1", first_port: int = 0) -> Iterator[SampleWeb]:
    """Serve every outlet under `root/outlets` on its own port of `host` (loopback only).

    Ports are ephemeral by default. The demo asks for fixed ports from `first_port` on, so its URLs, and
    with them the article ids, are the same from one `borderwatch demo` to the next; a busy port falls back
    to an ephemeral one.
    """
    if not host.startswith("127."):
        raise ValueError("the sample site is served on loopback addresses only")
    outlets = sorted(p for p in (root / "outlets").iterdir() if p.is_dir())
    web = SampleWeb(bases={})
    servers = []
    try:
        for i, folder in enumerate(outlets):
            handler = _handler(web, folder.name, folder)
            try:
                server = ThreadingHTTPServer((host, first_port + i if first_port else 0), handler)
            except OSError as exc:
                log.warning("port %d is taken (%s); serving %s on an ephemeral port", first_port + i, exc, folder.name)
                server = ThreadingHTTPServer((host, 0), handler)
            server.daemon_threads = True
            web.bases[folder.name] = f"http://{host}:{server.server_address[1]}"
            servers.append(server)
        for server in servers:
            threading.Thread(target=server.serve_forever, name="sample-site", daemon=True).start()
        yield web
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def sample_config_toml(web: SampleWeb, data_dir: Path) -> str:
    """A borderwatch.toml for the served sample site: polite settings relaxed for a local server."""
    expected = web.expected()
    lines = [
        "[storage]",
        f'db = "{(data_dir / "demo.duckdb").as_posix()}"',
        f'raw_dir = "{(data_dir / "raw-demo").as_posix()}"',
        "",
        "[crawl]",
        "obey_robots = true",
        "concurrency_per_host = 4",
        "download_delay = 0",
        "max_pages_per_source = 100",
        "max_age_days = 0  # the sample site is frozen in time: no age limit",
        "retry_backoff = 0.2",
        "download_timeout = 10",
        'allow_private_hosts = ["127.0.0.1"]',
        "",
        "[topic]",
        "min_relevance = 0.5",
    ]
    for key, outlet in expected["outlets"].items():
        base = web.bases[key]
        lines += [
            "",
            "[[sources]]",
            f'key = "{key}"',
            f"name = {json.dumps(outlet['name'])}",
            f'language = "{outlet["language"]}"',
        ]
        for kind in ("feeds", "sitemaps", "sections"):
            urls = ", ".join(json.dumps(base + p) for p in outlet.get(kind, []))
            lines.append(f"{kind} = [{urls}]")
    return "\n".join(lines) + "\n"
