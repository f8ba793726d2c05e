"""Near-duplicate detection for wire copy: MinHash signatures, LSH band keys and the cluster decision.

Texts become word 5-shingles after folding case, accents and punctuation (an ASCII-only feed and a
curly-quote template give the same shingles). Each shingle is hashed once; the signature is a one-permutation
MinHash (Li, Owen & Zhang 2012): the hash space is cut into ``NUM_BINS`` bins and each bin keeps its smallest
value, empty bins borrow from the next filled one (rotation densification, Shrivastava & Li 2014). That is one
hash per shingle instead of one per shingle and permutation, which is what makes 100,000 articles a matter of
seconds in numpy. Two signatures agree in a bin with probability equal to the Jaccard similarity of the sets.

Copies are decided on estimated *containment* (shared shingles / shingles of the shorter text), not Jaccard: an
outlet's brief of the first half of a wire story is a copy, and containment keeps it near 1 while Jaccard
halves. LSH bands of ``ROWS_PER_BAND`` bins make candidate pairs; only candidates are compared.

Everything here is pure numpy and stable across processes and runs (no Python ``hash()``), because signatures
and band keys are stored and compared with those of later runs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

NUM_BINS = 128
ROWS_PER_BAND = 2
# LSH uses the first 64 bins (all 128 estimate the similarity): a candidate at Jaccard 0.35 is found with
# probability 1 - (1 - 0.35**2)**32 = 0.985, and the stored band rows a run's lookup scans are half of 64 bands'
BANDS = 32
SHINGLE_WORDS = 5
# texts with fewer shingles (~25 words) are too short to call a copy on shared wording alone
MIN_SHINGLES = 20
# estimated containment at or above which two texts are copies of one story. On the development halves of
# tests/fixtures/dedup/{pairs,hard_pairs}.jsonl every value in (0.275, 0.566] gives the best F1 (texts compared
# after boilerplate learning, as the pipeline does); 0.5 sits in the upper part because briefs of different
# stories under an outlet footer not yet learned reach 0.43-0.63. bench/dedup_quality.py reports held-out figures.
CONTAINMENT_THRESHOLD = 0.5

_EMPTY = np.uint64(np.iinfo(np.uint64).max)
_BASE = np.uint64(0x100000001B3)  # odd, so it has an inverse modulo 2**64
_BASE_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
_COMBINING = re.compile("[\u0300-\u036f]")
_NON_WORD = re.compile(r"[\W_]+")
_BATCH_BYTES = 2 << 20  # shingle this much normalised text per numpy pass


def normalise(text: str) -> str:
    """Lower case, accents and punctuation folded away, single spaces between words."""
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", text.lower()))
    return _NON_WORD.sub(" ", folded).strip()


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit reaches every output bit (the rolling hash alone does not)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _powers(base: np.uint64, n: int) -> np.ndarray:
    out = np.full(n, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)  # wraps modulo 2**64, as intended


def _shingle_hashes(docs: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every word 5-shingle of already normalised docs and the index of the doc each belongs to.

    A polynomial hash of the whole buffer, H[j] = sum c_i B^(j-1-i), makes the hash of any byte range [s, e)
    B^e (S[e] - S[s]) with S the prefix sum of c_i B^-(i+1): one cumulative sum for all shingles of all docs.
    """
    kept = [(i, d) for i, d in enumerate(docs) if d]
    if not kept:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    buf = np.frombuffer(" ".join(d for _, d in kept).encode("utf-8"), dtype=np.uint8)
    n = len(buf)
    spaces = np.flatnonzero(buf == 32)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [n]))
    words_per_doc = np.array([d.count(" ") + 1 for _, d in kept])
    word_doc = np.repeat(np.array([i for i, _ in kept]), words_per_doc)
    k = SHINGLE_WORDS
    if len(starts) < k:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    first, last = np.arange(len(starts) - k + 1), np.arange(k - 1, len(starts))
    same_doc = word_doc[first] == word_doc[last]
    s, e = starts[first[same_doc]], ends[last[same_doc]]
    c = buf.astype(np.uint64) + np.uint64(1)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(c * _powers(_BASE_INV, n + 1)[1:], out=prefix[1:])
    base_pow = _powers(_BASE, n + 1)
    hashes = base_pow[e] * (prefix[e] - prefix[s])
    return _mix(hashes), word_doc[first[same_doc]]


