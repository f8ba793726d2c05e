"""Tests for storage.urls: canonical URL rules, canonical selection and ids."""

from __future__ import annotations

import hashlib
import random
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from storage.urls import (
    TRACKING_PARAMS,
    article_id,
    canonicalize_url,
    choose_canonical,
    same_site,
)

CANONICAL_CASES = [
    # tracking parameters
    ("https://example.com/news/story?utm_source=rss&utm_medium=feed", "https://example.com/news/story"),
    ("https://example.com/news/story?ref=home", "https://example.com/news/story"),
    ("https://example.com/a?fbclid=x&gclid=y&id=7", "https://example.com/a?id=7"),
    ("https://example.com/a?UTM_Campaign=x&page=2", "https://example.com/a?page=2"),
    ("https://example.com/a?outputType=amp", "https://example.com/a"),
    ("https://example.com/a?amp=1", "https://example.com/a"),
    ("https://example.com/a?amp", "https://example.com/a"),
    ("https://example.com/a?amp=full", "https://example.com/a?amp=full"),  # not an AMP toggle value
    (
        "https://example.com/a?at_medium=RSS&at_campaign=KARANGA&__twitter_impression=true",
        "https://example.com/a",
    ),
    # fragments and empty query pieces
    ("https://example.com/news/story#comments", "https://example.com/news/story"),
    ("https://example.com/a?#top", "https://example.com/a"),
    ("https://example.com/a?x=1&&y=2", "https://example.com/a?x=1&y=2"),
    # default ports and the http -> https rule
    ("http://example.com:80/a", "https://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com/a", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("http://example.com:8080/a", "http://example.com:8080/a"),  # non-default port: scheme kept
    ("http://127.0.0.1:41234/news/a.html?utm_source=x", "http://127.0.0.1:41234/news/a.html"),
    ("http://localhost/a/", "http://localhost/a"),
    ("http://127.0.0.1:80/a", "http://127.0.0.1/a"),
    ("http://[::1]:8080/a", "http://[::1]:8080/a"),
    # AMP copies
    ("https://example.com/amp/news/story", "https://example.com/news/story"),
    ("https://example.com/news/story/amp", "https://example.com/news/story"),
    ("https://example.com/news/story/amp/", "https://example.com/news/story"),
    ("https://example.com/news/story.amp.html", "https://example.com/news/story.html"),
    ("https://example.com/amp/news/story.amp.html?amp=1", "https://example.com/news/story.html"),
    ("https://example.com/amp/amp/news/story/amp/amp", "https://example.com/news/story"),
    ("https://example.com/news/story.amp.amp.html", "https://example.com/news/story.html"),
    ("https://example.com/news/amplify", "https://example.com/news/amplify"),  # only whole segments
    # trailing slashes, duplicate slashes, dot segments
    ("https://example.com/a/b/", "https://example.com/a/b"),
    ("https://example.com/", "https://example.com/"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com//a///b//", "https://example.com/a/b"),
    ("https://example.com/a/./b/../c", "https://example.com/a/c"),
    # host case, IDN, mobile hosts, www kept as given
    ("https://EXAMPLE.COM/News/Story", "https://example.com/News/Story"),
    ("HTTPS://Example.com/a", "https://example.com/a"),
    ("https://bücher.example/artikel", "https://xn--bcher-kva.example/artikel"),
    ("https://BÜCHER.example/Artikel", "https://xn--bcher-kva.example/Artikel"),
    ("https://example.com./a", "https://example.com/a"),
    ("https://m.example.com/a", "https://example.com/a"),
    ("https://mobile.example.com/a", "https://example.com/a"),
    ("https://amp.example.com/a", "https://example.com/a"),
    ("https://m.amp.example.com/a", "https://example.com/a"),
    ("https://www.example.com/a", "https://www.example.com/a"),
    ("https://m.co/a", "https://m.co/a"),  # stripping would leave a bare TLD
    ("https://amp.dev/a", "https://amp.dev/a"),
    # query order and byte-exact values
    ("https://example.com/a?b=2&a=1&b=1", "https://example.com/a?a=1&b=2&b=1"),
    ("https://example.com/a?q=Border+Wall&Z=%2f", "https://example.com/a?Z=%2F&q=Border+Wall"),
    ("https://example.com/a?q=Caf%C3%A9&x=a%20b", "https://example.com/a?q=Caf%C3%A9&x=a%20b"),
    # percent-encoding normalisation, path case kept
    ("https://example.com/%7euser/caf%c3%a9", "https://example.com/~user/caf%C3%A9"),
    ("https://example.com/ä b", "https://example.com/%C3%A4%20b"),
    ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
    ("https://example.com/Amp/Story", "https://example.com/Amp/Story"),
    # junk around the URL, credentials
    ("  https://example.com/a  \n", "https://example.com/a"),
    ("https://user:pw@example.com/a", "https://example.com/a"),
]


@pytest.mark.parametrize(("url", "expected"), CANONICAL_CASES)
def test_canonicalize_url_table(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize("_url,expected", CANONICAL_CASES)
def test_table_outputs_are_fixed_points(_url: str, expected: str) -> None:
    assert canonicalize_url(expected) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "ftp://example.com/a",
        "mailto:desk@example.com",
        "javascript:alert(1)",
        "example.com/a",
        "//example.com/a",
        "http://",
        "https:///path",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "http://example.com:port/",
    ],
)
def test_canonicalize_url_rejects_junk(url: str) -> None:
    with pytest.raises(ValueError):
        canonicalize_url(url)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("https://www.example.com/a", "https://example.com/b", True),
        ("https://m.example.com/a", "http://www.example.com/b", True),
        ("https://amp.example.com/a", "https://mobile.example.com/b", True),
        ("https://EXAMPLE.com/a", "https://example.com:8443/b", True),
        ("https://example.com/a", "https://example.org/a", False),
        ("https://news.example.com/a", "https://example.com/a", False),
        ("https://example.com/a", "ftp://example.com/a", False),
        ("not a url", "not a url", False),
    ],
)
def test_same_site(a: str, b: str, expected: bool) -> None:
    assert same_site(a, b) is expected


