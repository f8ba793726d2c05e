"""GDELT DOC 2.0 API: build ArtList JSON request URLs and parse their answers. Standard library only, no network.

What the API does, and where that was learned (stored copies of public material, read offline):
- Endpoint https://api.gdeltproject.org/api/v2/doc/doc; parameters query, mode (ArtList), format (json),
  maxrecords ("75 results by default, but this can be increased up to 250"), timespan, startdatetime/enddatetime
  (YYYYMMDDHHMMSS, UTC) and sort (DateDesc, DateAsc, ToneDesc, ToneAsc, HybridRel; relevance when absent):
  GDELT's own parameter text, quoted in abresler/gdeltr2 R/v2.R, which points to
  https://blog.gdeltproject.org/gdelt-doc-2-0-api-debuts/ .
- timespan: "the number of months, weeks, days, hours or minutes (minimum of 15 minutes)" (same text); the units
  are min, h/hours, d/days, w/weeks, m/months, so "m" means months, not minutes (alex9smith/gdelt-doc-api
  gdeltdoc/filters.py, VALID_TIMESPAN_UNITS; that client demands >= 60 minutes, stricter than GDELT's text).
- Query operators: "quoted phrases", (a OR b) where OR'd terms must be in parentheses, sourcelang:spanish,
  sourcecountry:mexico (the name without spaces, or a FIPS code), domain:/domainis:, near10:"a b",
  repeat3:"word", theme:, tone>5 (R/v2.R; gdeltdoc/filters.py).
- Errors arrive as HTTP 200 with a sentence of plain text instead of JSON (alex9smith/gdelt-doc-api pull #20), e.g.
  "Your search contained a keyword that was too short.", "The specified phrase is too short.",
  "Queries containing OR'd terms must be surrounded by ().", "Please limit requests to one every 5 seconds ...".
- ArtList JSON: {"articles": [{"url", "url_mobile", "title", "seendate": "20230918T031500Z", "socialimage",
  "domain", "language": "Spanish", "sourcecountry": "Mexico"}]}; when nothing matched the answer is {} with no
  "articles" key (gdeltdoc/api_client.py article_search checks `"articles" in articles`; field list in its README;
  sample rows in the page https://github.com/gopigof/GDELT_Exploration).
- GDELT sometimes emits invalid JSON in titles: bad backslash escapes ("Invalid \\escape", alex9smith/gdelt-doc-api
  issue #26, fixed in pull #47 by blanking the offending characters) and mangled quoting (jeroen/jsonlite issue
  #331 on a GDELT API answer; abresler/gdeltr2 issue #13). Its titles also carry spaces before punctuation
  ("Ana María Serrano , sobrina", "Caso Ana María : Trasladan" in the sample rows above).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

__all__ = [
    "DEFAULT_API",
    "MAX_BODY_BYTES",
    "MAX_RECORDS",
    "MIN_TIMESPAN_MINUTES",
    "SORTS",
    "GdeltArticle",
    "build_query_url",
    "parse_artlist",
]

DEFAULT_API = "https://api.gdeltproject.org/api/v2/doc/doc"
MAX_RECORDS = 250  # ArtList's documented ceiling; larger values are not honoured
MIN_TIMESPAN_MINUTES = 15  # "minimum of 15 minutes" in GDELT's TIMESPAN text
SORTS = ("DateDesc", "DateAsc", "ToneDesc", "ToneAsc", "HybridRel")
# 250 articles is about 100 kB; anything near this is not an ArtList answer, and parsing it would cost memory
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_URL_CHARS = 4096  # no real article URL is longer; a longer one is junk we do not want stored
MAX_PROBLEMS = 100  # a hostile body must not turn the problem list into a second copy of itself
QUOTE_CHARS = 200  # how much of GDELT's own error text is quoted
MAX_SKIPPED_ITEMS = 25  # unreadable items skipped while salvaging a broken body before giving up

# ASCII digits only: \d would also accept e.g. Arabic-Indic digits, which GDELT would not
_TIMESPAN = re.compile(r"([0-9]+)(min|h|d|w|m)")
_SEENDATE = re.compile(r"[0-9]{8}T[0-9]{6}Z|[0-9]{14}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_URL_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
# a backslash escape JSON allows (group 1), or any other backslash and the character after it (group 2)
_ESCAPE = re.compile(r'\\(?:(u[0-9a-fA-F]{4}|["\\/bfnrt])|(.?))', re.S)
_ARTICLES_OPEN = re.compile(r'"articles"\s*:\s*\[')
_NEXT_ITEM = re.compile(r"\}\s*,\s*(?=\{)")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]*>")
# UTF-8 read as Windows-1252/Latin-1 ("MÃ©xico", "â€œ"); only a hint, the round trip decides
_MOJIBAKE_HINT = re.compile("[ÃÂ].|â€")
_SPACE_BEFORE = re.compile(r"\s+([,.;:!?)\]}»])")
_SPACE_AFTER = re.compile(r"([(\[{¿¡«])\s+")

# GDELT names the language in English; the project stores ISO 639-1 codes
LANGUAGE_CODES = {
    "arabic": "ar",
    "chinese": "zh",
    "dutch": "nl",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "indonesian": "id",
    "italian": "it",
    "japanese": "ja",
    "korean": "ko",
    "polish": "pl",
    "portuguese": "pt",
    "russian": "ru",
    "spanish": "es",
    "turkish": "tr",
    "ukrainian": "uk",
    "vietnamese": "vi",
}


@dataclass
class GdeltArticle:
    url: str
    title: str | None
    seen_at: str | None  # ISO 8601 UTC, e.g. "2026-11-30T12:00:00+00:00"
    domain: str | None
    language: str | None  # ISO 639-1 code where known, else GDELT's name lowercased
    source_country: str | None


def build_query_url(
    query: str,
    *,
    api: str = DEFAULT_API,
    timespan: str = "1d",
    max_records: int = 250,
    sort: str = "DateDesc",
) -> str:
    """URL of an ArtList JSON request. Raises ValueError, naming the argument, when one is out of GDELT's range.

    The query is only checked for being non-empty and free of control characters: keyword length and OR syntax
    are judged by GDELT itself, which answers with a plain-text error that parse_artlist reports.
    """
    if not isinstance(query, str) or not query.strip():
        raise ValueError("query must be a non-empty string")
    query = query.strip()
    if _CONTROL.search(query):
        raise ValueError("query contains control characters (newline, tab, ...)")
    # bool is an int subclass; True would silently mean maxrecords=1
    if isinstance(max_records, bool) or not isinstance(max_records, int) or not 1 <= max_records <= MAX_RECORDS:
        raise ValueError(f"max_records must be an integer from 1 to {MAX_RECORDS}, got {max_records!r}")
    match = _TIMESPAN.fullmatch(timespan) if isinstance(timespan, str) else None
    if match is None:
        raise ValueError(
            f"timespan must be a whole number followed by min, h, d, w or m (months), "
            f"e.g. '15min', '24h', '1d', '1w', '3m'; got {timespan!r}"
        )
    amount, unit = int(match[1]), match[2]
    if amount == 0:
        raise ValueError(f"timespan must be longer than zero, got {timespan!r}")
    if unit == "min" and amount < MIN_TIMESPAN_MINUTES:
        raise ValueError(f"timespan must be at least {MIN_TIMESPAN_MINUTES}min (GDELT's minimum), got {timespan!r}")
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}; got {sort!r}")
    try:
        parts = urlsplit(api) if isinstance(api, str) else None
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise ValueError(f"api must be an http(s) URL without a fragment, got {api!r}")
    params = {
        "query": query,
        "mode": "ArtList",
        "format": "json",
        "maxrecords": str(max_records),
        "timespan": timespan,
        "sort": sort,
    }
    # quote, not quote_plus: %20 is unambiguous, and safe="" also encodes the operators' quotes, colons, parens
    encoded = urlencode(params, quote_via=quote, safe="")
    return f"{api}{'&' if parts.query else '?'}{encoded}"


def parse_artlist(body: bytes) -> tuple[list[GdeltArticle], list[str]]:
    """Articles of an ArtList JSON answer, and a list of problems. Never raises on bad input.

    GDELT's plain-text errors, HTML pages, truncated or invalid JSON, `{}`, items without a usable http(s) url,
    duplicate urls (kept once) and fields of the wrong type end up in `problems`. Bodies over MAX_BODY_BYTES are
    refused unparsed. GDELT's invalid escapes and raw control characters are repaired, and complete articles
    before a cut or a broken item are kept.
    """
    problems: list[str] = []
    articles = _parse(body, problems)
    if len(problems) > MAX_PROBLEMS:
        extra = len(problems) - MAX_PROBLEMS
        problems[MAX_PROBLEMS:] = [f"... and {extra} more problems"]
    return articles, problems


def _parse(body: Any, problems: list[str]) -> list[GdeltArticle]:
    if isinstance(body, str):
        body = body.encode("utf-8", "replace")
    if not isinstance(body, bytes | bytearray):
        problems.append(f"body must be bytes, got {_kind(body)}")
        return []
    if len(body) > MAX_BODY_BYTES:
        problems.append(f"body of {len(body)} bytes is over the {MAX_BODY_BYTES} byte limit; not parsed")
        return []
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as exc:
        # GDELT promises UTF-8; keep the rest of the answer rather than lose it all to one bad byte
        problems.append(f"body is not valid UTF-8 (first bad byte at {exc.start}); bad bytes replaced")
        text = bytes(body).decode("utf-8", "replace")
    text = text.removeprefix("\ufeff").strip()  # a byte order mark is harmless, but json.loads refuses it
    if not text:
        problems.append("empty body")
        return []
    if text[0] not in "{[":
        problems.append(_not_json(text))
        return []

    data, repairs, error = _loads(text)
    if error is not None:
        items, skipped, cut = _salvage(_ESCAPE.sub(_fix_escape, text))
        detail = f"recovered {len(items)} complete articles"
        if skipped > MAX_SKIPPED_ITEMS:
            detail += f", gave up after {skipped} unreadable"
        elif skipped:
            detail += f", skipped {skipped} unreadable"
        if cut:
            detail += ", the last one was cut off"
        problems.append(f"invalid or truncated JSON ({error}); {detail}")
        return _articles(items, problems)
    if repairs:
        problems.append(f"repaired GDELT's invalid JSON ({' and '.join(repairs)}) before parsing")

    if not isinstance(data, dict):
        problems.append(f"expected a JSON object with 'articles', got {_kind(data)}")
        return []
    if "articles" not in data:
        if not data:
            problems.append("no articles: GDELT answered {} (its answer when nothing matched)")
        else:
            problems.append(f"no 'articles' key in the answer (keys: {', '.join(sorted(map(str, data))[:10])})")
        return []
    items = data["articles"]
    if not isinstance(items, list):
        problems.append(f"'articles' is {_kind(items)}, not a list")
        return []
    return _articles(items, problems)


def _not_json(text: str) -> str:
    if text.startswith("<"):
        # a proxy or server error page rather than GDELT's answer; its title says what went wrong
        found = _HTML_TITLE.search(text)
        title = _TAGS.sub(" ", found[1]) if found else ""
        return f"HTML page instead of JSON (title: {_quote(html.unescape(title))})"
    return f"GDELT answered with a message instead of JSON: {_quote(text)}"


def _quote(text: str) -> str:
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > QUOTE_CHARS:
        return f'"{text[:QUOTE_CHARS]}" (truncated)'
    return f'"{text}"'


def _loads(text: str) -> tuple[Any, list[str], str | None]:
    """(data, repairs made, error). Strict first, so a clean answer is never touched by the repairs."""
    try:
        return json.loads(text), [], None
    except RecursionError:
        return None, [], "nested too deeply"
    except ValueError as exc:
        first = exc
    control = "raw control characters in strings"
    try:
        # strict=False admits raw control characters (tabs, newlines) inside strings
        return json.loads(text, strict=False), [control], None
    except RecursionError:
        return None, [], "nested too deeply"
    except ValueError:
        pass
    fixed = _ESCAPE.sub(_fix_escape, text)
    if fixed != text:
        escapes = "invalid backslash escapes"
        try:
            return json.loads(fixed), [escapes], None
        except (ValueError, RecursionError):
            pass
        try:
            return json.loads(fixed, strict=False), [escapes, control], None
        except (ValueError, RecursionError):
            pass
    if isinstance(first, json.JSONDecodeError):
        return None, [], f"{first.msg}, char {first.pos}"
    return None, [], str(first)


def _fix_escape(match: re.Match[str]) -> str:
    # keep valid escapes; drop the backslash of an invalid one, so O\'Rourke reads O'Rourke
    return match[0] if match[1] is not None else match[2]


def _salvage(text: str) -> tuple[list[Any], int, bool]:
    """Complete items of the articles array in a body that does not parse: (items, skipped, cut off at the end)."""
    opening = _ARTICLES_OPEN.search(text)
    if opening is None:
        return [], 0, False
    decoder = json.JSONDecoder(strict=False)
    items: list[Any] = []
    skipped, pos, end = 0, opening.end(), len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= end:
            return items, skipped, False
        if text[pos] == "]":
            return items, skipped, False
        try:
            item, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError) as exc:
            # an unterminated string runs to the end of the body: nothing after it is readable
            unterminated = isinstance(exc, json.JSONDecodeError) and exc.msg.startswith("Unterminated string")
            following = None if unterminated else _NEXT_ITEM.search(text, pos + 1)
            if following is None:
                return items, skipped, True
            skipped += 1
            # each failure costs a scan of the body (the error counts lines from its start); a body this broken
            # is not a GDELT answer with a few bad titles, so give up rather than go quadratic
            if skipped > MAX_SKIPPED_ITEMS:
                return items, skipped, False
            pos = following.end()
            continue
        items.append(item)


def _articles(items: list[Any], problems: list[str]) -> list[GdeltArticle]:
    out: list[GdeltArticle] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        article = _article(i, item, seen, problems)
        if article is not None:
            out.append(article)
    return out


def _article(i: int, item: Any, seen: dict[str, int], problems: list[str]) -> GdeltArticle | None:
    where = f"articles[{i}]"
    if not isinstance(item, dict):
        problems.append(f"{where}: expected an object, got {_kind(item)}")
        return None
    url = _string(item.get("url"), "url", where, problems)
    if not url:
        mobile = _string(item.get("url_mobile"), "url_mobile", where, problems)
        if not mobile:
            problems.append(f"{where}: no url")
            return None
        # GDELT fills url_mobile with the AMP copy of the same story; better than losing the story
        problems.append(f"{where}: no url, using url_mobile {_short(mobile)}")
        url = mobile
    reason = _url_problem(url)
    if reason is not None:
        problems.append(f"{where}: {reason}: {_short(url)}")
        return None
    key = _dedupe_key(url)
    if key in seen:
        problems.append(f"{where}: duplicate of articles[{seen[key]}]: {_short(url)}")
        return None
    seen[key] = i

    title = _string(item.get("title"), "title", where, problems)
    domain = _string(item.get("domain"), "domain", where, problems)
    language = _string(item.get("language"), "language", where, problems)
    country = _string(item.get("sourcecountry"), "sourcecountry", where, problems)
    return GdeltArticle(
        url=url,
        title=clean_title(title) if title else None,
        seen_at=_seen_at(item.get("seendate"), where, problems),
        domain=domain.lower() if domain else _host_domain(url),
        language=language_code(language) if language else None,
        source_country=" ".join(country.split()) if country else None,
    )


def _string(value: Any, name: str, where: str, problems: list[str]) -> str | None:
    """A stripped non-empty string, or None; other types are reported, never coerced."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{where}: {name} is {_kind(value)}, not a string; ignored")
        return None
    return _no_surrogates(value).strip() or None