def _oph_signatures(hashes: np.ndarray, doc: np.ndarray, n_docs: int) -> np.ndarray:
    """One-permutation MinHash: (n_docs, NUM_BINS) uint32; a doc without shingles is all 0xFFFFFFFF."""
    bins = (hashes >> np.uint64(57)).astype(np.int64)  # top 7 bits pick the bin
    values = hashes & np.uint64((1 << 57) - 1)
    mins = np.full(n_docs * NUM_BINS, _EMPTY, dtype=np.uint64)
    np.minimum.at(mins, doc * NUM_BINS + bins, values)
    mins = mins.reshape(n_docs, NUM_BINS)
    empty = mins == _EMPTY
    filled = mins.copy()
    has_any = ~empty.all(axis=1)
    todo = empty & has_any[:, None]
    for step in range(1, NUM_BINS):  # rotation: an empty bin takes the next filled bin's value, marked by distance
        if not todo.any():
            break
        donor = np.roll(mins, -step, axis=1)
        take = todo & (donor != _EMPTY)
        filled[take] = _mix(donor[take] + np.uint64(step))
        todo &= ~take
    sig = (_mix(filled) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    sig[~has_any] = np.uint32(0xFFFFFFFF)
    return sig


@dataclass
class Signatures:
    """MinHash signatures of a batch of texts, row i for text i."""

    values: np.ndarray  # (n, NUM_BINS) uint32
    shingles: np.ndarray  # (n,) int64: number of shingle positions in each text

    def __len__(self) -> int:
        return len(self.shingles)

    def band_keys(self) -> np.ndarray:
        """(n, BANDS) uint64: one key per band; equal keys in the same band make a candidate pair."""
        v = self.values[:, : BANDS * ROWS_PER_BAND].astype(np.uint64).reshape(len(self), BANDS, ROWS_PER_BAND)
        key = np.arange(BANDS, dtype=np.uint64)[None, :] * np.uint64(0x9E3779B97F4A7C15)
        for r in range(ROWS_PER_BAND):
            key = _mix(key ^ v[:, :, r])
        return key

    def matchable(self) -> np.ndarray:
        return self.shingles >= MIN_SHINGLES


def signatures(texts: Sequence[str]) -> Signatures:
    """Signatures of raw texts (normalised here), batched so that memory stays flat for any number of texts."""
    docs = [normalise(t) for t in texts]
    values = np.empty((len(docs), NUM_BINS), dtype=np.uint32)
    shingles = np.zeros(len(docs), dtype=np.int64)
    start = 0
    while start < len(docs):
        stop, size = start, 0
        while stop < len(docs) and (size < _BATCH_BYTES or stop == start):
            size += len(docs[stop]) + 1
            stop += 1
        hashes, doc = _shingle_hashes(docs[start:stop])
        values[start:stop] = _oph_signatures(hashes, doc, stop - start)
        shingles[start:stop] = np.bincount(doc, minlength=stop - start)
        start = stop
    return Signatures(values, shingles)


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity of rows of a and b (same shape), the share of equal bins."""
    return (a == b).mean(axis=-1)


def containment(a: np.ndarray, b: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """Estimated share of the shorter text's shingles that the other text has: |A∩B| = J(|A|+|B|)/(1+J)."""
    j = jaccard(a, b)
    shared = j * (size_a + size_b) / (1.0 + j)
    return np.minimum(1.0, shared / np.maximum(1, np.minimum(size_a, size_b)))


def is_copy(score: np.ndarray | float, size_a: np.ndarray | int, size_b: np.ndarray | int) -> np.ndarray:
    return (np.asarray(score) >= CONTAINMENT_THRESHOLD) & (np.minimum(size_a, size_b) >= MIN_SHINGLES)


def batch_pairs(keys: np.ndarray, max_bucket: int = 64) -> np.ndarray:
    """Candidate pairs (i, j), i < j, among rows of one batch that share a band key.

    A bucket larger than ``max_bucket`` (the same story at very many outlets) links each member to the
    ``max_bucket`` members before it only: the cluster is still found through them, and the pair count stays
    linear in the batch.
    """
    n, bands = keys.shape
    flat = (keys ^ np.arange(bands, dtype=np.uint64)[None, :]).ravel()  # band keys already differ per band
    row = np.repeat(np.arange(n), bands)
    order = np.argsort(flat, kind="stable")
    flat, row = flat[order], row[order]
    pairs = []
    for lag in range(1, max_bucket + 1):
        same = flat[lag:] == flat[:-lag]
        if not same.any():
            break
        pairs.append(np.stack((row[:-lag][same], row[lag:][same]), axis=1))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    out = np.concatenate(pairs)
    out = out[out[:, 0] != out[:, 1]]
    out.sort(axis=1)
    return np.unique(out, axis=0)


@dataclass
class NewDoc:
    """An article that needs a cluster: stored copies and earlier new docs of the run are its candidates."""

    article_id: str
    cluster_id: str | None  # already known (an exact copy or an existing article): kept, never changed


@dataclass
class StoredMatch:
    """A stored article whose band key equals one of a new doc's band keys."""

    new_index: int
    article_id: str
    cluster_id: str
    shingles: int
    signature: np.ndarray  # (NUM_BINS,) uint32


def assign_clusters(
    docs: Sequence[NewDoc],
    sigs: Signatures,
    lookup: Callable[[list[tuple[int, str, np.ndarray]]], list[StoredMatch]],
) -> list[tuple[str, str | None, float]]:
    """(cluster_id, matched article_id, containment) for each doc, in order.

    ``docs`` come in precedence order (earliest first): a doc joins the cluster of its most similar copy among
    stored articles and the docs before it, or starts its own cluster named after itself. Existing clusters are
    never renamed or merged, so a cluster_id an analyst has seen stays valid.
    ``lookup`` receives (doc index, article_id, band keys) for every matchable doc and returns the stored
    articles that share a band key (the database does this as a join).
    """
    keys = sigs.band_keys()
    ok = sigs.matchable()
    best: list[tuple[float, str, str] | None] = [None] * len(docs)  # (score, cluster_id, article_id)

    def offer(i: int, score: float, cluster: str, article: str) -> None:
        cur = best[i]  # the most similar copy wins; the smaller article id breaks a tie, so order does not matter
        if cur is None or (-score, article) < (-cur[0], cur[2]):
            best[i] = (score, cluster, article)

    queries = [(i, d.article_id, keys[i]) for i, d in enumerate(docs) if ok[i] and d.cluster_id is None]
    stored = lookup(queries) if queries else []
    if stored:
        idx = np.array([m.new_index for m in stored])
        other = np.stack([m.signature for m in stored])
        size = np.array([m.shingles for m in stored])
        score = containment(sigs.values[idx], other, sigs.shingles[idx], size)
        copy = is_copy(score, sigs.shingles[idx], size)
        for m, s, c in zip(stored, score, copy, strict=True):
            if c:
                offer(m.new_index, float(s), m.cluster_id, m.article_id)
    pairs = batch_pairs(keys[ok]) if ok.sum() > 1 else np.empty((0, 2), dtype=np.int64)
    later: dict[int, list[tuple[int, float]]] = {}
    if len(pairs):
        rows = np.flatnonzero(ok)
        i, j = rows[pairs[:, 0]], rows[pairs[:, 1]]
        score = containment(sigs.values[i], sigs.values[j], sigs.shingles[i], sigs.shingles[j])
        copy = is_copy(score, sigs.shingles[i], sigs.shingles[j])
        for a, b, s in zip(i[copy], j[copy], score[copy], strict=True):
            later.setdefault(int(b), []).append((int(a), float(s)))
    out: list[tuple[str, str | None, float]] = []
    for n, d in enumerate(docs):
        if d.cluster_id is not None:
            out.append((d.cluster_id, None, 1.0))
            continue
        for a, s in later.get(n, []):
            offer(n, s, out[a][0], docs[a].article_id)
        pick = best[n]
        out.append((pick[1], pick[2], pick[0]) if pick else (d.article_id, None, 0.0))
    return out
