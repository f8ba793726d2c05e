"""The near-duplicate index in DuckDB: signatures, LSH band keys, and candidate lookup as a join.

A run's new articles arrive as (query number, article_id, band keys). The join against ``minhash_bands`` yields
the stored articles sharing a band key; DuckDB builds its hash table on the run's side and streams the stored
side, so the cost follows the run's articles (plus one scan of a narrow integer table), not a per-pair loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa


@dataclass
class MinhashRows:
    """Signatures to store (new, changed or backfilled articles), one row per article."""

    article_ids: list[str]
    shingles: np.ndarray  # (n,) int
    signatures: np.ndarray  # (n, bins) uint32
    band_keys: np.ndarray  # (n, bands) uint64

    def __len__(self) -> int:
        return len(self.article_ids)

    def __add__(self, other: MinhashRows) -> MinhashRows:
        """Both sets of rows; for an article in both, the first set's row (the fresher text) is kept."""
        ids = self.article_ids + other.article_ids
        first: dict[str, int] = {}
        for i, a in enumerate(ids):
            first.setdefault(a, i)
        keep = np.array(sorted(first.values()), dtype=np.int64)
        return MinhashRows(
            [ids[i] for i in keep],
            np.concatenate([self.shingles, other.shingles])[keep],
            np.concatenate([self.signatures, other.signatures])[keep],
            np.concatenate([self.band_keys, other.band_keys])[keep],
        )


def band_matches(
    con: duckdb.DuckDBPyConnection, queries: list[tuple[int, str, np.ndarray]]
) -> list[tuple[int, str, str, int, np.ndarray]]:
    """(query number, article_id, cluster_id, shingles, signature) of stored articles sharing a band key with a
    query; an article never matches its own stored signature."""
    if not queries:
        return []
    bands = len(queries[0][2])
    q = pa.table(  # noqa: F841 - read by DuckDB through the replacement scan
        {
            "q": np.repeat(np.array([i for i, _, _ in queries], dtype=np.int32), bands),
            "band_key": np.concatenate([k for _, _, k in queries]).astype(np.uint64),
        }
    )
    # two steps, so that the wide signature column is read for the matched docs only: the band join yields
    # (query, doc) pairs; doc numbers grow with insertion, so DuckDB's zone maps skip most of article_minhash
    hits = set(con.execute("SELECT q.q, b.doc FROM q JOIN minhash_bands AS b USING (band_key)").fetchall())
    if not hits:
        return []
    docs = sorted({doc for _, doc in hits})
    self_ids = {i: article_id for i, article_id, _ in queries}
    stored = {
        doc: (article_id, cluster_id, shingles, np.frombuffer(sig, dtype="<u4"))
        for doc, article_id, cluster_id, shingles, sig in con.execute(
            "SELECT m.doc, m.article_id, a.cluster_id, m.shingles, m.signature "
            "FROM article_minhash AS m JOIN articles AS a USING (article_id) "
            "WHERE m.doc IN (SELECT unnest(?::INTEGER[]))",
            [docs],
        ).fetchall()
    }
    out = [(q_, *stored[doc]) for q_, doc in hits if doc in stored and stored[doc][0] != self_ids[q_]]
    return sorted(out, key=lambda row: (row[0], row[1]))


def articles_without_signature(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(article_id, text) of stored articles the index lacks: those stored before it existed."""
    return con.execute(
        "SELECT a.article_id, coalesce(a.text, '') FROM articles AS a ANTI JOIN article_minhash AS m "
        "USING (article_id) ORDER BY a.article_id"
    ).fetchall()


def write_index(con: duckdb.DuckDBPyConnection, rows: MinhashRows) -> None:
    """Store signatures and band keys, replacing an article's earlier ones; call inside the load transaction."""
    if not len(rows):
        return
    bands = rows.band_keys.shape[1]
    sig_table = pa.table(  # noqa: F841
        {
            "article_id": pa.array(rows.article_ids, pa.string()),
            "shingles": pa.array(rows.shingles.astype(np.int32)),
            "signature": pa.array([s.astype("<u4").tobytes() for s in rows.signatures], pa.binary()),
        }
    )
    band_table = pa.table(  # noqa: F841
        {
            "article_id": np.repeat(np.array(rows.article_ids, dtype=object), bands),
            "band_key": rows.band_keys.astype(np.uint64).ravel(),
        }
    )
    # a changed article's old band rows go; the delete scans the band table, so only when there are some
    replaced = [
        d
        for (d,) in con.execute(
            "SELECT m.doc FROM article_minhash AS m JOIN sig_table AS s USING (article_id)"
        ).fetchall()
    ]
    if replaced:
        con.execute("DELETE FROM minhash_bands WHERE doc IN (SELECT unnest(?::INTEGER[]))", [replaced])
    con.execute(
        """
        INSERT INTO article_minhash
        SELECT article_id,
               (SELECT coalesce(max(doc), 0) FROM article_minhash) + row_number() OVER (ORDER BY article_id),
               shingles, signature
        FROM sig_table
        ON CONFLICT (article_id) DO UPDATE SET shingles = excluded.shingles, signature = excluded.signature
        """
    )
    con.execute(
        "INSERT INTO minhash_bands SELECT b.band_key, m.doc FROM band_table AS b JOIN article_minhash AS m "
        "USING (article_id)"
    )
