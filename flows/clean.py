"""Cleaning: a fetched page becomes text and metadata, or a reason why it is not an article.

trafilatura lives in this stage: flows.extraction drives it, nothing outside cleaning imports it.
`clean_html` is a pure function of the page's bytes, used by the pipeline through `clean_pages` (a process
pool, because extraction is the slow stage), by `borderwatch extract` and by `borderwatch reprocess`.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from w3lib.encoding import html_to_unicode

from flows.extraction import extract_article, page_elements, parse_html
from flows.language import detect_language
from flows.metadata import extract_metadata
from flows.paywall import partial_reason
from storage.urls import choose_canonical, url_key

log = logging.getLogger("borderwatch.clean")

HTML_TYPES = ("text/html", "application/xhtml+xml")
ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "blogposting",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "report",
}
INLINE_LIMIT = 16  # fewer pages than this are cleaned in-process: a worker pool costs ~1 s to start
POOL_CHUNK = 8  # pages a pool task, at most (about 0.2 s of work)


@dataclass
class Cleaned:
    """What cleaning made of one page."""

    is_article: bool
    reason: str | None = None
    canonical_url: str | None = None
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    language: str | None = None
    text: str = ""
    word_count: int = 0
    credits: list[str] = field(default_factory=list)  # wire/agency credits (AP, Reuters, EFE), not authors
    is_partial: bool = False  # a teaser or paywalled article: the text is not the whole story
    partial_reason: str | None = None
    declares_canonical: bool = False  # the page names its own canonical URL (rel=canonical or og:url)


def _jsonld_objects(scripts: Iterable[Any]) -> Iterable[dict[str, Any]]:
    for script in scripts:
        try:
            data = json.loads(script.text_content() or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity", "itemListElement"))


def _page_signals(doc: Any, elements: dict[str, list[Any]]) -> dict[str, Any]:
    """What tells an article from a listing page: article markup (JSON-LD, og:type), pagination links;
    and the JSON-LD objects and `lang` attribute that later steps read. `elements`: `page_elements(doc)`."""
    out: dict[str, Any] = {"is_article_markup": False}
    root = doc.getroottree().getroot()
    scripts = (el for el in elements["script"] if el.get("type") == "application/ld+json")
    out["jsonld"] = list(_jsonld_objects(scripts))
    for obj in out["jsonld"]:
        types = obj.get("@type", [])
        types = [types] if isinstance(types, str) else types
        if any(str(t).lower() in ARTICLE_TYPES for t in types):
            out["is_article_markup"] = True
    metas = {
        (m.get("property") or m.get("name") or "").lower(): m.get("content")
        for m in (elements["meta"] if doc is root else doc.iter("meta"))
        if m.get("content")
    }
    out["og_type"] = (metas.get("og:type") or "").lower() or None
    if out["og_type"] == "article":
        out["is_article_markup"] = True
    out["lang_attr"] = (doc.get("lang") or "").split("-")[0].lower() or None
    links = [el for el in elements["link"] if el.get("rel") in ("canonical", "next", "prev")]
    declared = [el.get("href") for el in links if el.get("rel") == "canonical" and el.get("href") is not None]
    out["declared_canonical"] = ((declared or [metas.get("og:url") or ""])[0] or "").strip() or None
    out["pagination_links"] = []
    if not out["is_article_markup"]:  # only read for pages without article markup
        found = [el for el in links if el.get("rel") != "canonical"]
        found += [el for el in elements["a"] if el.get("rel") in ("next", "prev")]  # //a[@rel="next" or @rel="prev"]
        out["pagination_links"] = [el.get("href") or "" for el in found]
    return out


def _visible_text(doc: Any) -> str:
    """The page's text as a reader sees it: no scripts, styles or <noscript> notices (wall words in a script's
    strings or a "to continue reading, please enable JavaScript" are no paywall). Strips those from `doc` in
    place, so only for the last reader of the tree: a copy would cost more than the search (scripts and styles
    are four fifths of a page's characters)."""
    etree.strip_elements(doc, "script", "style", "noscript", "template", with_tail=False)
    return doc.text_content()


_PAGE_URL = re.compile(r"(/(page|pagina|pag|p)/\d+/?$|[?&](page|pagina|pg|p)=\d+)", re.I)


def _is_paginated(url: str, links: list[str]) -> bool:
    """A listing's pages link each other with rel=next/prev. WordPress also puts rel=next/prev on single
    posts (pointing at the adjacent posts), so only page-number URLs, or a prev link back to this
    page's own parent path (page 2 → page 1), count."""
    path = urlsplit(url).path
    for href in links:
        target = urljoin(url, href)
        if _PAGE_URL.search(target):
            return True
        tpath = urlsplit(target).path.rstrip("/") + "/"
        if tpath != "/" and path.startswith(tpath) and path.rstrip("/") + "/" != tpath:
            return True
    return False


def _canonical(url: str, declared: str | None) -> str | None:
    """The page's canonical URL; None for a saved file with no URL (or a URL that is not http(s))."""
    try:
        return choose_canonical(url, declared) if url else None
    except ValueError:
        return None


def clean_html(
    body: bytes, url: str, content_type: str | None = None, *, min_words: int = 80, fallback_language: str | None = None
) -> Cleaned:
    """Extract one page. Pages that are not articles come back with `is_article=False` and a reason."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype and ctype not in HTML_TYPES:
        return Cleaned(False, f"not an HTML page ({ctype})")
    if not body.strip():
        return Cleaned(False, "empty response")
    _, text_html = html_to_unicode(content_type, body)
    try:
        # one parse for every step, with trafilatura's own parser settings (its extraction depends on them)
        doc = parse_html(text_html)
    except Exception as exc:  # lxml raises several types on junk; any of them means "no page"
        return Cleaned(False, f"unparseable HTML: {exc}")
    if doc is None:
        return Cleaned(False, "unparseable HTML")
    elements = page_elements(doc)  # one walk of the page for the elements several steps read
    signals = _page_signals(doc, elements)
    extracted = extract_article(text_html, url or None, tree=doc, elements=elements)
    result = extracted.document
    text = extracted.text.strip()
    if result is None or not text:
        return Cleaned(False, "no main text found")
    words = len(text.split())
    # the store keeps UTC times only; `elements` is up to date (extract_article refreshed it if the tree changed)
    meta = extract_metadata(doc, url or None, result, local_day=False, elements=elements, source=text_html)
    published = meta.published_at
    cleaned = Cleaned(
        is_article=True,
        canonical_url=_canonical(url, result.url),
        title=meta.title,
        authors=meta.authors,
        credits=meta.credits,
        published_at=published,
        modified_at=meta.modified_at,
        language=detect_language(text, fallback=signals["lang_attr"] or fallback_language),
        text=text,
        word_count=words,
    )
    declared = signals["declared_canonical"]
    cleaned.declares_canonical = bool(url and declared and url_key(urljoin(url, declared)) == url_key(url))
    # the last step that reads the tree: it may strip the page's scripts for their text (see _visible_text)
    cleaned.partial_reason = partial_reason(text, lambda: _visible_text(doc), signals["jsonld"], words)
    cleaned.is_partial = cleaned.partial_reason is not None
    if url and urlsplit(url).path in ("", "/"):
        cleaned.is_article, cleaned.reason = False, "a site's home page"
    elif words < min_words:
        cleaned.is_article, cleaned.reason = False, f"too little text for an article ({words} words)"
    elif not signals["is_article_markup"] and _is_paginated(url, signals["pagination_links"]):
        # og:type "website" or many links alone are no evidence: plenty of real article pages have both
        cleaned.is_article, cleaned.reason = False, "paginated page without article markup (a listing page)"
    elif not signals["is_article_markup"] and published is None:
        cleaned.is_article, cleaned.reason = False, "no article markup and no publication date (a listing page?)"
    return cleaned


@dataclass
class PageJob:
    key: int
    body: bytes
    url: str
    content_type: str | None
    fallback_language: str | None


def _clean_job(job: PageJob, min_words: int) -> tuple[int, Cleaned]:
    try:
        return job.key, clean_html(
            job.body, job.url, job.content_type, min_words=min_words, fallback_language=job.fallback_language
        )
    except Exception as exc:  # one hostile page must not end the batch
        log.warning("cleaning %s failed: %s", job.url, exc)
        return job.key, Cleaned(False, f"cleaning failed: {type(exc).__name__}: {exc}")


def _clean_chunk(jobs: list[PageJob], min_words: int) -> list[tuple[int, Cleaned]]:
    return [_clean_job(job, min_words) for job in jobs]


def _start_worker() -> None:
    # everything alive now (modules, compiled patterns) lives as long as the worker: out of the collector's way
    gc.freeze()


def clean_pages(jobs: list[PageJob], *, min_words: int = 80, workers: int = 0) -> dict[int, Cleaned]:
    """Clean many pages, in a process pool when there are enough of them to pay for it."""
    workers = workers or os.cpu_count() or 1
    if len(jobs) < INLINE_LIMIT or workers == 1:
        return dict(_clean_chunk(jobs, min_words))
    # small chunks, biggest pages first, so that the workers finish together: with a few big chunks one worker
    # sat idle for up to a chunk's time (about a second) at the end; a chunk costs a millisecond to hand over
    size = max(1, min(POOL_CHUNK, len(jobs) // (workers * 4)))
    ordered = sorted(jobs, key=lambda job: len(job.body), reverse=True)
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    # spawn, not fork: the parent runs Prefect's threads, and a fork copies their held locks
    ctx = multiprocessing.get_context("spawn")
    out: dict[int, Cleaned] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_start_worker) as pool:
        for part in pool.map(_clean_chunk, chunks, [min_words] * len(chunks)):
            out.update(part)
    return {job.key: out[job.key] for job in jobs}  # in the jobs' order, as inline
