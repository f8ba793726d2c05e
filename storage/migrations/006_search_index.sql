-- Full-text search: our own BM25 inverted index over articles' title and text, refreshed incrementally after
-- each load (storage/search.py). The fts extension is used only for its Snowball stem() function.
CREATE SEQUENCE search_doc_seq START 1;  -- document numbers are never reused: dead postings must stay dead

CREATE TABLE search_docs (
    doc          INTEGER NOT NULL,   -- compact number the postings point at; a changed article gets a new one
    article_id   VARCHAR NOT NULL,
    lang         VARCHAR NOT NULL,   -- stemming language: 'en', 'es', or 'xx' (not stemmed)
    len          INTEGER NOT NULL,   -- indexed terms in title (counted twice) and text
    segment      INTEGER NOT NULL,   -- the postings segment holding its terms
    source       VARCHAR,
    dated_at     TIMESTAMPTZ,        -- published_at, else first_seen_at: what --since filters on
    title        VARCHAR,            -- title and content_hash as indexed: a difference means "re-index"
    content_hash VARCHAR
);

CREATE TABLE search_postings (
    term    VARCHAR NOT NULL,        -- '<lang>:<stem>', e.g. 'es:migracion'
    segment INTEGER NOT NULL,        -- one refresh (or merge) writes one segment
    postings STRUCT(doc INTEGER, tf INTEGER)[] NOT NULL  -- the documents holding the term, with its frequency
);
