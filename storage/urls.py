"""URL canonicalisation for article identity (dedup keys and stable ids).

URLs that canonicalise equally are one article. The case of the path and of
query values is never changed: real servers treat them as case-sensitive.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from functools import lru_cache
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

# Parameters that only say how a reader arrived, never which article it is.
# Named after the system that appends them so the list can be audited.
TRACKING_PARAMS: frozenset[str] = frozenset(
    (
        *("fbclid", "igshid"),  # Facebook, Instagram
        *("gclid", "dclid", "gbraid", "wbraid", "_ga", "_gl"),  # Google Ads / GA
        *("msclkid", "yclid", "twclid", "__twitter_impression"),  # Bing, Yandex, X
        *("mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok"),  # newsletter tools
        *("ref", "ref_src", "ref_url"),  # referrer tags (X embeds, Substack, Ghost)
        *("cmpid", "ocid", "smid", "s_cid", "sr_share", "taid", "spm", "ito"),
        *("at_medium", "at_campaign"),  # AT Internet / Piano (BBC)
    )
)
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)  # Google Analytics campaign tags
# Only these values mark an AMP rendering; other values may select content.
TRACKING_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {("outputtype", "amp"), ("amp", ""), ("amp", "1"), ("amp", "true")}
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_HOST_OK = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
# Repeated so the rule is idempotent; the lookahead keeps at least one dot.
_MOBILE_PREFIX = re.compile(r"^(?:(?:m|mobile|amp)\.)+(?=[^.]+\.)")


def _normalize_pct(text: str) -> str:
    """RFC 3986 6.2.2: decode escaped unreserved chars, uppercase other escapes."""

    def fix(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    return _PCT.sub(fix, text)


def _is_local(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")
    return True


def _is_tracking(param: str) -> bool:
    key, _, value = param.partition("=")
    key = unquote_plus(key).lower()
    return (
        key in TRACKING_PARAMS
        or key.startswith(TRACKING_PREFIXES)
        or (key, unquote_plus(value).lower()) in TRACKING_PAIRS
    )


def _canonical_path(path: str) -> str:
    segs: list[str] = []
    for seg in _normalize_pct(path).split("/"):
        if seg == "..":
            if segs:
                segs.pop()
        elif seg not in ("", "."):  # "" collapses "//" and drops trailing "/"
            segs.append(seg)
    while segs and segs[0] == "amp":  # /amp/<article>
        segs.pop(0)
    while segs and segs[-1] == "amp":  # <article>/amp
        segs.pop()
    while segs and segs[-1].endswith(".amp.html"):
        segs[-1] = segs[-1][: -len(".amp.html")] + ".html"
    return "/" + "/".join(segs)


# cached: cleaning a page asks for the same two or three URLs' forms several times (choose_canonical, same_site,
# url_key), and w3lib's safe_url_string makes each call cost tens of microseconds
@lru_cache(maxsize=8192)
def canonicalize_url(url: str) -> str:
    """Return the canonical form of an http(s) article URL.

    Host: lowercased, IDN to punycode, trailing dot dropped, leading ``m.``,
    ``mobile.``, ``amp.`` stripped; ``www.`` is kept as given and never added
    (we cannot know which one a site serves). ``http`` becomes ``https`` (news
    sites serve both; one article needs one key) except on IP/localhost hosts
    and non-default ports, which may only speak http. Userinfo and fragment
    are dropped; tracking parameters are removed and the rest stably sorted
    by key, values byte-exact up to RFC 3986 equivalent escapes.

    Raises ValueError for non-http(s) schemes, a missing/bad host or port.
    """
    raw = url.strip()
    if urlsplit(raw).scheme.lower() not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url!r}")
    parts = urlsplit(safe_url_string(raw))  # percent-encodes, IDNA host
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port  # raises ValueError on junk ports
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    if _is_local(host):
        netloc = f"[{host}]" if ":" in host else host
    elif _HOST_OK.fullmatch(host):
        netloc = _MOBILE_PREFIX.sub("", host)
        if port is None:
            scheme = "https"
    else:
        raise ValueError(f"missing or invalid host: {url!r}")
    if port is not None:
        netloc += f":{port}"
    params = [_normalize_pct(p) for p in parts.query.split("&") if p]
    params = [p for p in params if not _is_tracking(p)]
    params.sort(key=lambda p: p.partition("=")[0])  # stable: repeats keep order
    return urlunsplit((scheme, netloc, _canonical_path(parts.path), "&".join(params), ""))


def same_site(a: str, b: str) -> bool:
    """True when both URLs are on one host, ignoring www./m./mobile./amp.

    Unparseable or non-http(s) input is never the same site as anything.
    """
    try:
        sites = {(urlsplit(canonicalize_url(u)).hostname or "").removeprefix("www.") for u in (a, b)}
    except ValueError:
        return False
    return len(sites) == 1


def choose_canonical(fetched_url: str, declared: str | None) -> str:
    """Pick the canonical URL of a fetched page, canonicalised.

    ``declared`` (rel=canonical / og:url, possibly relative) wins only when it
    is an http(s) URL on the same site and not the home page: CMS templates
    often point every page's canonical at "/", and a cross-site canonical
    would let one site claim another's article id.
    """
    fetched = canonicalize_url(fetched_url)
    if not declared or not declared.strip():
        return fetched
    try:
        candidate = canonicalize_url(urljoin(fetched_url.strip(), declared.strip()))
    except ValueError:
        return fetched
    if urlsplit(candidate).path == "/" or not same_site(candidate, fetched):
        return fetched
    return candidate


def article_id(canonical_url: str) -> str:
    """First 16 hex chars of sha256 of the URL, hashed exactly as given.

    Pass canonicalize_url() output; hashing as-is keeps the id a pure
    function of the stored string, so SQL or other modules can recompute it.
    """
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def url_key(url: str) -> str:
    """The key under which the crawler and url_state know a URL: its canonical form, or the URL itself
    when it cannot be canonicalised (so a junk link still gets exactly one key)."""
    try:
        return canonicalize_url(url)
    except ValueError:
        return url
