"""The scorer against the labelled evaluation set (tests/fixtures/relevance/eval_set.jsonl): precision and recall per
language on the report half (sha256(id) parity: even = tune, odd = report) at the pipeline's threshold, and the
false-positive rate of every tricky negative kind. bench/relevance_quality.py prints the full figures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from flows.relevance import load_topic, score

THRESHOLD = 0.5  # the pipeline's default min_relevance, kept: the tune half does not ask for another
EVAL_SET = Path(__file__).resolve().parent / "fixtures" / "relevance" / "eval_set.jsonl"
MIN_PRECISION = MIN_RECALL = 0.95
MAX_TRICKY_FP_RATE = 0.1


def half(item_id: str) -> str:
    return "tune" if hashlib.sha256(item_id.encode("utf-8")).digest()[-1] % 2 == 0 else "report"


@pytest.fixture(scope="module")
def scored() -> list[tuple[dict, float]]:
    topic = load_topic()
    with open(EVAL_SET, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    return [(it, score(topic, it["title"], it["text"], it["language"]).score) for it in items]


def test_halves_are_both_used(scored):
    halves = [half(it["id"]) for it, _ in scored]
    assert 100 < halves.count("report") < 220 and 100 < halves.count("tune") < 220


@pytest.mark.parametrize("lang", ["en", "es"])
def test_precision_and_recall_on_the_report_half(scored, lang):
    rows = [(it, s) for it, s in scored if half(it["id"]) == "report" and it["language"] == lang]
    tp = [it["id"] for it, s in rows if it["label"] and s >= THRESHOLD]
    fp = [it["id"] for it, s in rows if not it["label"] and s >= THRESHOLD]
    fn = [it["id"] for it, s in rows if it["label"] and s < THRESHOLD]
    assert len(tp) / max(1, len(tp) + len(fp)) >= MIN_PRECISION, f"false positives: {fp}"
    assert len(tp) / max(1, len(tp) + len(fn)) >= MIN_RECALL, f"false negatives: {fn}"


def test_every_tricky_kind_has_few_false_positives(scored):
    kinds = {it["kind"] for it, _ in scored if it["label"] == 0 and it["kind"] != "general"}
    assert len(kinds) >= 10
    for kind in sorted(kinds):
        negs = [(it["id"], s) for it, s in scored if it["label"] == 0 and it["kind"] == kind]
        fps = [i for i, s in negs if s >= THRESHOLD]
        assert len(fps) / len(negs) <= MAX_TRICKY_FP_RATE, f"{kind}: {fps}"
