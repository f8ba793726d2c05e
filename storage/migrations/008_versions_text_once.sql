-- The current text of an article is stored once, in articles: version rows move to article_history, whose
-- text is NULL while it equals the article's current text (it is filled in before that text changes), and
-- article_versions becomes a view with the same columns as the table it replaces.
CREATE TABLE article_history (
    article_id   VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    fetched_at   TIMESTAMPTZ,
    title        VARCHAR,
    text         VARCHAR,   -- NULL: the same as articles.text of this article at this version
    content_hash VARCHAR,
    run_id       VARCHAR,
    PRIMARY KEY (article_id, version)
);
INSERT INTO article_history
SELECT v.article_id, v.version, v.fetched_at, v.title,
       -- only a text the article row holds verbatim is left out, so every stored text survives
       CASE WHEN a.text IS NOT NULL AND v.text = a.text THEN NULL ELSE v.text END,
       v.content_hash, v.run_id
FROM article_versions AS v
LEFT JOIN articles AS a ON a.article_id = v.article_id AND a.version = v.version
ORDER BY v.article_id, v.version;
DROP TABLE article_versions;

CREATE VIEW article_versions AS
SELECT h.article_id, h.version, h.fetched_at, h.title, coalesce(h.text, a.text) AS text, h.content_hash, h.run_id
FROM article_history AS h
LEFT JOIN articles AS a ON h.text IS NULL AND a.article_id = h.article_id AND a.version = h.version;
