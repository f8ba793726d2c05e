-- The first schema: runs, every fetched page with its outcome, and one row per on-topic article.
CREATE TABLE crawl_runs (
    run_id              VARCHAR PRIMARY KEY,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    status              VARCHAR NOT NULL,
    sources             VARCHAR[],
    pages_fetched       INTEGER DEFAULT 0,
    articles_new        INTEGER DEFAULT 0,
    articles_updated    INTEGER DEFAULT 0,
    articles_unchanged  INTEGER DEFAULT 0,
    articles_duplicate  INTEGER DEFAULT 0,
    articles_offtopic   INTEGER DEFAULT 0,
    not_articles        INTEGER DEFAULT 0,
    errors              INTEGER DEFAULT 0,
    duration_s          DOUBLE,
    message             VARCHAR
);

CREATE TABLE pages (
    run_id          VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    final_url       VARCHAR,
    source          VARCHAR,
    kind            VARCHAR,
    http_status     INTEGER,
    outcome         VARCHAR NOT NULL,
    reason          VARCHAR,
    fetched_at      TIMESTAMPTZ,
    content_type    VARCHAR,
    canonical_url   VARCHAR,
    article_id      VARCHAR,
    title           VARCHAR,
    relevance       DOUBLE,
    relevance_terms VARCHAR[],
    warc_file       VARCHAR,
    warc_offset     BIGINT,
    PRIMARY KEY (run_id, url)
);

CREATE TABLE articles (
    article_id      VARCHAR PRIMARY KEY,
    url             VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    title           VARCHAR,
    authors         VARCHAR[],
    published_at    TIMESTAMPTZ,
    modified_at     TIMESTAMPTZ,
    language        VARCHAR,
    text            VARCHAR,
    word_count      INTEGER,
    relevance       DOUBLE,
    relevance_terms VARCHAR[],
    cluster_id      VARCHAR,
    content_hash    VARCHAR,
    first_seen_at   TIMESTAMPTZ,
    last_seen_at    TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ,
    version         INTEGER DEFAULT 1,
    run_id          VARCHAR
);