def _url_problem(url: str) -> str | None:
    if len(url) > MAX_URL_CHARS:
        return f"url longer than {MAX_URL_CHARS} characters"
    if _URL_BAD_CHARS.search(url):
        return "url contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number 0-65535
    except ValueError:
        return "malformed url"
    if parts.scheme.lower() not in ("http", "https"):
        return "not an http(s) url"
    if not parts.hostname:
        return "url has no host"
    return None


def _dedupe_key(url: str) -> str:
    # the same story seen twice differs at most in scheme/host case or a #fragment
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))


def _host_domain(url: str) -> str | None:
    host = urlsplit(url).hostname
    return host.removeprefix("www.") if host else None


def _seen_at(value: Any, where: str, problems: list[str]) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        problems.append(f"{where}: seendate is {_kind(value)}, not a string; ignored")
        return None
    iso = seendate_to_iso(value)
    if iso is None:
        problems.append(f"{where}: seendate {_short(value)} is not YYYYMMDDTHHMMSSZ")
    return iso


def seendate_to_iso(value: str) -> str | None:
    """'20261130T120000Z' -> '2026-11-30T12:00:00+00:00'; None when it is not such a date."""
    value = value.strip()
    # the regex first: strptime alone accepts single-digit months and days in odd places
    if not _SEENDATE.fullmatch(value):
        return None
    fmt = "%Y%m%dT%H%M%SZ" if "T" in value else "%Y%m%d%H%M%S"
    try:
        return datetime.strptime(value, fmt).replace(tzinfo=UTC).isoformat()
    except ValueError:
        return None


