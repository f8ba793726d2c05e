-- Incremental crawling: what the crawler knows about each URL between runs, and per-source figures per run.
CREATE TABLE url_state (
    url_key         VARCHAR PRIMARY KEY,  -- canonical URL: the crawler's seen-set key
    url             VARCHAR NOT NULL,     -- the URL last requested
    source          VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    etag            VARCHAR,
    last_modified   VARCHAR,              -- the Last-Modified header, verbatim, for If-Modified-Since
    lastmod         TIMESTAMPTZ,          -- newest change date discovery reported (sitemap lastmod, feed updated)
    http_status     INTEGER,
    outcome         VARCHAR NOT NULL,
    fail_count      INTEGER NOT NULL DEFAULT 0,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_fetched_at TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR NOT NULL
);

CREATE TABLE source_runs (
    run_id          VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    discovered      INTEGER DEFAULT 0,
    skipped_known   INTEGER DEFAULT 0,
    offsite         INTEGER DEFAULT 0,
    over_limit      INTEGER DEFAULT 0,
    fetched         INTEGER DEFAULT 0,
    not_modified    INTEGER DEFAULT 0,
    articles_new    INTEGER DEFAULT 0,
    articles_updated INTEGER DEFAULT 0,
    articles_unchanged INTEGER DEFAULT 0,
    articles_duplicate INTEGER DEFAULT 0,
    articles_offtopic INTEGER DEFAULT 0,
    not_articles    INTEGER DEFAULT 0,
    errors          INTEGER DEFAULT 0,
    PRIMARY KEY (run_id, source)
);

ALTER TABLE crawl_runs ADD COLUMN skipped_known INTEGER DEFAULT 0;
ALTER TABLE crawl_runs ADD COLUMN not_modified INTEGER DEFAULT 0;
