"""The network guard refuses non-public addresses and odd schemes before any packet is sent."""

from __future__ import annotations

import pytest
from scrapy import Request

from crawlers.middlewares import BlockedAddress, NetworkGuardMiddleware


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.9:9/secret",
        "http://localhost:8080/x",  # resolves to loopback
        "http://10.1.2.3/",
        "http://192.168.0.1/admin",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "file:///etc/passwd",
        "ftp://example.org/x",
        "http:///nohost",
    ],
)
def test_refused(url: str) -> None:
    guard = NetworkGuardMiddleware([])
    assert guard.check(url) is not None
    with pytest.raises(BlockedAddress):
        guard.process_request(Request(url) if url.startswith("http") else Request("http://127.0.0.1/").replace(url=url))


def test_public_ip_literal_passes() -> None:
    assert NetworkGuardMiddleware([]).check("https://93.184.215.14/news/a.html") is None


def test_allow_list_by_address_network_and_host() -> None:
    assert NetworkGuardMiddleware(["127.0.0.1"]).check("http://127.0.0.1:4000/a") is None
    assert NetworkGuardMiddleware(["127.0.0.1"]).check("http://127.0.0.9:9/secret") is not None
    assert NetworkGuardMiddleware(["127.0.0.0/8"]).check("http://127.0.0.9:9/secret") is None
    assert NetworkGuardMiddleware(["localhost"]).check("http://localhost:4000/") is None


def test_a_public_name_resolving_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is on the resolved address (DNS pointing at an intranet), not on the name."""
    from crawlers import middlewares

    answers = {"news.example.com": ("93.184.215.14",), "intranet-news.example.com": ("93.184.215.14", "10.0.0.7")}
    monkeypatch.setattr(middlewares, "_resolve", lambda host: answers[host])
    guard = NetworkGuardMiddleware([])
    assert guard.check("https://news.example.com/a") is None
    reason = guard.check("https://intranet-news.example.com/a")
    assert reason and "10.0.0.7" in reason