@pytest.mark.parametrize(
    ("fetched", "declared", "expected"),
    [
        # relative canonicals resolve against the fetched URL
        (
            "https://example.com/news/story?utm_source=x",
            "/news/story-canonical",
            "https://example.com/news/story-canonical",
        ),
        ("https://example.com/news/a.html", "b.html", "https://example.com/news/b.html"),
        ("https://www.example.com/y", "//www.example.com/x/", "https://www.example.com/x"),
        # same site across mobile/www hosts is accepted
        ("https://m.example.com/a/amp", "https://www.example.com/a", "https://www.example.com/a"),
        # cross-site canonical ignored
        ("https://example.com/a", "https://aggregator.example.org/a", "https://example.com/a"),
        # canonical to the home page ignored (CMS bug)
        ("https://example.com/news/a", "https://example.com/", "https://example.com/news/a"),
        ("https://example.com/news/a", "/", "https://example.com/news/a"),
        ("https://example.com/news/a", "/?lang=en", "https://example.com/news/a"),
        # missing or unusable
        ("https://example.com/news/a#x", None, "https://example.com/news/a"),
        ("https://example.com/news/a", "", "https://example.com/news/a"),
        ("https://example.com/news/a", "   ", "https://example.com/news/a"),
        ("https://example.com/news/a", "javascript:void(0)", "https://example.com/news/a"),
        ("https://example.com/news/a", "http://example.com:bad/x", "https://example.com/news/a"),
        # loopback test servers keep http and the port
        ("http://127.0.0.1:41234/news/a.html", "/news/b.html", "http://127.0.0.1:41234/news/b.html"),
    ],
)
def test_choose_canonical(fetched: str, declared: str | None, expected: str) -> None:
    assert choose_canonical(fetched, declared) == expected


def test_choose_canonical_rejects_bad_fetched_url() -> None:
    with pytest.raises(ValueError):
        choose_canonical("ftp://example.com/a", "/b")


def test_article_id() -> None:
    url = "https://example.com/news/story"
    assert article_id(url) == hashlib.sha256(url.encode()).hexdigest()[:16]
    assert re.fullmatch(r"[0-9a-f]{16}", article_id(url))
    assert article_id(url) != article_id(url + "2")
    variants = ["http://m.example.com/amp/news/story/?utm_source=rss#c", "https://example.com/news/story/amp"]
    assert {article_id(canonicalize_url(v)) for v in variants} == {article_id(url)}


# --- property tests -------------------------------------------------------

_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?", fullmatch=True)
_hosts = st.one_of(
    st.builds(
        lambda ls, tld: ".".join([*ls, tld]),
        st.lists(_label, min_size=1, max_size=3),
        st.sampled_from(["com", "org", "co.uk"]),
    ),
    st.sampled_from(["127.0.0.1", "localhost", "[::1]", "m.example.com", "www.example.com", "bücher.example"]),
)
_tricky_host = st.lists(st.sampled_from(["m", "amp", "mobile", "www", "M"]), max_size=3).map(
    lambda ls: ".".join([*ls, "co"])
)
_ports = st.sampled_from(["", ":80", ":443", ":8080"])
_schemes = st.sampled_from(["http", "https", "HTTP"])
# Any printable text, including "%", "?", "#", "&", "/", unicode and spaces.
_junk = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
# Segments aimed at the rules' interactions (stacked AMP markers, escaped dots).
_tricky_path = st.lists(
    st.sampled_from(["", ".", "..", "amp", "AMP", "x.amp.html", ".amp.amp.html", "%2e", "%2E%2e", "am%70", "%7E", "a"]),
    max_size=6,
).map("/".join)

