-- Cleaning quality: wire credits, teaser/paywall flag, and per-source boilerplate statistics.
ALTER TABLE articles ADD COLUMN credits VARCHAR[];
ALTER TABLE articles ADD COLUMN is_partial BOOLEAN DEFAULT false;

CREATE TABLE boilerplate_lines (
    source          VARCHAR NOT NULL,
    line_key        VARCHAR NOT NULL,   -- hash of the normalised line
    line            VARCHAR NOT NULL,   -- the line as first seen
    articles        INTEGER NOT NULL,   -- distinct articles of the source whose extracted text had it
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, line_key)
);
