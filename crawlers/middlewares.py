"""Downloader middlewares: the network guard that keeps the crawler out of private networks."""

from __future__ import annotations

import ipaddress
import logging
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(IgnoreRequest):
    """The request (or a redirect hop) pointed at an address the crawler must not reach."""


def _is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return tuple(sorted({info[4][0] for info in infos}))


class NetworkGuardMiddleware:
    """Refuse requests to loopback, private, link-local and other non-public addresses, and to any scheme
    but http(s). Runs on every request, so every redirect hop is checked again.

    `NETWORK_GUARD_ALLOW` lists hosts, addresses or networks (CIDR) that may be fetched anyway
    (the demo site and the tests live on 127.0.0.1).
    """

    def __init__(self, allow: list[str]):
        self.allow_hosts: set[str] = set()
        self.allow_nets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow:
            try:
                self.allow_nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.allow_hosts.add(entry.lower())

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetworkGuardMiddleware:
        return cls(crawler.settings.getlist("NETWORK_GUARD_ALLOW"))

    def _allowed_ip(self, ip: IPAddress) -> bool:
        return _is_public(ip) or any(ip in net for net in self.allow_nets)

    def check(self, url: str) -> str | None:
        """The reason `url` must not be fetched, or None when it may be."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return f"scheme {parts.scheme or '(none)'!r} is not fetched"
        host = (parts.hostname or "").lower()
        if not host:
            return "no host in URL"
        if host in self.allow_hosts:
            return None
        try:
            addresses: tuple[str, ...] = (str(ipaddress.ip_address(host)),)
        except ValueError:
            try:
                addresses = _resolve(host)
            except (OSError, UnicodeError) as exc:
                return f"cannot resolve {host}: {exc}"
        for addr in addresses:
            ip = ipaddress.ip_address(addr.split("%", 1)[0])
            if not self._allowed_ip(ip):
                if host == str(ip):
                    return f"{ip} is not a public address"
                return f"{host} resolves to non-public address {ip}"
        return None

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        reason = self.check(request.url)
        if reason:
            log.warning("network guard refused %s: %s", request.url, reason)
            raise BlockedAddress(f"network guard: {reason}")
        return None