# Path segments that cannot be merged by any rule: no "."/".." segments, no
# "amp" segment, no ".amp.html" suffix, no "%" escapes that might decode.
_segment = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters="-_.~"),
    min_size=1,
    max_size=8,
).filter(lambda s: s not in (".", "..", "amp") and not s.endswith(".amp.html"))
_paths = st.lists(_segment, min_size=1, max_size=4)
_safe_value = st.lists(st.sampled_from([*"abcXYZ019-._~+,:/", "%2F", "%26", "%3D", "%C3%A9"]), max_size=8).map("".join)
_plain_key = st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,6}", fullmatch=True).filter(
    lambda k: (
        k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_") and k.lower() not in ("amp", "outputtype")
    )
)
_plain_params = st.lists(st.tuples(_plain_key, _safe_value).map("=".join), max_size=5)
_tracking_params = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(sorted(TRACKING_PARAMS)), _safe_value).map("=".join),
        st.tuples(st.from_regex(r"utm_[a-z]{1,8}", fullmatch=True), _safe_value).map("=".join),
        st.sampled_from(["amp=1", "amp", "outputType=amp", "UTM_SOURCE=Feed"]),
    ),
    min_size=1,
    max_size=4,
)


def _url(scheme: str, host: str, port: str, path: str, query: str = "", frag: str = "") -> str:
    return f"{scheme}://{host}{port}{path}" + (f"?{query}" if query else "") + (f"#{frag}" if frag else "")


@settings(max_examples=400)
@given(_schemes, _hosts | _tricky_host, _ports, _junk | _tricky_path, _junk, _junk)
def test_idempotent(scheme: str, host: str, port: str, path: str, query: str, frag: str) -> None:
    once = canonicalize_url(_url(scheme, host, port, "/" + path, query, frag))
    assert canonicalize_url(once) == once


@settings(max_examples=300)
@given(_hosts, _paths, _paths, st.booleans(), st.booleans(), _plain_params)
def test_distinct_paths_never_merge(
    host: str, a: list[str], b: list[str], slash_a: bool, amp_b: bool, params: list[str]
) -> None:
    assume(a != b)
    query = "&".join(params)
    url_a = _url("https", host, "", "/" + "/".join(a) + ("/" if slash_a else ""), query)
    url_b = _url("https", host, "", ("/amp/" if amp_b else "/") + "/".join(b), query)
    assert canonicalize_url(url_a) != canonicalize_url(url_b)


@settings(max_examples=300)
@given(_schemes, _hosts, _paths, _plain_params, _tracking_params, st.randoms(use_true_random=False))
def test_tracking_params_never_change_result(
    scheme: str, host: str, path: list[str], params: list[str], tracking: list[str], rnd: random.Random
) -> None:
    base = _url(scheme, host, "", "/" + "/".join(path), "&".join(params))
    mixed = list(params)
    for param in tracking:
        mixed.insert(rnd.randint(0, len(mixed)), param)
    assert canonicalize_url(_url(scheme, host, "", "/" + "/".join(path), "&".join(mixed))) == canonicalize_url(base)


@settings(max_examples=300)
@given(_hosts, _paths, _plain_params)
def test_plain_params_preserved(host: str, path: list[str], params: list[str]) -> None:
    canonical = canonicalize_url(_url("https", host, "", "/" + "/".join(path), "&".join(params)))
    query = canonical.partition("?")[2]
    kept = query.split("&") if query else []
    assert sorted(kept) == sorted(params)  # same pieces, byte for byte

    def per_key(pieces: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in pieces:
            out.setdefault(p.partition("=")[0], []).append(p)
        return out

    assert per_key(kept) == per_key(params)  # repeated keys keep their order
    assert [p.partition("=")[0] for p in kept] == sorted(p.partition("=")[0] for p in kept)


def test_url_key_is_canonical_and_total() -> None:
    from storage.urls import url_key

    assert url_key("https://Example.com/a/?utm_source=rss#top") == canonicalize_url("https://example.com/a")
    assert url_key("javascript:void(0)") == "javascript:void(0)"  # junk keeps one key of its own, no exception
