-- Every real change of an article is kept; every URL an article was seen at is recorded; clusters of copies.
CREATE TABLE article_versions (
    article_id   VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    fetched_at   TIMESTAMPTZ,
    title        VARCHAR,
    text         VARCHAR,
    content_hash VARCHAR,
    run_id       VARCHAR,
    PRIMARY KEY (article_id, version)
);
INSERT INTO article_versions
SELECT article_id, version, coalesce(updated_at, first_seen_at), title, text, content_hash, run_id FROM articles;

CREATE TABLE article_urls (
    article_id    VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,
    source        VARCHAR,
    first_seen_at TIMESTAMPTZ,
    last_seen_at  TIMESTAMPTZ,
    PRIMARY KEY (article_id, url)
);
INSERT INTO article_urls SELECT article_id, url, source, first_seen_at, last_seen_at FROM articles;

CREATE VIEW clusters AS
SELECT cluster_id,
       count(*) AS size,
       min(first_seen_at) AS first_seen,
       list(DISTINCT source ORDER BY source) AS outlets,
       arg_min(title, first_seen_at) AS representative_title
FROM articles
GROUP BY cluster_id;
