"""GDELT DOC 2.0 ArtList: request URLs, and parsing of real-shaped answers, GDELT's errors and broken bodies."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from crawlers.gdelt import (
    DEFAULT_API,
    MAX_BODY_BYTES,
    GdeltArticle,
    build_query_url,
    clean_title,
    language_code,
    parse_artlist,
    seendate_to_iso,
)

FIXTURES = Path(__file__).parent / "fixtures" / "gdelt"
BORDER_QUERY = '("deportación" OR "remain in mexico" OR "border wall") sourcelang:spanish sourcecountry:mexico'


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def body(*items: object) -> bytes:
    return json.dumps({"articles": list(items)}, ensure_ascii=False).encode("utf-8")


def params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)


# --- build_query_url ---------------------------------------------------------------------------------------------


def test_url_defaults_exactly() -> None:
    assert build_query_url('"border wall"') == (
        "https://api.gdeltproject.org/api/v2/doc/doc?query=%22border%20wall%22"
        "&mode=ArtList&format=json&maxrecords=250&timespan=1d&sort=DateDesc"
    )


def test_url_encodes_quotes_parentheses_accents_and_operators() -> None:
    url = build_query_url(BORDER_QUERY)
    query = urlsplit(url).query
    assert query.startswith(
        "query=%28%22deportaci%C3%B3n%22%20OR%20%22remain%20in%20mexico%22%20OR%20%22border%20wall%22%29"
        "%20sourcelang%3Aspanish%20sourcecountry%3Amexico&"
    )
    # nothing that a server or proxy could read two ways: no '+', no raw quote, space, colon or bracket
    assert not set(query) & set('+" ():')
    assert params(url)["query"] == [BORDER_QUERY]


def test_url_custom_arguments_and_an_api_that_already_has_a_query() -> None:
    url = build_query_url(
        "domain:borderreport.com asylum",
        api="http://127.0.0.1:8080/doc?key=x",
        timespan="15min",
        max_records=1,
        sort="HybridRel",
    )
    assert url.startswith("http://127.0.0.1:8080/doc?key=x&query=domain%3Aborderreport.com%20asylum&")
    assert params(url) == {
        "key": ["x"],
        "query": ["domain:borderreport.com asylum"],
        "mode": ["ArtList"],
        "format": ["json"],
        "maxrecords": ["1"],
        "timespan": ["15min"],
        "sort": ["HybridRel"],
    }


@pytest.mark.parametrize("timespan", ["15min", "90min", "1h", "24h", "1d", "7d", "2w", "1m", "3m"])
def test_url_accepts_gdelt_timespans(timespan: str) -> None:
    assert params(build_query_url("migrants", timespan=timespan))["timespan"] == [timespan]


@pytest.mark.parametrize(
    "timespan",
    [
        "",
        "1",
        "d",
        "min15",
        "1.5h",
        "-1d",
        " 1d",
        "1d\n",
        "24H",
        "1y",
        "1s",
        "1day",
        "2weeks",  # GDELT also reads the long forms; this module keeps one spelling
        "10min",  # under GDELT's 15-minute minimum
        "0d",
        "0min",
        "\u0661d",  # an Arabic-Indic digit one, which a bare \d would accept
        None,
        1,
    ],
)
def test_url_rejects_bad_timespans(timespan: object) -> None:
    with pytest.raises(ValueError, match="timespan"):
        build_query_url("migrants", timespan=timespan)  # type: ignore[arg-type]


@pytest.mark.parametrize("max_records", [0, -1, 251, 1000, True, 2.5, "250", None])
def test_url_rejects_bad_max_records(max_records: object) -> None:
    with pytest.raises(ValueError, match="max_records"):
        build_query_url("migrants", max_records=max_records)  # type: ignore[arg-type]


@pytest.mark.parametrize("query", ["", "   ", "\n\t", None, 42, "border\nwall"])
def test_url_rejects_empty_or_odd_queries(query: object) -> None:
    with pytest.raises(ValueError, match="query"):
        build_query_url(query)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"sort": "datedesc"}, "sort"),
        ({"sort": "Relevance"}, "sort"),
        ({"api": "ftp://api.gdeltproject.org/api/v2/doc/doc"}, "api"),
        ({"api": "api.gdeltproject.org/api/v2/doc/doc"}, "api"),
        ({"api": "https://api.gdeltproject.org/api/v2/doc/doc#x"}, "api"),
        ({"api": "http://[::1/doc"}, "api"),
    ],
)
def test_url_rejects_bad_sort_and_api(kwargs: dict, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        build_query_url("migrants", **kwargs)


def test_default_api_is_gdelts_doc_endpoint() -> None:
    assert DEFAULT_API == "https://api.gdeltproject.org/api/v2/doc/doc"


# --- parse_artlist on the canned answers -------------------------------------------------------------------------


def test_border_fixture_articles() -> None:
    articles, problems = parse_artlist(fixture("artlist_border.json"))
    assert len(articles) == 12  # 14 items less one duplicate and one without any url
    urls = [a.url for a in articles]
    assert len(set(urls)) == len(urls)
    assert articles[0] == GdeltArticle(
        url="https://www.reuters.com/world/us/us-expands-expedited-removal-along-southern-border-2026-11-30/",
        title="US expands expedited removal along southern border as crossings fall",
        seen_at="2026-11-30T11:45:00+00:00",
        domain="reuters.com",
        language="en",
        source_country="United States",
    )
    # sort=DateDesc: newest first, and every seendate converted
    seen = [a.seen_at for a in articles]
    assert all(seen) and seen == sorted(seen, reverse=True)
    assert {a.language for a in articles} == {"en", "es"}
    assert {a.source_country for a in articles} == {"United States", "Mexico", "Argentina"}
    # not this module's job to refuse them: the network guard and the crawler's own filters do that later
    assert "http://127.0.0.9:9/private-story" in urls
    assert "https://www.cbp.gov/sites/default/files/2026-11/southwest-land-border-encounters-fy2026.pdf" in urls
    assert len(problems) == 3
    assert problems[0].startswith("articles[4]: duplicate of articles[0]: 'https://www.reuters.com/")
    assert problems[1].startswith("articles[5]: no url, using url_mobile 'https://www.jornada.com.mx/amp/")
    assert problems[2] == "articles[6]: no url"


def test_border_fixture_url_mobile_fallback_and_mangled_title() -> None:
    articles, _ = parse_artlist(fixture("artlist_border.json"))
    by_domain = {a.domain: a for a in articles}
    jornada = by_domain["jornada.com.mx"]
    assert jornada.url.startswith("https://www.jornada.com.mx/amp/noticia/2026/11/30/politica/")
    assert jornada.title == "SRE pide a EU respetar derechos de connacionales deportados"
    # the raw title is "Ciudad JuÃ¡rez : albergues al lÃ­mite por deportaciones , advierte la Iglesia"
    assert by_domain["diario.mx"].title == "Ciudad Juárez: albergues al límite por deportaciones, advierte la Iglesia"
    assert by_domain["infobae.com"].title == "¿Cuántos mexicanos fueron deportados en noviembre de 2026?"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("error_short_keyword.txt", "Your search contained a keyword that was too short."),
        ("error_or_parentheses.txt", "Queries containing OR'd terms must be surrounded by ()."),
        ("rate_limited.txt", "Please limit requests to one every 5 seconds."),
    ],
)
def test_gdelt_plain_text_errors_are_quoted(name: str, message: str) -> None:
    assert parse_artlist(fixture(name)) == ([], [f'GDELT answered with a message instead of JSON: "{message}"'])


def test_long_error_text_is_truncated_to_200_characters() -> None:
    text = "Your query was invalid because " + "x" * 500
    _, problems = parse_artlist(text.encode())
    assert problems == [f'GDELT answered with a message instead of JSON: "{text[:200]}" (truncated)']


def test_empty_answer_means_nothing_matched() -> None:
    articles, problems = parse_artlist(fixture("empty.json"))
    assert articles == []
    assert problems == ["no articles: GDELT answered {} (its answer when nothing matched)"]
    assert parse_artlist(b'{"articles": []}') == ([], [])


def test_invalid_escapes_and_control_characters_are_repaired() -> None:
    raw = fixture("artlist_bad_escapes.json")
    with pytest.raises(json.JSONDecodeError, match="Invalid \\\\escape"):
        json.loads(raw)  # the fixture really is the broken JSON GDELT sends
    articles, problems = parse_artlist(raw)
    assert [a.title for a in articles] == [
        'O\'Rourke critica el muro fronterizo: "una ofensa" para Texas',
        "Bridge of the Americas wait times climb after CBP's staffing cut",
    ]
    assert problems == [
        "repaired GDELT's invalid JSON (invalid backslash escapes and raw control characters in strings) before parsing"
    ]


def test_raw_control_characters_alone_are_repaired() -> None:
    raw = b'{"articles": [{"url": "https://www.kvia.com/news/border/a", "title": "Line one\nline two"}]}'
    articles, problems = parse_artlist(raw)
    assert articles[0].title == "Line one line two"
    assert problems == ["repaired GDELT's invalid JSON (raw control characters in strings) before parsing"]


# --- robustness --------------------------------------------------------------------------------------------------


def test_truncated_json_keeps_the_complete_articles() -> None:
    raw = fixture("artlist_border.json")
    cut = raw[: raw.index(b"https://www.texastribune.org") + 20]  # inside the tenth item
    articles, problems = parse_artlist(cut)
    assert [a.domain for a in articles][-1] == "cbp.gov"
    assert len(articles) == 7  # items 0-8, less the duplicate and the url-less one
    assert problems[0].startswith("invalid or truncated JSON (")
    assert problems[0].endswith("recovered 9 complete articles, the last one was cut off")
    assert "articles[4]: duplicate of articles[0]" in problems[1]


def test_one_broken_item_does_not_lose_its_neighbours() -> None:
    # a title whose inner quote GDELT wrote as \\" (jeroen/jsonlite#331): the string ends early
    raw = (
        b'{"articles": [{"url": "https://a.example/1", "title": "First"},\n'
        b' {"url": "https://a.example/2", "title": "Says \\\\"no\\\\" to the wall"},\n'
        b' {"url": "https://a.example/3", "title": "Third"}]}'
    )
    articles, problems = parse_artlist(raw)
    assert [a.url for a in articles] == ["https://a.example/1", "https://a.example/3"]
    assert problems[0].endswith("recovered 2 complete articles, skipped 1 unreadable")


def test_salvage_gives_up_on_a_body_of_broken_items() -> None:
    # each unreadable item costs a scan of the whole body; thousands of them must not take minutes
    broken = b'{"url": "https://a.example/1", "title": "a\\\\"b"}, '
    articles, problems = parse_artlist(b'{"articles": [' + broken * 100_000 + b"]}")
    assert articles == []
    assert len(problems) == 1
    assert problems[0].startswith("invalid or truncated JSON (Expecting ',' delimiter, char ")
    assert problems[0].endswith("); recovered 0 complete articles, gave up after 26 unreadable")


def test_unterminated_string_ends_the_salvage() -> None:
    raw = b'{"articles": [{"url": "https://a.example/1"}, {"url": "https://a.example/2", "title": "cut here}, {'
    articles, problems = parse_artlist(raw)
    assert [a.url for a in articles] == ["https://a.example/1"]
    assert problems[0].endswith("recovered 1 complete articles, the last one was cut off")


def test_html_error_page() -> None:
    page = (
        b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
        b"<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"
    )
    assert parse_artlist(page) == ([], ['HTML page instead of JSON (title: "502 Bad Gateway")'])
    assert parse_artlist(b"<html><body>oops</body></html>") == ([], ['HTML page instead of JSON (title: "")'])


def test_huge_body_is_refused_unparsed() -> None:
    articles, problems = parse_artlist(b" " * (MAX_BODY_BYTES + 1))
    assert articles == []
    assert problems == [f"body of {MAX_BODY_BYTES + 1} bytes is over the {MAX_BODY_BYTES} byte limit; not parsed"]
    at_limit = body({"url": "https://a.example/1"})
    articles, problems = parse_artlist(at_limit + b" " * (MAX_BODY_BYTES - len(at_limit)))
    assert [a.url for a in articles] == ["https://a.example/1"] and problems == []


def test_wrong_types_and_bad_urls_are_reported_item_by_item() -> None:
    raw = body(
        1,
        "https://a.example/string-item",
        None,
        [],
        {"url": 5},
        {"url": "ftp://a.example/file"},
        {"url": "javascript:alert(1)"},
        {"url": "file:///etc/passwd"},
        {"url": "https:///no-host"},
        {"url": "https://a.example:99999/bad-port"},
        {"url": "https://a.example/has space"},
        {"url": "https://a.example/" + "x" * 5000},
        {"url": "   "},
        {
            "url": "https://a.example/ok",
            "title": 7,
            "seendate": 20261130,
            "language": ["Spanish"],
            "domain": {},
            "sourcecountry": False,
        },
        {"url": "HTTPS://A.EXAMPLE/ok#comments"},
    )
    articles, problems = parse_artlist(raw)
    assert articles == [GdeltArticle("https://a.example/ok", None, None, "a.example", None, None)]
    assert problems == [
        "articles[0]: expected an object, got int",
        "articles[1]: expected an object, got str",
        "articles[2]: expected an object, got null",
        "articles[3]: expected an object, got list",
        "articles[4]: url is int, not a string; ignored",
        "articles[4]: no url",
        "articles[5]: not an http(s) url: 'ftp://a.example/file'",
        "articles[6]: not an http(s) url: 'javascript:alert(1)'",
        "articles[7]: not an http(s) url: 'file:///etc/passwd'",
        "articles[8]: url has no host: 'https:///no-host'",
        "articles[9]: malformed url: 'https://a.example:99999/bad-port'",
        "articles[10]: url contains whitespace or control characters: 'https://a.example/has space'",
        f"articles[11]: url longer than 4096 characters: {'https://a.example/' + 'x' * 102 + '...'!r}",
        "articles[12]: no url",
        "articles[13]: title is int, not a string; ignored",
        "articles[13]: domain is dict, not a string; ignored",
        "articles[13]: language is list, not a string; ignored",
        "articles[13]: sourcecountry is bool, not a string; ignored",
        "articles[13]: seendate is int, not a string; ignored",
        "articles[14]: duplicate of articles[13]: 'HTTPS://A.EXAMPLE/ok#comments'",
    ]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "empty body"),
        (b"  \n ", "empty body"),
        (b"null", 'GDELT answered with a message instead of JSON: "null"'),
        (b'"text"', 'GDELT answered with a message instead of JSON: ""text""'),
        (b"[]", "expected a JSON object with 'articles', got list"),
        (b'{"articles": {}}', "'articles' is dict, not a list"),
        (b'{"articles": "none"}', "'articles' is str, not a list"),
        (b'{"timeline": []}', "no 'articles' key in the answer (keys: timeline)"),
        (b"[" * 100_000, "invalid or truncated JSON (nested too deeply); recovered 0 complete articles"),
        (b'{"articles": [' + b"[" * 100_000, "invalid or truncated JSON"),
        (b'{"articles": [{"url": "https://a.example/1", "n": 1' + b"9" * 5000 + b"}]}", "invalid or truncated"),
        (b"{,}", "invalid or truncated JSON (Expecting property name enclosed in double quotes, char 1)"),
        (None, "body must be bytes, got null"),
        (12, "body must be bytes, got int"),
    ],
)
def test_never_raises_on_junk(raw: object, problem: str) -> None:
    articles, problems = parse_artlist(raw)  # type: ignore[arg-type]
    assert articles == []
    assert problems[0].startswith(problem)


def test_bad_utf8_and_byte_order_mark() -> None:
    raw = b'\xef\xbb\xbf{"articles": [{"url": "https://a.example/1", "title": "Migraci\xf3n"}]}'
    articles, problems = parse_artlist(raw)
    assert articles[0].title == "Migraci\ufffdn"
    bad = raw.index(b"\xf3")
    assert problems == [f"body is not valid UTF-8 (first bad byte at {bad}); bad bytes replaced"]


def test_problem_list_is_capped() -> None:
    _, problems = parse_artlist(body(*range(500)))
    assert len(problems) == 101 and problems[-1] == "... and 400 more problems"


def test_str_body_and_lone_surrogates() -> None:
    articles, problems = parse_artlist('{"articles": [{"url": "https://a.example/1", "title": "bad \\ud800 half"}]}')
    assert problems == []
    assert articles[0].title == "bad \ufffd half"
    articles[0].title.encode("utf-8")  # storable


# --- field conversions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seendate", "iso"),
    [
        ("20261130T120000Z", "2026-11-30T12:00:00+00:00"),
        ("20240229T231500Z", "2024-02-29T23:15:00+00:00"),
        (" 20261130T000000Z ", "2026-11-30T00:00:00+00:00"),
        ("20261130120000", "2026-11-30T12:00:00+00:00"),  # the YYYYMMDDHHMMSS form of startdatetime
        ("20250229T000000Z", None),  # not a leap year
        ("20261130T250000Z", None),
        ("2026-11-30T12:00:00Z", None),
        ("2026113T12000Z", None),
        ("", None),
    ],
)
def test_seendate_conversion(seendate: str, iso: str | None) -> None:
    assert seendate_to_iso(seendate) == iso


def test_unreadable_seendate_is_a_problem_not_a_failure() -> None:
    articles, problems = parse_artlist(body({"url": "https://a.example/1", "seendate": "yesterday"}))
    assert articles[0].seen_at is None
    assert problems == ["articles[0]: seendate 'yesterday' is not YYYYMMDDTHHMMSSZ"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("English", "en"),
        ("Spanish", "es"),
        (" spanish ", "es"),
        ("Portuguese", "pt"),
        ("French", "fr"),
        ("Chinese", "zh"),
        ("Nahuatl", "nahuatl"),
        ("Haitian  Creole", "haitian creole"),
    ],
)
def test_language_mapping(name: str, code: str) -> None:
    assert language_code(name) == code


def test_language_and_domain_in_parsed_articles() -> None:
    articles, _ = parse_artlist(
        body(
            {"url": "https://www.KTSM.com/news/border/a", "language": "Tagalog", "domain": ""},
            {"url": "https://b.example/2", "language": "  ", "domain": "B.Example"},
        )
    )
    assert [(a.language, a.domain) for a in articles] == [("tagalog", "ktsm.com"), (None, "b.example")]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Caso Ana María : Trasladan al penal", "Caso Ana María: Trasladan al penal"),
        ("Sujeto asesina a exnovia en Atizapán , Edomex", "Sujeto asesina a exnovia en Atizapán, Edomex"),
        ("MÃ©xico y EU ( otra vez )", "México y EU (otra vez)"),
        ("â€œMuroâ€\x9d de Trump", "\u201cMuro\u201d de Trump"),
        ("N\u00c3O vale", "N\u00c3O vale"),  # real Portuguese capitals stay as they are
        ("Q&amp;A: asylum &quot;metering&quot;", 'Q&A: asylum "metering"'),
        ("  tabs\tand\r\nnewlines  ", "tabs and newlines"),
        ("   ", None),
    ],
)
def test_title_cleaning(raw: str, clean: str | None) -> None:
    assert clean_title(raw) == clean


# --- a real HTTP round trip on 127.0.0.1 -------------------------------------------------------------------------


class _CannedGdelt(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        payload = fixture("artlist_border.json")
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def canned_gdelt() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CannedGdelt)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_fetch_from_a_local_server(canned_gdelt: ThreadingHTTPServer) -> None:
    host, port = canned_gdelt.server_address[:2]
    api = f"http://{host}:{port}/api/v2/doc/doc"
    url = build_query_url(BORDER_QUERY, api=api, timespan="24h", max_records=100)
    # no proxy from the environment: this request must go to 127.0.0.1 and nowhere else
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        assert response.status == 200
        raw = response.read()

    [path] = canned_gdelt.paths  # type: ignore[attr-defined]
    assert urlsplit(path).path == "/api/v2/doc/doc"
    assert params(path) == {
        "query": [BORDER_QUERY],
        "mode": ["ArtList"],
        "format": ["json"],
        "maxrecords": ["100"],
        "timespan": ["24h"],
        "sort": ["DateDesc"],
    }
    articles, problems = parse_artlist(raw)
    assert (articles, problems) == parse_artlist(fixture("artlist_border.json"))
    assert len(articles) == 12 and len(problems) == 3
