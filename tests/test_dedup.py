"""Dedup decisions: canonical URL identity, same-outlet content twins, wire copy clusters, versions."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.dedup import Candidate, content_hash, decide
from storage.queries import KnownArticle

NOW = datetime(2026, 11, 30, tzinfo=UTC)
EARLIER = datetime(2026, 11, 1, tzinfo=UTC)


def cand(url: str, aid: str, text: str, source: str = "a", title: str = "T") -> Candidate:
    return Candidate(
        url, source, aid, f"https://{source}.example/{aid}", content_hash(title, text), {"title": title, "text": text}
    )


def test_content_hash_ignores_whitespace_and_case() -> None:
    assert content_hash("T", "Border  Patrol\nsaid") == content_hash("T", "border patrol said")
    assert content_hash("T", "Border Patrol said") != content_hash("T", "Border Patrol says")


def test_same_canonical_url_twice_in_a_run_is_one_article() -> None:
    res = decide([cand("u1?utm=x", "id1", "x"), cand("u1", "id1", "x")], [], "r", NOW)
    assert [d.outcome for d in res.decisions.values()] == ["new", "duplicate"]
    assert len(res.rows) == 1


def test_same_text_at_two_urls_of_one_outlet_is_a_duplicate() -> None:
    res = decide([cand("u1", "id1", "same words"), cand("amp/u1", "id2", "same words")], [], "r", NOW)
    assert res.decisions["amp/u1"].outcome == "duplicate"
    assert "id1" in (res.decisions["amp/u1"].reason or "")


def test_wire_copy_at_another_outlet_is_a_row_in_the_same_cluster() -> None:
    known = [KnownArticle("id1", "a", content_hash("T", "wire text"), "T", 1, EARLIER, EARLIER, "id1")]
    res = decide([cand("b/u", "id9", "wire text", source="b")], known, "r", NOW)
    row = res.rows[0]
    assert res.decisions["b/u"].outcome == "new"
    assert row["cluster_id"] == "id1" and row["article_id"] == "id9"


def test_known_article_unchanged_and_updated() -> None:
    known = [KnownArticle("id1", "a", content_hash("T", "old"), "T", 1, EARLIER, EARLIER, "id1")]
    same = decide([cand("u1", "id1", "old")], known, "r", NOW)
    assert same.decisions["u1"].outcome == "unchanged"
    assert same.rows[0]["version"] == 1 and same.rows[0]["updated_at"] == EARLIER
    assert same.rows[0]["first_seen_at"] == EARLIER and same.rows[0]["last_seen_at"] == NOW
    changed = decide([cand("u1", "id1", "corrected text")], known, "r", NOW)
    assert changed.decisions["u1"].outcome == "updated"
    assert changed.rows[0]["version"] == 2 and changed.rows[0]["updated_at"] == NOW
    retitled = decide([cand("u1", "id1", "old", title="New headline")], known, "r", NOW)
    assert retitled.decisions["u1"].outcome == "updated"


def test_the_self_declared_canonical_page_wins_whatever_the_arrival_order() -> None:
    """An unmarked print copy with the same text must not take the article from the page that names itself
    canonical, whichever response the concurrent crawler happened to get first."""
    original = Candidate(
        "orig",
        "a",
        "id-orig",
        "https://a.example/noticias/long-original-slug.html",
        content_hash("T", "same"),
        {"title": "T", "text": "same"},
        self_canonical=True,
        declared=True,
    )
    copy = Candidate(
        "print",
        "a",
        "id-print",
        "https://a.example/impresa/short.html",
        content_hash("T", "same"),
        {"title": "T", "text": "same"},
        self_canonical=True,
        declared=False,
    )
    for order in ([original, copy], [copy, original]):
        res = decide(order, [], "r", NOW)
        assert res.decisions["orig"].outcome == "new"
        assert res.decisions["print"].outcome == "duplicate" and res.decisions["print"].duplicate_of == "id-orig"


def test_a_redirect_alias_and_its_target_page_get_the_same_roles_whatever_the_arrival_order() -> None:
    """Both pages land on the canonical URL and say so; which one the crawler got first (a matter of timing,
    and of which process took which URL in a shared crawl) must not decide which is "new"."""
    canonical = "https://a.example/2026/10/28/long-slug/"

    def page(url: str) -> Candidate:
        return Candidate(
            url, "a", "id1", canonical, content_hash("T", "same"), {"title": "T", "text": "same"}, True, True
        )

    target, alias = page(canonical), page("https://a.example/2026/10/28/short/")
    for order in ([target, alias], [alias, target]):
        res = decide(order, [], "r", NOW)
        assert res.decisions[canonical].outcome == "new"
        assert res.decisions[alias.page_url].outcome == "duplicate"
        assert len(res.rows) == 1