def language_code(name: str) -> str | None:
    """GDELT's English language name as an ISO 639-1 code ('Spanish' -> 'es'); unknown names lowercased."""
    key = " ".join(name.split()).lower()
    return LANGUAGE_CODES.get(key, key) or None


def clean_title(title: str) -> str | None:
    """Undo what GDELT does to titles: mojibake, HTML entities, control characters, spaces before punctuation."""
    title = _fix_mojibake(_no_surrogates(title))
    if "&" in title:
        title = html.unescape(title)
    title = " ".join(_CONTROL.sub(" ", title).split())
    title = _SPACE_AFTER.sub(r"\1", _SPACE_BEFORE.sub(r"\1", title))
    return title or None


def _fix_mojibake(text: str) -> str:
    if not _MOJIBAKE_HINT.search(text):
        return text
    raw = bytearray()
    for ch in text:
        try:
            raw += ch.encode("cp1252")
        except UnicodeEncodeError:
            # the five bytes cp1252 leaves undefined (0x81, 0x8d, 0x8f, 0x90, 0x9d) come through as Latin-1
            if ord(ch) > 0xFF:
                return text
            raw.append(ord(ch))
    try:
        fixed = raw.decode("utf-8")
    except UnicodeDecodeError:
        return text  # text like "NÃO" is genuine, not UTF-8 read as cp1252
    return fixed if len(fixed) < len(text) else text


def _no_surrogates(text: str) -> str:
    # json.loads lets a lone "\ud800" through; it would fail later when the text is encoded for storage
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def _short(value: str, limit: int = 120) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
