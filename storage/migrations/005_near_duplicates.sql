-- Near-duplicate index: a MinHash signature per stored article and its LSH band keys, so that matching a run's
-- new articles against the whole corpus is a join on band_key whose cost follows the new articles.
CREATE TABLE article_minhash (
    article_id VARCHAR PRIMARY KEY,
    doc        INTEGER NOT NULL,   -- compact number the band rows point at (kept when the signature changes)
    shingles   INTEGER NOT NULL,   -- word 5-shingles in the cleaned text
    signature  BLOB NOT NULL       -- 128 one-permutation MinHash values, uint32 little-endian
);

CREATE TABLE minhash_bands (
    band_key UBIGINT NOT NULL,     -- hash of (band number, the band's 2 signature values)
    doc      INTEGER NOT NULL
);
