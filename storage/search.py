"""Full-text search: BM25 over articles' title and text, English and Spanish stemming, refreshed incrementally.

Why not `PRAGMA create_fts_index`: over 100,000 articles it took 85 s and 3 GB, cannot be updated, and
answered in 0.3-1.1 s. Here the fts extension (shipped by the `duckdb-extension-fts` wheel, loaded from
its file: nothing is downloaded) supplies only Snowball `stem()`; the inverted index is ours:

- `search_docs`: one row per indexed article (its number, stemming language, length, filter columns);
- `search_postings`: per term and segment, the documents holding it and the term frequencies.

A refresh indexes only new and changed articles, as a new segment; small segments are merged now and then
(amortised cost that follows the new articles, not the corpus). A query reads only its terms' rows.
User input only ever reaches DuckDB as a bound parameter.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

K1 = 1.2  # BM25's usual constants
B = 0.75
CHUNK_DOCS = 20_000  # articles tokenised per segment: bounds memory of a first, full build
SMALL_SHARE = 0.1  # a segment under this share of the live documents is "small"
MAX_SMALL_SEGMENTS = 8  # ...and this many small ones are merged into one
MAX_SEGMENTS = 16  # beyond this, everything is merged (which also drops postings of changed articles)

# letters and digits make a word; accents are kept for the stemmer and stripped after it
SPLIT = "[^0-9a-zß-ÿ]+"  # Latin letters: English and Spanish (RE2 \\p{L} classes are 2x slower)
LANG_KEY = "CASE WHEN {c} IN ('en', 'es') THEN {c} ELSE 'xx' END"
STEMMER = "CASE {c} WHEN 'en' THEN 'english' WHEN 'es' THEN 'spanish' ELSE 'none' END"

STOPWORDS = sorted(
    set(
        # English
        "a an and are as at be been but by for from had has have he her his i in is it its of on or our she "
        "that the their them they this to was we were what when which who will with would you not no do did "
        "than then there these those so if into about after before over up out also can could may said says "
        # Spanish
        "al como con de del el en era es esta este ha han la las le les lo los mas muy no nos o para pero por "
        "que se ser si sin sobre su sus un una unos unas y ya e u este esta estos estas fue son hay dijo entre "
        "tambien cuando donde desde hasta porque ante".split()
    )
)


class SearchUnavailable(RuntimeError):
    """The fts extension file is missing: the `duckdb-extension-fts` wheel is not installed for this duckdb."""


def fts_extension_file(con: duckdb.DuckDBPyConnection) -> Path:
    """The extension inside the installed wheel, for exactly the running duckdb version."""
    try:
        import duckdb_extension_fts
    except ImportError as exc:
        raise SearchUnavailable("the duckdb-extension-fts package is not installed") from exc
    version = con.execute("PRAGMA version").fetchone()[0]  # e.g. v1.5.5: the wheel's folder name
    path = Path(duckdb_extension_fts.__file__).parent / "extensions" / version / "fts.duckdb_extension"
    if not path.is_file():
        raise SearchUnavailable(f"no fts extension for duckdb {version} at {path}")
    return path


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load the fts extension from the wheel's file. The wheel's own helper `INSTALL`s it into
    ~/.duckdb first; loading the file directly does the same without writing to the home folder."""
    if con.execute("SELECT count(*) FROM duckdb_extensions() WHERE extension_name = 'fts' AND loaded").fetchone()[0]:
        return
    con.execute("SET autoinstall_known_extensions = false")  # never reach for the network
    path = str(fts_extension_file(con)).replace("'", "''")  # LOAD takes no parameters; the path is ours
    con.execute(f"LOAD '{path}'")


# -- refresh -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshStats:
    removed: int  # documents dropped (article gone or changed)
    added: int  # documents indexed
    merged_segments: int
    seconds: float


def refresh_index(con: duckdb.DuckDBPyConnection, chunk_docs: int = CHUNK_DOCS) -> RefreshStats:
    """Bring the index in line with `articles`, atomically: drop documents whose article is gone or changed
    (title, text, language, source, date), index the new and changed articles, merge small segments."""
    t0 = time.perf_counter()
    load_fts(con)
    con.execute("BEGIN TRANSACTION")
    try:
        removed = _drop_stale(con)
        ids = [
            r[0]
            for r in con.execute(
                "SELECT article_id FROM articles a WHERE NOT EXISTS "
                "(SELECT 1 FROM search_docs d WHERE d.article_id = a.article_id) ORDER BY article_id"
            ).fetchall()
        ]
        for start in range(0, len(ids), chunk_docs):
            _index_chunk(con, ids[start : start + chunk_docs])
        merged = _merge_segments(con)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return RefreshStats(removed, len(ids), merged, time.perf_counter() - t0)


