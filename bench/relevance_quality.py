"""Quality and speed of the topic relevance scorer (flows/relevance.py + flows/topics/border_policy.toml).

Prints JSON: precision/recall/F1 overall, per language and per half of tests/fixtures/relevance/eval_set.jsonl
(sha256(id) parity: even = tune, odd = report), the false-positive rate per tricky negative kind, the threshold
chosen on the tune half, the same figures on the labelled pages of the extraction benchmark (optional: skipped when
the folder is missing), and the scoring speed on one core.

    .venv/bin/python bench/relevance_quality.py [--eval-dir DIR] [--threshold 0.5] [--errors]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.relevance import load_topic, score  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "relevance"
DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval" / "extraction"
DEFAULT_THRESHOLD = 0.5
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def half(item_id: str) -> str:
    return "tune" if hashlib.sha256(item_id.encode("utf-8")).digest()[-1] % 2 == 0 else "report"


def load_eval_set() -> list[dict]:
    with open(FIXTURES / "eval_set.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_shared(eval_dir: Path) -> list[dict]:
    """The labelled pages: articleBody from ground-truth.json as text, the page <title> as title."""
    labels = json.loads((FIXTURES / "shared_pages_labels.json").read_text(encoding="utf-8"))
    truth = json.loads((eval_dir / "ground-truth.json").read_text(encoding="utf-8"))
    items = []
    for page_id, lab in sorted(labels.items()):
        title = ""
        page = eval_dir / "html" / f"{page_id}.html.gz"
        if page.is_file():
            raw = gzip.decompress(page.read_bytes()).decode("utf-8", "replace")
            if m := _TITLE.search(raw):
                title = " ".join(html.unescape(m[1]).split())
        body = truth.get(page_id, {}).get("articleBody", "")
        items.append({"id": page_id, "title": title, "text": body, **lab})
    return items


def metrics(rows: list[tuple[int, float]], threshold: float) -> dict:
    tp = sum(1 for y, s in rows if y and s >= threshold)
    fp = sum(1 for y, s in rows if not y and s >= threshold)
    fn = sum(1 for y, s in rows if y and s < threshold)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "n": len(rows),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(f1, 3),
    }


def report(items: list[dict], scores: list[float], threshold: float) -> dict:
    rows = [(it["label"], s) for it, s in zip(items, scores, strict=True)]
    out = {"all": metrics(rows, threshold)}
    for lang in sorted({it["language"] for it in items}):
        out[lang] = metrics([r for it, r in zip(items, rows, strict=True) if it["language"] == lang], threshold)
    fpr = {}
    for kind in sorted({it["kind"] for it in items if it["label"] == 0}):
        neg = [s for it, s in zip(items, scores, strict=True) if it["label"] == 0 and it["kind"] == kind]
        fpr[kind] = {"n": len(neg), "fp_rate": round(sum(s >= threshold for s in neg) / len(neg), 3)}
    out["negatives_by_kind"] = fpr
    return out


def choose_threshold(rows: list[tuple[int, float]]) -> float:
    """The threshold with the best F1 on the tune half; the default unless another is clearly (> 0.02) better."""
    best = metrics(rows, DEFAULT_THRESHOLD)["f1"]
    choice = DEFAULT_THRESHOLD
    for t in [x / 100 for x in range(20, 81)]:
        f1 = metrics(rows, t)["f1"]
        if f1 > best + 0.02:
            best, choice = f1, t
    return choice


def speed(topic, items: list[dict], seconds: float = 2.0) -> float:
    args = [(it["title"], it["text"], it["language"]) for it in items]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for a in args:
            score(topic, *a)
        n += len(args)
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    ap.add_argument("--threshold", type=float, default=None, help="fixed threshold (default: chosen on the tune half)")
    ap.add_argument("--errors", action="store_true", help="also list the misclassified items")
    args = ap.parse_args()

    topic = load_topic()
    items = load_eval_set()
    scores = [score(topic, it["title"], it["text"], it["language"]).score for it in items]
    tune = [(it["label"], s) for it, s in zip(items, scores, strict=True) if half(it["id"]) == "tune"]
    threshold = args.threshold if args.threshold is not None else choose_threshold(tune)
    out: dict = {"threshold": threshold, "eval_set": {"overall": report(items, scores, threshold)}}
    for h in ("tune", "report"):
        idx = [i for i, it in enumerate(items) if half(it["id"]) == h]
        out["eval_set"][h] = report([items[i] for i in idx], [scores[i] for i in idx], threshold)
    errors = [
        {"id": it["id"], "label": it["label"], "kind": it["kind"], "score": s, "title": it["title"]}
        for it, s in zip(items, scores, strict=True)
        if (s >= threshold) != bool(it["label"])
    ]
    if args.eval_dir.is_dir() and (args.eval_dir / "ground-truth.json").is_file():
        pages = load_shared(args.eval_dir)
        ps = [score(topic, p["title"], p["text"], p["language"]).score for p in pages]
        shared = report(pages, ps, threshold)
        shared["max_negative_score"] = max((s for p, s in zip(pages, ps, strict=True) if p["label"] == 0), default=0)
        out["shared_pages"] = shared
        errors += [
            {"id": p["id"][:12], "label": p["label"], "kind": p["kind"], "score": s, "title": p["title"][:80]}
            for p, s in zip(pages, ps, strict=True)
            if (s >= threshold) != bool(p["label"])
        ]
    else:
        out["shared_pages"] = None
    out["articles_per_second"] = round(speed(topic, items))
    if args.errors:
        out["errors"] = errors
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
