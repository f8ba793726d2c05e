"""Near-duplicate decisions on the labelled pairs: tests/fixtures/dedup/pairs.jsonl (264 pairs, typical wire
edits and hard negatives) and hard_pairs.jsonl (119 pairs derived from its stories: quarter-length briefs,
briefs under an outlet lede and rail, full copies under a long footer, and briefs of different stories under
one shared footer). Each method's threshold is chosen on the development halves only and precision/recall
are reported on the held-out halves, overall and per kind.

Texts are compared as the pipeline compares them: after per-outlet boilerplate learning (a line in at least
max(4, 10%) of an outlet's texts is removed, flows.boilerplate_store's rule). "cold_start" reports the same
without that step: an outlet's first few articles, before its footer is known.

Methods, all on the pipeline's normalised word 5-shingles: exact Jaccard and containment (what a sketch
estimates), SimHash (64-bit), and the pipeline's one-permutation MinHash estimates, gated by LSH candidates
as in production. Prints JSON.

Usage: .venv/bin/python bench/dedup_quality.py
"""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from flows import near_dup

# the pair sets' loader and the boilerplate-learning simulation live beside the data (the tests use them too)
_spec = importlib.util.spec_from_file_location(
    "pairset", Path(__file__).resolve().parents[1] / "tests/fixtures/dedup/pairset.py"
)
pairset = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pairset)  # type: ignore[union-attr]
load_pairs, learned_boilerplate = pairset.load_pairs, pairset.learned_boilerplate


def shingle_sets(texts: list[str]) -> list[set[int]]:
    out = []
    for text in texts:
        hashes, _ = near_dup._shingle_hashes([near_dup.normalise(text)])
        out.append(set(hashes.tolist()))
    return out


def simhash(shingles: set[int]) -> int:
    bits = np.zeros(64)
    for h in shingles:
        bits += np.where((h >> np.arange(64, dtype=np.uint64).astype(object)) & 1, 1, -1).astype(float)
    return int(sum(1 << i for i in range(64) if bits[i] > 0))


def choose(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """The middle of the range of thresholds with the best F1 on these pairs (as far from both sides' nearest
    pairs as the data allows)."""
    cuts = np.unique(scores)
    f1s = []
    for t in cuts:
        pred = scores >= t
        tp = (pred & (labels == 1)).sum()
        f1s.append(2 * tp / (pred.sum() + (labels == 1).sum()))
    best = np.flatnonzero(np.isclose(f1s, max(f1s)))
    first, last = best[0], best[-1]
    lower = cuts[first - 1] if first > 0 else cuts[first] - 0.01  # the highest score the threshold must exceed
    return float((lower + cuts[last]) / 2), float(lower), float(cuts[last])


def report(pred: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    tp = int((pred & (labels == 1)).sum())
    fp = int((pred & (labels == 0)).sum())
    fn = int((~pred & (labels == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3), "fp": fp, "fn": fn}


def evaluate(pairs: list[dict], dev: np.ndarray, texts: tuple[list[str], list[str]]) -> dict[str, object]:
    labels = np.array([p["label"] for p in pairs])
    a_texts, b_texts = texts
    sa, sb = shingle_sets(a_texts), shingle_sets(b_texts)
    inter = np.array([len(x & y) for x, y in zip(sa, sb, strict=True)])
    na, nb = np.array([len(x) for x in sa]), np.array([len(y) for y in sb])
    a, b = near_dup.signatures(a_texts), near_dup.signatures(b_texts)
    candidate = (a.band_keys() == b.band_keys()).any(axis=1)
    sim_a, sim_b = [simhash(x) for x in sa], [simhash(y) for y in sb]
    methods = {
        "exact_jaccard": inter / np.maximum(1, na + nb - inter),
        "exact_containment": inter / np.maximum(1, np.minimum(na, nb)),
        "simhash64": np.array([1 - bin(x ^ y).count("1") / 64 for x, y in zip(sim_a, sim_b, strict=True)]),
        "minhash_jaccard": near_dup.jaccard(a.values, b.values),
        "minhash_containment": near_dup.containment(a.values, b.values, a.shingles, b.shingles),
    }
    out: dict[str, object] = {
        "lsh_candidate_recall_positives": round(float(candidate[labels == 1].mean()), 3),
        "lsh_candidate_share_negatives": round(float(candidate[labels == 0].mean()), 3),
    }
    results = {}
    for name, scores in methods.items():
        t, above, up_to = choose(scores[dev], labels[dev])
        pred = scores >= t
        if name.startswith("minhash"):
            pred &= candidate  # production only compares LSH candidates
        results[name] = {
            "threshold_from_dev": round(t, 3),
            "dev_best_f1_range": f"> {above:.3f} and <= {up_to:.3f}",
            "dev": report(pred[dev], labels[dev]),
            "held_out": report(pred[~dev], labels[~dev]),
        }
    out["methods"] = results
    shipped = candidate & near_dup.is_copy(methods["minhash_containment"], a.shingles, b.shingles)
    kinds: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        kinds[f"{p['label']}:{p['kind']}"].append(i)
    out["pipeline"] = {
        "containment_threshold": near_dup.CONTAINMENT_THRESHOLD,
        "held_out": report(shipped[~dev], labels[~dev]),
        "held_out_264_set": report(shipped[~dev & is_main(pairs)], labels[~dev & is_main(pairs)]),
        "held_out_hard_set": report(shipped[~dev & ~is_main(pairs)], labels[~dev & ~is_main(pairs)]),
        "all": report(shipped, labels),
        "wrong_per_kind_all_pairs": {
            k: f"{int((~shipped[idx]).sum() if k.startswith('1') else shipped[idx].sum())} of {len(idx)}"
            for k, idx in sorted(kinds.items())
            if (shipped[idx] != (k.startswith("1"))).any()
        },
        "containment_range_per_kind": {
            k: [
                round(float(methods["minhash_containment"][idx].min()), 2),
                round(float(methods["minhash_containment"][idx].max()), 2),
            ]
            for k, idx in sorted(kinds.items())
        },
    }
    return out


def is_main(pairs: list[dict]) -> np.ndarray:
    return np.array([p["id"].startswith("p") for p in pairs])


def main() -> None:
    pairs, dev = load_pairs()
    labels = np.array([p["label"] for p in pairs])
    known = learned_boilerplate(pairs)
    raw = ([p["a"]["text"] for p in pairs], [p["b"]["text"] for p in pairs])
    learned = pairset.as_stored(pairs)
    out: dict[str, object] = {
        "pairs": len(pairs),
        "dev": {"pairs": int(dev.sum()), "positives": int(labels[dev].sum())},
        "held_out": {"pairs": int((~dev).sum()), "positives": int(labels[~dev].sum())},
        "lsh": {"bins": near_dup.NUM_BINS, "bands": near_dup.BANDS, "rows_per_band": near_dup.ROWS_PER_BAND},
        "boilerplate_lines_learned": {k: len(v) for k, v in known.items() if v},
        "as_the_pipeline_compares": evaluate(pairs, dev, learned),
        "cold_start_no_boilerplate_learned": evaluate(pairs, dev, raw),
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