def _drop_stale(con: duckdb.DuckDBPyConnection) -> int:
    # their postings stay behind, dead (no search_docs row joins them), until a merge rewrites the segment
    row = con.execute(
        f"""
        DELETE FROM search_docs WHERE doc IN (
            SELECT d.doc FROM search_docs d LEFT JOIN articles a USING (article_id)
            WHERE a.article_id IS NULL
               OR a.content_hash IS DISTINCT FROM d.content_hash OR a.title IS DISTINCT FROM d.title
               OR {LANG_KEY.format(c="a.language")} <> d.lang OR a.source IS DISTINCT FROM d.source
               OR coalesce(a.published_at, a.first_seen_at) IS DISTINCT FROM d.dated_at)
        RETURNING doc
        """
    ).fetchall()
    return len(row)


def _index_chunk(con: duckdb.DuckDBPyConnection, ids: list[str]) -> None:
    segment = con.execute(  # never a number still held by (dead) postings
        "SELECT coalesce(greatest((SELECT max(segment) FROM search_docs), "
        "(SELECT max(segment) FROM search_postings)), 0) + 1"
    ).fetchone()[0]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE search_new AS
        SELECT nextval('search_doc_seq')::INTEGER AS doc, article_id, {LANG_KEY.format(c="language")} AS lang,
               source, coalesce(published_at, first_seen_at) AS dated_at, title, content_hash,
               -- the title is counted twice: a word in the headline says more than one in the tail
               coalesce(title, '') || ' ' || coalesce(title, '') || ' ' || coalesce(text, '') AS body
        FROM articles WHERE article_id IN (SELECT unnest(?::VARCHAR[]))
        """,
        [ids],
    )
    # term frequencies per document; each distinct (language, word) is stemmed once
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE search_tf AS
        WITH words AS (
            SELECT doc, lang, unnest(regexp_split_to_array(lower(body), '{SPLIT}')) AS word FROM search_new
        ), counted AS (
            SELECT doc, lang, word, count(*)::INTEGER AS tf FROM words
            WHERE word <> '' AND length(word) <= 40 AND word NOT IN (SELECT unnest(?::VARCHAR[]))
            GROUP BY ALL
        ), stems AS (
            SELECT lang, word, lang || ':' || strip_accents(stem(word, {STEMMER.format(c="lang")})) AS term
            FROM (SELECT DISTINCT lang, word FROM counted)
        )
        SELECT c.doc, s.term, sum(c.tf)::INTEGER AS tf FROM counted c JOIN stems s USING (lang, word) GROUP BY ALL
        """,
        [STOPWORDS],
    )
    con.execute(
        """
        INSERT INTO search_docs
        SELECT n.doc, n.article_id, n.lang, coalesce(t.len, 0), ?, n.source, n.dated_at, n.title, n.content_hash
        FROM search_new n LEFT JOIN (SELECT doc, sum(tf)::INTEGER AS len FROM search_tf GROUP BY doc) t USING (doc)
        """,
        [segment],
    )
    con.execute(
        # one list of (doc, tf) pairs, unordered: an ordered list() aggregate costs 15x more
        "INSERT INTO search_postings SELECT term, ?, list({'doc': doc, 'tf': tf}) FROM search_tf GROUP BY term",
        [segment],
    )
    con.execute("DROP TABLE search_new")
    con.execute("DROP TABLE search_tf")


def _merge_segments(con: duckdb.DuckDBPyConnection) -> int:
    """Merge small segments (or all, when there are many) into one, dropping dead postings on the way."""
    sizes = dict(con.execute("SELECT segment, count(*) FROM search_postings GROUP BY segment").fetchall())
    live = dict(con.execute("SELECT segment, count(*) FROM search_docs GROUP BY segment").fetchall())
    total = sum(live.values())
    if len(sizes) > MAX_SEGMENTS:
        chosen = list(sizes)
    else:
        chosen = [s for s in sizes if live.get(s, 0) < SMALL_SHARE * total]
        if len(chosen) <= MAX_SMALL_SEGMENTS:
            return 0
    target = max(sizes) + 1
    con.execute(
        """
        INSERT INTO search_postings
        SELECT term, ?, list(p)
        FROM (SELECT term, unnest(postings) AS p
              FROM search_postings WHERE segment IN (SELECT unnest(?::INTEGER[])))
        WHERE p.doc IN (SELECT doc FROM search_docs)
        GROUP BY term
        """,
        [target, chosen],
    )
    con.execute("DELETE FROM search_postings WHERE segment IN (SELECT unnest(?::INTEGER[]))", [chosen])
    con.execute("UPDATE search_docs SET segment = ? WHERE segment IN (SELECT unnest(?::INTEGER[]))", [target, chosen])
    return len(chosen)


def _require_index(con: duckdb.DuckDBPyConnection) -> None:
    found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'search_postings'").fetchone()[0]
    if not found:
        raise SearchUnavailable("this database has no search index yet: the next `borderwatch run` creates it")


def index_lag(con: duckdb.DuckDBPyConnection) -> int:
    """Articles not (yet) in the index: the next run's refresh will add them."""
    _require_index(con)
    return con.execute("SELECT count(*) FROM articles ANTI JOIN search_docs USING (article_id)").fetchone()[0]


# -- query ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    score: float
    article_id: str
    title: str | None
    source: str
    language: str | None
    published_at: datetime | None
    url: str
    snippet: str


SEARCH_SQL = f"""
WITH words AS (
    SELECT DISTINCT w AS word FROM unnest(regexp_split_to_array(lower($query), '{SPLIT}')) AS t(w)
    WHERE w <> '' AND length(w) <= 40 AND w NOT IN (SELECT unnest($stopwords::VARCHAR[]))
), langs AS (
    SELECT lang, count(*) AS n, avg(len) AS avgdl FROM search_docs GROUP BY lang
), qterms AS (
    SELECT DISTINCT l.lang || ':' || strip_accents(stem(w.word, {STEMMER.format(c="l.lang")})) AS term
    FROM words w CROSS JOIN langs l
), hits AS (
    SELECT term, unnest(postings) AS p FROM search_postings WHERE term IN (SELECT term FROM qterms)
), live AS (
    SELECT h.term, h.p.tf AS tf, d.doc, d.article_id, d.lang, d.len, d.source, d.dated_at
    FROM hits h JOIN search_docs d ON d.doc = h.p.doc
), df AS (
    SELECT term, count(*) AS df FROM live GROUP BY term
), scored AS (
    SELECT l.article_id,
           sum(ln(1 + (s.n - df.df + 0.5) / (df.df + 0.5))
               * l.tf * ({K1} + 1) / (l.tf + {K1} * (1 - {B} + {B} * l.len / s.avgdl))) AS score
    FROM live l JOIN df USING (term) JOIN langs s USING (lang)
    WHERE ($since::TIMESTAMPTZ IS NULL OR l.dated_at >= $since::TIMESTAMPTZ)
      AND ($source::VARCHAR IS NULL OR l.source = $source::VARCHAR)
      AND ($lang::VARCHAR IS NULL OR l.lang = $lang::VARCHAR)
    GROUP BY l.article_id
    ORDER BY score DESC, l.article_id
    LIMIT $limit
)
SELECT s.score, a.article_id, a.title, a.source, a.language, a.published_at, a.url, a.text,
       (SELECT list(DISTINCT split_part(term, ':', 2)) FROM qterms) AS stems
FROM scored s JOIN articles a USING (article_id)
ORDER BY s.score DESC, a.article_id
"""


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    since: date | datetime | None = None,
    source: str | None = None,
    lang: str | None = None,
    limit: int = 10,
) -> list[Hit]:
    """Articles ranked by BM25 for the query's words (any of them; more and rarer ones rank higher)."""
    _require_index(con)
    load_fts(con)
    if isinstance(since, date) and not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day)
    lang_key = None if lang is None else (lang if lang in ("en", "es") else "xx")
    rows = con.execute(
        SEARCH_SQL,
        {
            "query": query,
            "stopwords": STOPWORDS,
            "since": since,
            "source": source,
            "lang": lang_key,
            "limit": limit,
        },
    ).fetchall()
    return [
        Hit(score, aid, title, src, language, published, url, snippet(text or "", stems or []))
        for score, aid, title, src, language, published, url, text, stems in rows
    ]


def snippet(text: str, stems: list[str], width: int = 30) -> str:
    """About `width` words of the text around the first word that starts with one of the query's stems."""
    words = text.split()
    plain = [_fold(re.sub(r"\W+", "", w)) for w in words]
    first = next((i for i, w in enumerate(plain) if w and any(w.startswith(s) for s in stems if s)), 0)
    start = max(0, first - width // 3)
    out = " ".join(words[start : start + width])
    return ("… " if start else "") + out + (" …" if start + width < len(words) else "")


def _fold(word: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if unicodedata.category(c) != "Mn")


def index_size(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    docs, segments, terms = con.execute(
        "SELECT (SELECT count(*) FROM search_docs), (SELECT count(DISTINCT segment) FROM search_postings), "
        "(SELECT count(*) FROM search_postings)"
    ).fetchone()
    return {"docs": docs, "segments": segments, "posting_rows": terms}
