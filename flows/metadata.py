"""Article metadata: headline, people credited, wire/agency credits, publication dates and the site's name.

`extract_metadata` reads a page already parsed with lxml.html. The page's own markup comes first: JSON-LD,
meta tags, and the visible headline with the byline and dateline next to it. trafilatura's metadata
(`document`) is only a fallback. There are no site-specific rules: all of this must hold on pages never seen.

Dates: `published_at` and `modified_at` are aware UTC datetimes (a bare date becomes midnight UTC of that day).
`published_date` is the publication *day as the page states it*, in the page's own timezone: a story posted
at 11 pm in Houston is dated that day although it is already the next day in UTC.

Cost: a few milliseconds a page on top of the lxml parse. Everything near the headline is found by walking a
bounded number of elements from it, and the text of big containers is never joined.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

from lxml import etree


@dataclass
class Metadata:
    title: str | None
    authors: list[str]  # people only, as displayed ("Jane Doe")
    credits: list[str]  # wire/agency credits, normalised: "AP", "Reuters", "EFE", "AFP", "Notimex", ...
    published_at: datetime | None  # aware, UTC
    modified_at: datetime | None  # aware, UTC
    site_name: str | None
    published_date: date | None = field(default=None)  # the publication day in the page's own timezone


# ------------------------------------------------------------------------------------------------ vocabulary

ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "askpublicnewsarticle", "satiricalarticle", "blogposting",
    "liveblogposting", "posting", "socialmediaposting", "techarticle", "scholarlyarticle", "report",
    "advertisercontentarticle",
}  # fmt: skip
PAGE_TYPES = {"webpage", "itempage", "collectionpage", "aboutpage"}
ORG_TYPES = {
    "organization", "newsmediaorganization", "corporation", "localbusiness", "educationalorganization",
    "governmentorganization", "ngo", "website", "brand",
}  # fmt: skip

# wire and agency credits: (pattern, normalised name, case-sensitive). Abbreviations must be in capitals.
_WIRES: list[tuple[str, str, bool]] = [
    (r"(?:The\s+)?Associated\s+Press", "AP", False),
    (r"AP", "AP", True),
    (r"(?:Thomson\s+)?Reuters", "Reuters", False),
    (r"Agence\s+France[- ]Presse", "AFP", False),
    (r"AFP", "AFP", True),
    (r"(?:Agencia\s+)?EFE", "EFE", False),
    (r"Notimex|NTX", "Notimex", False),
    (r"Europa\s+Press", "Europa Press", False),
    (r"Agencia\s+Reforma", "Agencia Reforma", False),
    (r"(?:Agencia\s+)?Quadrat[ií]n", "Quadratín", False),
    (r"Prensa\s+Latina", "Prensa Latina", False),
    (r"Press\s+Trust\s+of\s+India", "PTI", False),
    (r"PTI", "PTI", True),
    (r"IANS", "IANS", True),
    (r"ANI", "ANI", True),
    (r"United\s+Press\s+International", "UPI", False),
    (r"UPI", "UPI", True),
    (r"Xinhua", "Xinhua", False),
    (r"Deutsche\s+Presse-Agentur", "dpa", False),
    (r"dpa", "dpa", True),
    (r"ANSA", "ANSA", True),
    (r"Kyodo(?:\s+News)?", "Kyodo", False),
    (r"Yonhap", "Yonhap", False),
    (r"TASS", "TASS", True),
    (r"Bloomberg(?:\s+News)?", "Bloomberg", False),
    (r"(?:The\s+)?Canadian\s+Press", "Canadian Press", False),
    (r"Australian\s+Associated\s+Press|AAP", "AAP", False),
]
_WIRE_RE = re.compile("|".join(f"(?P<w{i}>{pat if cs else f'(?i:{pat})'})" for i, (pat, _, cs) in enumerate(_WIRES)))
_WIRE_NAMES = [name for _, name, _ in _WIRES]
_WIRE_BOUNDED = re.compile(r"(?<![\w&-])(?:" + _WIRE_RE.pattern + r")(?![\w&-])")

# "By", "Por", "Text:", "Posted by", "Publicado por", ... in front of a byline
_PREFIX = re.compile(
    r"^(?:(?:story|words|text|reporting|report|analysis|opinion|commentary|review|column|interview|"
    r"written|posted|published|compiled|edited|photos?|video)\s+by|by|por|von|par|"
    r"(?:publicado|escrito|redactado|elaborado|texto|reportaje|cr[oó]nica|informaci[oó]n|columna)\s+(?:por|de)|"
    r"texto|text|autor(?:a|es)?|author|texte|текст|автор)\s*[:.]?\s+",
    re.I,
)
_BYLINE_TEXT = re.compile(
    r"(?:^|\s)(?:by|por|von|par|posted by|written by|publicado por|escrito por|texto|text|текст|автор)\s*:?\s+\S",
    re.I,
)
# a byline part holding one of these words is a job title, an account or an organisation, not a person
_NOT_PERSON_WORDS = {
    # roles and accounts
    "writer", "reporter", "editor", "editors", "correspondent", "columnist", "contributor", "contributors",
    "contributing", "staff", "producer", "host", "anchor", "analyst", "critic", "photographer", "intern",
    "chief", "senior", "director", "manager", "officer", "president", "founder", "ceo", "journalist",
    "redactor", "redactora", "reportero", "reportera", "corresponsal", "periodista", "enviado", "enviada",
    "columnista", "colaborador", "colaboradora", "fotógrafo", "fotografo", "editora", "jefe", "jefa",
    "special", "national", "political", "security", "auto", "business", "investigative", "freelance",
    "guest", "invitado", "invitada", "anonymous", "anónimo", "unknown", "gast", "гость", "admin",
    "administrator", "webmaster", "moderator", "user", "usuario", "member",
    # organisations
    "news", "newsroom", "desk", "team", "editorial", "redacción", "redaccion", "agencias", "agencia",
    "agencies", "agency", "wire", "wires", "bureau", "media", "press", "reports", "magazine", "online",
    "network", "group", "inc", "llc", "ltd", "corp", "company", "blog", "daily", "digital", "service",
    "services", "sport", "sports", "newspaper", "radio", "tv", "television", "channel", "studio", "studios",
    "foundation", "university", "institute", "association", "department", "ministry", "office", "council",
    "prefeitura", "coordenadoria", "secretaria", "gobierno", "government", "noticias", "notícias",
    "periódico", "diario", "revista", "weekly", "times", "herald", "tribune", "journal", "gazette",
    "insider", "reviews", "international", "science",
}  # fmt: skip
_NAME_PARTICLES = {
    "de", "del", "la", "las", "los", "da", "das", "do", "dos", "di", "van", "von", "der", "den", "du", "le",
    "el", "y", "bin", "ibn", "al", "ben", "e", "ter", "zu",
}  # fmt: skip
_ARTICLES = {"the", "el", "la", "los", "las", "le", "les", "il", "lo", "der", "die", "das"}
# job titles and dates glued to a name by the markup: "Meg JamesStaff Writer", "Jeff FoustMonday, ..."
_GLUED = re.compile(
    r"(?<=[a-z])(?=(?:Staff|Senior|Contributing|Contributor|Writer|Reporter|Editor|Correspondent|Columnist|"
    r"Published|Updated|Posted|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|"
    r"March|April|May|June|July|August|September|October|November|December|Associated|Business|National)"
    r"(?:[^a-z]|$))"
)

_MONTHS = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # Spanish
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "set": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "dic": 12,
    # Portuguese
    "janeiro": 1, "fevereiro": 2, "fev": 2, "março": 3, "marco": 3, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "outubro": 10, "out": 10, "novembro": 11, "dezembro": 12, "dez": 12,
    # German, French, Italian, Indonesian
    "januar": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "okt": 10,
    "dezember": 12, "janvier": 1, "février": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "gennaio": 1, "febbraio": 2, "aprile": 4,
    "maggio": 5, "giugno": 6, "luglio": 7, "settembre": 9, "ottobre": 10, "dicembre": 12, "januari": 1,
    "februari": 2, "maret": 3, "agustus": 8, "desember": 12, "nopember": 11,
}  # fmt: skip
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_TZ_MINUTES = {
    "utc": 0, "gmt": 0, "wet": 0, "bst": 60, "cet": 60, "cest": 120, "eet": 120, "eest": 180, "msk": 180,
    "ist": 330, "pkt": 300, "ict": 420, "wib": 420, "sgt": 480, "hkt": 480, "pht": 480, "awst": 480,
    "jst": 540, "kst": 540, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780, "est": -300, "edt": -240,
    "et": -300, "cst": -360, "cdt": -300, "ct": -360, "mst": -420, "mdt": -360, "mt": -420, "pst": -480,
    "pdt": -420, "pt": -480, "akst": -540, "hst": -600, "art": -180, "brt": -180, "brst": -120, "clt": -240,
    "cot": -300, "pet": -300, "vet": -240,
}  # fmt: skip
_TZ_ALT = "|".join(sorted((t.upper() for t in _TZ_MINUTES), key=len, reverse=True))
_TZ_WORD = re.compile(r"(?<![A-Za-z])(" + _TZ_ALT + r")(?![A-Za-z])")
_TIME = r"(\d{1,2})[:.h](\d{2})(?::\d{2})?\s*([ap]\.?\s?m\.?)?"
_CLOCK_AFTER = re.compile(
    r"^\W{0,6}(?:at\s+|à\s+|às\s+|a las\s+|um\s+|-+\s*)?" + _TIME + r"\s*,?\s*(" + _TZ_ALT + r")?\b", re.I
)
_CLOCK_BEFORE = re.compile(_TIME + r"\s*(" + _TZ_ALT + r")?\s*[,|]?\s*(?:[A-Za-z]+,?\s*)?$", re.I)

# dates written out: "Nov. 19, 2019", "November 18th, 2019", "19 November 2019", "22 de outubro de 2010",
# "25. September 2018", "2018-08-16", "05/10/2018", "13.11.2019"
_TEXT_DATES = [
    re.compile(
        r"(?<![^\W\d_])(" + _MONTH_ALT + r")\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?:\s*,\s*|\s+)(?:(\d{4})(?!\d))?", re.I
    ),
    re.compile(
        r"(?<!\d)(\d{1,2})(?:st|nd|rd|th)?\.?\s*(?:de\s+)?(" + _MONTH_ALT + r")\.?(?![^\W\d_])"
        r"(?:,?\s*(?:de\s+|del\s+)?(\d{4})(?!\d))?",
        re.I,
    ),
    re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"),
    re.compile(r"(?<![\d/.])(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})(?![\d/])"),
]
# where a byline stops being names: a date, a clock time, "Updated ...", "2 hours ago"
_DATE_CUT = re.compile(
    r"(?:\b(?:updated|published|posted|last\s+updated|actualizado|publicado|atualizado|on)\b\s*:?\s*)?"
    r"(?:\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b\.?,?\s*)?"
    r"(?:(?<![^\W\d_])(?:" + _MONTH_ALT + r")\.?\s*\d{1,2}(?:st|nd|rd|th)?\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?(?:" + _MONTH_ALT + r")\b"
    r"|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b|\b\d{1,2}:\d{2}\b"
    r"|\b\d+\s+(?:minutes?|hours?|days?|hrs?|mins?)\s+ago\b|\b(?:today|yesterday|hoy|ayer)\b)",
    re.I,
)
_UPDATED = re.compile(
    r"updat|modif|actualiz|atualiz|aktualisiert|edited|last\s|revis|обновл|mis à jour|aggiornat", re.I
)
_POSTED = re.compile(r"\b(?:post|publi|first|fecha|опубл|veröffentlicht)", re.I)

# parts of a page whose names and dates are not the article's: comments, related stories, navigation,
# sidebars, footers, author bio boxes, image captions. A class must *start* with the word ("comment-author",
# "related-links", "c-comments") so that layout wrappers such as "content-sidebar-wrap" hide nothing.
_EXCLUDED_TAGS = {"nav", "footer", "aside", "form", "select", "button", "noscript", "template", "figure", "figcaption"}
_EXCLUDED_CLASS = re.compile(
    r"(?:comments?|commentlist|respond|reply|replies|discussion|disqus\w*|related\w*|relacionad\w*|"
    r"recommend\w*|recirc\w*|sidebar|widget\w*|footer|promo\w*|newsletter|popular|trending|most-?read|"
    r"more-?stories|read-?more|readnext|up-?next|next-?post|prev-?post|teaser\w*|carousel|outbrain|taboola|"
    r"nav|navbar|navigation|menu|breadcrumbs?|bio|author-?bio|author-?box|about-?author|"
    r"author-?description|latest|ticker|caption|copyright|gallery|slideshow)(?:$|[-_])",
    re.I,
)
_SHORT_PREFIX = re.compile(r"^[a-z]{1,3}[-_](?=[a-z])", re.I)  # namespaces: "c-comments", "js-related"

# <h1> and itemprop=headline elements; reached through the attribute (//@itemprop[...]/parent::*), a test on
# the few itemprop attributes, not on every element of the page: half the cost of //*[@itemprop='headline']
_STRONG_HEADLINE_XPATH = "//h1 | //@itemprop[.='headline']/parent::*[not(self::meta)]"
# ... which still walks the whole page (~0.2 ms), for an attribute two pages in three do not have: the page's
# source says whether it can be there ("headline" right after "itemprop="; a value written as character
# references would be missed, which no publishing system does)
_ITEMPROP_BEFORE = re.compile(r"itemprop\s*=\s*[\"']?\s*\Z", re.I)
# weaker candidates: <h2>, and these elements with a class naming a title (_weak_headlines)
_WEAK_HEADLINE_TAGS = ("h2", "p", "div", "span", "dt", "h3", "header")
_WEAK_HEADLINE_CLASSES = ("title", "Title", "headline", "Headline", "titul")
_BYLINE_CLASS = re.compile(r"byline|author|writer|creditline", re.I)
_DATE_CLASS = re.compile(r"date|time|publish|posted|byline|meta|info", re.I)
_PLAIN_TAGS = {"p", "div", "span", "small", "address", "li"}
# the same tests in XPath, for pages where no headline element was found (searched page-wide, in C)
_BYLINE_XPATH = (
    "@rel='author' or @itemprop='author' or contains(@class,'byline') or contains(@class,'Byline') "
    "or contains(@class,'author') or contains(@class,'Author') or contains(@id,'byline') "
    "or contains(@class,'writer') or contains(@class,'creditline')"
)
_DATE_XPATH = (
    "self::time or @datetime or @itemprop='datePublished' or contains(@class,'date') or contains(@class,'Date') "
    "or contains(@class,'time') or contains(@class,'Time') or contains(@class,'publish') "
    "or contains(@class,'posted') or contains(@class,'byline') or contains(@class,'Byline') "
    "or contains(@class,'meta') or contains(@class,'info')"
)
_TIME_XPATH = "self::time or @itemprop='datePublished'"

_PUBLISHED_META = (
    "article:published_time", "article:published", "og:published_time", "og:article:published_time",
    "datepublished", "publishdate", "publish-date", "publish_date", "pubdate", "og:pubdate", "sailthru.date",
    "parsely-pub-date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date", "dcterms.created",
    "dc.date.created", "date", "pub_date", "article_date_original", "citation_publication_date",
    "citation_date", "published", "published_time_telegram", "datecreated", "dcsext.articlefirstpublished",
    "sn-post-date", "article.published", "publication_date", "original-publish-date", "displaydate",
)  # fmt: skip
_MODIFIED_META = (
    "article:modified_time", "article:modified", "og:updated_time", "datemodified", "dcterms.modified",
    "dc.date.modified", "last-modified", "article_date_updated", "updated-date", "lastmod", "modified",
    "article.updated",
)  # fmt: skip
_AUTHOR_META = (
    "author", "article:author", "dc.creator", "dcterms.creator", "sailthru.author", "parsely-author",
    "citation_author", "byl", "article_author", "dcsext.author", "cxenseparse:author",
)  # fmt: skip
_TITLE_META = ("og:title", "twitter:title", "title", "dc.title", "dcterms.title", "sailthru.title", "parsely-title")
_SITE_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "publisher", "dc.publisher")

_MIN_YEAR = 1995


# ---------------------------------------------------------------------------------------------- text helpers


def _clean_space(text: str | None) -> str:
    return " ".join((text or "").split())


def _text(el: Any) -> str:
    """Text of an element, with a space at every tag boundary (no "JamesStaff Writer" glue)."""
    return " ".join(" ".join(el.itertext()).split())


def _short_text(el: Any, limit: int) -> str | None:
    """Like _text, but None as soon as the text is longer than `limit`: bylines and datelines are short, and
    joining the text of a whole article container only to throw it away is the slow part."""
    parts: list[str] = []
    size = 0
    for piece in el.itertext():
        size += len(piece.strip())
        if size > limit:
            return None
        parts.append(piece)
    return " ".join(" ".join(parts).split())


def _unescape(text: str) -> str:
    return html.unescape(html.unescape(text)) if "&" in text else text


@lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    """Letters and digits only, case-folded, accents dropped, for comparing names: "Diario de Juárez" is
    diariodejuarez.com."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"[\W_]+", "", "".join(ch for ch in folded if not unicodedata.combining(ch)))


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"', "–": "-", "—": "-", "…": "..."})


def _tokens(text: str) -> set[str]:
    """Lower-case words, quotes and dashes made alike ("We’re" = "We're")."""
    return {t for t in re.split(r"[^\w']+", text.translate(_QUOTES).casefold()) if t and t != "'"}


@lru_cache(maxsize=8192)
def _excluded_attrs(attrs: str) -> bool:
    return any(_EXCLUDED_CLASS.match(_SHORT_PREFIX.sub("", token)) for token in attrs.split())


def _is_excluded(el: Any) -> bool:
    """Is the element inside comments, related stories, navigation, a sidebar, a footer, a bio box or a caption?"""
    for node in (el, *el.iterancestors()):
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("body", "html"):
            return False
        if tag in _EXCLUDED_TAGS:
            return True
        cls, ident = node.get("class"), node.get("id")
        if (cls or ident) and _excluded_attrs(f"{cls or ''} {ident or ''}"):
            return True
    return False


def _lead_in(el: Any, width: int) -> str:
    """The text right before an element inside its parent or grandparent: "Updated " for the <time> of
    "<span>Updated <time>...</time></span>"."""
    own = _short_text(el, 400)
    node = el
    for _ in range(2):
        node = node.getparent()
        if node is None or not own:
            break
        whole = _short_text(node, 800) or ""
        idx = whole.find(own)
        if idx > 0:
            return whole[max(0, idx - width) : idx]
        if idx < 0:
            break
    return ""


def _host_key(url: str | None) -> str:
    """The name part of the domain: "diariodejuarez" for https://www.diariodejuarez.com.mx/..."""
    labels = [p for p in (urlsplit(url or "").hostname or "").lower().split(".") if p]
    while labels and labels[0] in ("www", "m", "amp", "mobile", "edition", "beta", "en", "es"):
        labels = labels[1:]
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in ("co", "com", "org", "net", "gov", "gob", "ac"):
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


def _following(h: Any, limit: int) -> list[Any]:
    """The first `limit` elements after `h` in document order, its own descendants left out."""
    out: list[Any] = []
    node = h
    while node is not None:
        for sib in node.itersiblings(etree.Element):
            out.extend(islice(sib.iter(etree.Element), limit - len(out)))
            if len(out) >= limit:
                return out
        node = node.getparent()
    return out


def _preceding(h: Any, limit: int) -> list[Any]:
    """The `limit` elements before `h`, nearest first, its ancestors left out."""
    out: list[Any] = []
    node = h
    while node is not None:
        for sib in node.itersiblings(etree.Element, preceding=True):
            out.extend(islice(reversed(list(sib.iter(etree.Element))), limit - len(out)))
            if len(out) >= limit:
                return out
        node = node.getparent()
    return out


def _in_svg(el: Any) -> bool:
    return any(a.tag == "svg" for a in el.iterancestors())


def _is_byline_el(el: Any) -> bool:
    if el.get("rel") == "author" or el.get("itemprop") == "author":
        return True
    cls, ident = el.get("class"), el.get("id")
    return (cls is not None or ident is not None) and _byline_attrs(cls or "", ident or "")


@lru_cache(maxsize=8192)
def _byline_attrs(cls: str, ident: str) -> bool:
    """Cached: hundreds of elements around the headline are tested, and a page repeats its class names."""
    return bool(_BYLINE_CLASS.search(cls)) or "byline" in ident.lower()


def _is_date_el(el: Any) -> bool:
    if el.tag == "time" or el.get("datetime") is not None or el.get("itemprop") == "datePublished":
        return True
    return bool(_DATE_CLASS.search(el.get("class") or ""))


def _is_time_el(el: Any) -> bool:
    return el.tag == "time" or el.get("itemprop") == "datePublished"


# ----------------------------------------------------------------------------------------------- date values


@dataclass
class _When:
    utc: datetime
    day: date  # the day in the offset the value was written in (the UTC day when it had none)
    explicit: bool  # written with a non-UTC offset, or a bare date: `day` is the page's own day
    offset: timedelta | None = None
    date_only: bool = False


@dataclass
class _Day:
    """A date written out in text; the year may be missing ("Posted Nov 18, 8:19 PM")."""

    year: int | None
    month: int
    day: int
    other: tuple[int, int] | None = None  # (month, day) of the other reading of "05/10/2018"


def _make_when(
    y: int, mo: int, d: int, clock: tuple[int, int] | None = None, sec: int = 0, offset: timedelta | None = None
) -> _When | None:
    try:
        local = datetime(y, mo, d, *(clock or (0, 0)), sec)
    except ValueError:
        return None
    date_only = clock is None
    if offset is None:
        return _When(local.replace(tzinfo=UTC), local.date(), date_only, None, date_only)
    aware = local.replace(tzinfo=timezone(offset))
    return _When(aware.astimezone(UTC), local.date(), offset != timedelta(0) or date_only, offset, date_only)


def _offset(text: str | None) -> timedelta | None:
    if not text:
        return None
    t = text.strip().upper()
    if t in ("Z", "UTC", "GMT"):
        return timedelta(0)
    m = re.fullmatch(r"(?:GMT|UTC)?\s*([+-])(\d{1,2}):?(\d{2})?", t)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
        if minutes > 14 * 60:
            return None
        return timedelta(minutes=minutes if m.group(1) == "+" else -minutes)
    return timedelta(minutes=_TZ_MINUTES[t.lower()]) if t.lower() in _TZ_MINUTES else None


_ISO = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*"
    r"(Z|UTC|GMT|(?:GMT|UTC)?\s*[+-]\d{1,2}:?\d{2}|[+-]\d{2})?\s*(?:\([^)]*\))?$",
    re.I,
)
_JS_DATE = re.compile(  # "Tue Nov 19 2019 03:05:46 GMT+0000 (UTC)"
    r"^(?:[A-Za-z]{3,9},?\s+)?([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*"
    r"(?:(GMT|UTC)?\s*([+-]\d{2}:?\d{2})?)?\s*(?:\([^)]*\))?$"
)


def _parse_when(value: Any, month_first: bool = False) -> _When | None:
    """A machine-readable date or datetime (ISO 8601 and the usual variants), else the first full date written
    in the text ("01:38:07 PM IST Nov 20, 2019", "20 Nov 2019 08:02 GMT")."""
    if not isinstance(value, str):
        return None
    text = _clean_space(value)
    if re.fullmatch(r"\d{8}", text):
        return _make_when(int(text[:4]), int(text[4:6]), int(text[6:]))
    m = _ISO.match(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if m.group(4) is None:
            return _make_when(y, mo, d)
        clock = (int(m.group(4)), int(m.group(5)))
        return _make_when(y, mo, d, clock, int(m.group(6) or 0), _offset(m.group(7)))
    m = _JS_DATE.match(text)
    if m and m.group(1).lower() in _MONTHS:
        off = _offset(m.group(8)) if m.group(8) else (timedelta(0) if m.group(7) else None)
        clock = (int(m.group(4)), int(m.group(5)))
        return _make_when(
            int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)), clock, int(m.group(6) or 0), off
        )
    for day, _pos, clock, tz in _text_dates(text, month_first):
        if day.year:
            return _make_when(day.year, day.month, day.day, clock, 0, tz if clock else None)
    return None


def _year(text: str | None) -> int | None:
    if not text:
        return None
    y = int(text)
    return y + 2000 if y < 100 else y


def _clock(hh: int, mi: int, ampm: str | None, zone: str | None) -> tuple[tuple[int, int] | None, timedelta | None]:
    ampm = (ampm or "").lower().replace(".", "").replace(" ", "")
    if ampm == "pm" and hh < 12:
        hh += 12
    elif ampm == "am" and hh == 12:
        hh = 0
    if hh >= 24 or mi >= 60:
        return None, None
    return (hh, mi), (timedelta(minutes=_TZ_MINUTES[zone.lower()]) if zone else None)


def _clock_near(text: str, start: int, end: int) -> tuple[tuple[int, int] | None, timedelta | None]:
    """The clock time (and zone) written with a date: after it ("Nov 19, 2019, 10:31 pm CST") or before it
    ("7:07 PM EST Nov 19, 2019", "12:24 am EST, Wednesday, November 20, 2019")."""
    m = _CLOCK_AFTER.match(text[end : end + 40])
    if not m:
        m = _CLOCK_BEFORE.search(text[max(0, start - 40) : start])
    return _clock(int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)) if m else (None, None)


def _text_dates(
    text: str, month_first: bool = False
) -> list[tuple[_Day, int, tuple[int, int] | None, timedelta | None]]:
    """Dates written out in a text, in order, each with its position, clock time and timezone when given.
    A numeric "05/10/2018" is read day-first unless `month_first` (an English page); the other reading is kept."""
    out: list[tuple[_Day, int, tuple[int, int] | None, timedelta | None]] = []
    taken: list[tuple[int, int]] = []
    for kind, rx in enumerate(_TEXT_DATES):
        for m in rx.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if kind == 0:
                day = _Day(_year(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
            elif kind == 1:
                day = _Day(_year(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
            elif kind == 2:
                day = _Day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            else:
                a, b, y = int(m.group(1)), int(m.group(2)), _year(m.group(3))
                if a > 12 >= b:
                    day = _Day(y, b, a)
                elif b > 12 >= a:
                    day = _Day(y, a, b)
                elif a <= 12 and b <= 12:
                    day = _Day(y, a, b, other=(b, a)) if month_first else _Day(y, b, a, other=(a, b))
                else:
                    continue
            if not (1 <= day.month <= 12 and 1 <= day.day <= 31) or (day.year and not 1900 < day.year < 2100):
                continue
            taken.append((m.start(), m.end()))
            clock, tz = _clock_near(text, m.start(), m.end())
            out.append((day, m.start(), clock, tz))
    out.sort(key=lambda item: item[1])
    return out


def _sane(when: _When | None, now: datetime) -> bool:
    return when is not None and _MIN_YEAR <= when.utc.year and when.utc <= now + timedelta(days=1)


# --------------------------------------------------------------------------------------------------- JSON-LD


def _load_json(raw: str) -> Any:
    raw = raw.strip().removeprefix("<!--").removesuffix("-->").strip()
    if "CDATA" in raw or "]]>" in raw:  # the search runs through the whole text: most scripts have neither
        raw = re.sub(r"^\s*//\s*<!\[CDATA\[|//\s*\]\]>\s*$", "", raw)
    try:
        return json.loads(raw, strict=False)
    except ValueError:
        pass
    fixed = re.sub(r",\s*([\]}])", r"\1", raw)  # trailing commas
    fixed = re.sub(r"(?<=[,{\[])\s*//[^\n]*", "", fixed)  # // comments after a comma or a bracket
    try:
        return json.loads(fixed, strict=False)
    except ValueError:
        pass
    # broken beyond repair (an unescaped quote...): the handful of fields read here
    node: dict[str, Any] = {}
    for key in ("@type", "headline", "datePublished", "dateModified"):
        m = re.search(r'"' + re.escape(key) + r'"\s*:\s*"((?:[^"\\]|\\.)*)"', raw)
        if m:
            node[key] = m.group(1)
    m = re.search(r'"author"\s*:\s*(?:\[\s*)?\{[^{}]*?"name"\s*:\s*"((?:[^"\\]|\\.)*)"', raw)
    if m:
        node["author"] = {"name": m.group(1)}
    return node or None


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("@type") or node.get("type") or []
    return {str(x).rsplit("/", 1)[-1].lower() for x in ([t] if isinstance(t, str) else t) if x}


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for item in value for v in _names(item)]
    if isinstance(value, dict):
        return _names(value.get("name"))
    return []


def _url_key(url: Any) -> str:
    if not isinstance(url, str):
        return ""
    parts = urlsplit(url.strip())
    return (parts.hostname or "").removeprefix("www.") + parts.path.rstrip("/")


def _node_urls(node: dict[str, Any]) -> set[str]:
    out = set()
    for key in ("url", "@id", "mainEntityOfPage"):
        value = node.get(key)
        if isinstance(value, dict):
            value = value.get("@id") or value.get("url")
        if isinstance(value, str):
            out.add(_url_key(value.split("#")[0]))
    return out


class _JsonLd:
    """The page's JSON-LD: its article objects (this page's own first), its web-page objects and an @id index.
    Articles inside lists or other objects (related stories, "isPartOf") are not this page's article."""

    def __init__(self, scripts: list[Any], url: str | None) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self.articles: list[dict[str, Any]] = []
        self.pages: list[dict[str, Any]] = []
        for script in scripts:
            if script.get("type") not in ("application/ld+json", "application/json+ld"):
                continue
            data = _load_json(script.text or "")
            if data is not None:
                self._walk(data, top=True)
        page = _url_key(url)
        self.articles.sort(key=lambda n: (not page or page not in _node_urls(n), "headline" not in n))

    def _walk(self, data: Any, top: bool, depth: int = 0) -> None:
        if depth > 8:
            return
        if isinstance(data, list):
            for item in data:
                self._walk(item, top, depth + 1)
            return
        if not isinstance(data, dict):
            return
        self.nodes.append(data)
        node_id = data.get("@id")
        if isinstance(node_id, str) and (node_id not in self.by_id or set(data) - {"@id", "@type"}):
            self.by_id[node_id] = data
        types = _types(data)
        if top and types & ARTICLE_TYPES:
            self.articles.append(data)
        elif top and types & PAGE_TYPES:
            self.pages.append(data)
        for key, value in data.items():
            if isinstance(value, dict | list) and key != "@context":
                self._walk(value, top and key in ("@graph", "mainEntity", "mainEntityOfPage"), depth + 1)

    def resolve(self, node: Any) -> Any:
        """{"@id": "#author"} → the object with that @id, when the page has it."""
        if isinstance(node, dict) and set(node) <= {"@id", "@type"} and isinstance(node.get("@id"), str):
            return self.by_id.get(node["@id"], node)
        return node

    def values(self, key: str, nodes: list[dict[str, Any]]) -> Iterator[Any]:
        for node in nodes:
            value = node.get(key)
            if value not in (None, "", [], {}):
                yield value


# ------------------------------------------------------------------------------------------------- the page


_PAGE_TAGS = ("script", "meta", "title", "a")


class _Page:
    """One page's signals, read once: meta tags, JSON-LD, site names, and (once the headline element is known)
    the elements around the headline."""

    def __init__(
        self,
        tree: Any,
        url: str | None,
        document: Any | None,
        elements: dict[str, list[Any]] | None = None,
        source: str | None = None,
    ) -> None:
        self.tree = tree
        self.source = source
        self.url = url or getattr(document, "url", None)
        self.document = document
        self.now = datetime.now(UTC)
        self.host = _host_key(self.url)
        lang = (tree.get("lang") or tree.get("xml:lang") or "").lower()
        self.month_first = lang.startswith("en")  # "11/05/2019" is November 5 on an English (US) page
        self.meta: dict[str, list[str]] = {}
        self.itemprop_meta: list[tuple[str, str, Any]] = []
        # the document's <script>, <meta>, <title> and <a> elements by tag, from one walk (a walk each cost more), or
        # from the caller's; `tree` is the document's root but for a fragment, where <meta> and <title> are looked
        # for below it only
        root = tree.getroottree().getroot()
        if elements is None:
            elements = {tag: [] for tag in _PAGE_TAGS}
            for el in root.iter(*_PAGE_TAGS):
                elements[el.tag].append(el)
        self.scripts = elements["script"]
        self.h1s: list[Any] | None = elements.get("h1") if tree is root else None
        self.author_links = [el for el in elements["a"] if el.get("rel") == "author"]
        self.titles = elements["title"] if tree is root else list(tree.iter("title"))
        for m in elements["meta"] if tree is root else tree.iter("meta"):
            content = (m.get("content") or "").strip()
            if not content:
                continue
            key = (m.get("property") or m.get("name") or m.get("http-equiv") or "").strip().lower()
            if key:
                self.meta.setdefault(key, []).append(content)
            elif m.get("itemprop"):
                self.itemprop_meta.append((m.get("itemprop").strip().lower(), content, m))
        self.ld = _JsonLd(self.scripts, self.url)
        self.first_title = next((el for el in elements["title"] if not _in_svg(el)), None)
        self.site_names = self._site_names()
        self.site_keys = {_norm(s) for s in self.site_names if _norm(s)} | ({self.host} if self.host else set())
        self.headline_el: Any = None
        self._after: list[Any] | None = None
        self._before: list[Any] | None = None
        self._header: list[Any] | None = None
        self._near: dict[tuple[str, int, int], list[Any]] = {}

    def metas(self, *keys: str) -> Iterator[tuple[str, str]]:
        for key in keys:
            for value in self.meta.get(key, ()):
                yield key, value

    def _site_names(self) -> list[str]:
        names: list[str] = [v for _, v in self.metas(*_SITE_META) if not re.match(r"https?://", v)]
        for node in self.ld.articles + self.ld.pages:
            names.extend(_names(self.ld.resolve(node.get("publisher"))))
        for node in self.ld.nodes:
            if _types(node) & {"website", "newsmediaorganization"}:
                names.extend(_names(node.get("name")))
        names.extend(v.lstrip("@") for _, v in self.metas("twitter:site"))
        sitename = getattr(self.document, "sitename", None)
        if isinstance(sitename, str):
            names.append(sitename)
        titles = {_clean_space(v).casefold() for _, v in self.metas(*_TITLE_META)}
        titles |= {_clean_space(t.text_content()).casefold() for t in self.titles}
        out: list[str] = []
        for name in map(_clean_space, names):
            # application-name is sometimes the page's title, which names no site
            if name and name not in out and len(name.split()) <= 8 and name.casefold() not in titles:
                out.append(name)
        return out

    def is_site(self, text: str) -> bool:
        """Is this text the site's name or its domain ("The Guardian", "Express.co.uk", "Autoracing | F1")?"""
        n = _norm(text)
        if len(n) < 2:
            return False
        for key in self.site_keys:
            if n == key or n == "the" + key or "the" + n == key:
                return True
            if n.startswith(key) and re.fullmatch(r"com|net|org|co|couk|ca|in|com\w{2}|\w{2}", n[len(key) :]):
                return True
            if len(n) >= 4 and key.startswith(n) and len(n) >= 0.6 * len(key):
                return True
        return False

    @property
    def after(self) -> list[Any]:
        """The elements after the headline element, in document order."""
        if self._after is None:
            self._after = _following(self.headline_el, 250) if self.headline_el is not None else []
        return self._after

    @property
    def before(self) -> list[Any]:
        """The elements before the headline element, nearest first."""
        if self._before is None:
            self._before = _preceding(self.headline_el, 120) if self.headline_el is not None else []
        return self._before

    @property
    def header(self) -> list[Any]:
        """The elements between the headline and the start of the story (its first long paragraph)."""
        if self._header is None:
            self._header = []
            for el in self.after[:80]:
                if el.tag == "p" and _short_text(el, 150) is None:
                    break
                self._header.append(el)
        return self._header

    def near(self, test: Callable[[Any], bool], xpath: str, after: int, before: int) -> list[Any]:
        """Elements passing `test` close to the headline: up to `after` following ones, then up to `before`
        preceding ones, nearest first. Without a headline element, the whole page (by `xpath`)."""
        key = (xpath, after, before)
        if key not in self._near:
            if self.headline_el is None:
                self._near[key] = list(self.tree.xpath(f"(//body//*[{xpath}])[position() <= {after + before}]"))
            else:
                nodes = list(islice((el for el in self.after if test(el)), after))
                self._near[key] = nodes + list(islice((el for el in self.before if test(el)), before))
        return self._near[key]


# --------------------------------------------------------------------------------------------------- title

_TITLE_SEP = re.compile(r"\s+[|–—·•»:~-]+\s+|\s*\|\s*|\s+::\s+")


def _strip_site(title: str, page: _Page) -> str:
    """ "Headline | Site", "Headline - Site", "Headline — Site", "Headline | Section | Site", "Site: Headline"."""
    title = _clean_space(title)
    stripped = False
    for _ in range(4):
        cut = next((m for m in _TITLE_SEP.finditer(title) if m.start() >= 3 and page.is_site(title[m.end() :])), None)
        if cut is None:
            break
        title, stripped = title[: cut.start()].rstrip(), True
    while stripped:  # the short pieces left between the headline and the site name are sections
        m = re.search(r"\s+\|\s+([^|]{1,40})$", title)
        if not m or len(m.group(1).split()) > 3 or len(title[: m.start()].split()) < 4:
            break
        title = title[: m.start()]
    m = re.match(r"^(.{2,60}?)(?:\s*[|:»]|\s+[-–—])\s+", title)
    if m and page.is_site(m.group(1)) and len(title) - m.end() >= 10:
        title = title[m.end() :]
    return title.strip()


def _similarity(ta: set[str], tb: set[str]) -> float:
    """Share of the shorter title's words found in the other (see _tokens)."""
    if not ta or not tb:
        return 0.0
    if ta == tb:
        return 1.0
    common = len(ta & tb)
    return common / min(len(ta), len(tb)) if common >= 2 else 0.0


def _is_home_link(el: Any) -> bool:
    """A heading that is (or sits in) a link to the site's front page is the site's logo."""
    links = [a for a in (el, *islice(el.iterancestors(), 3)) if a.tag == "a"] or el.findall(".//a")[:1]
    for a in links[:1]:
        href = (a.get("href") or "").strip()
        if href and urlsplit(href).path in ("", "/", "/index.html", "/index.php") and not urlsplit(href).query:
            return not href.startswith("#")
    return False


def _in_article(el: Any) -> bool:
    if el.get("itemprop") == "headline":
        return True
    return any(a.tag in ("article", "main") or a.get("itemprop") == "articleBody" for a in el.iterancestors())


def _may_have_headline_prop(source: str) -> bool:
    at = source.find("headline")
    while at >= 0:
        if _ITEMPROP_BEFORE.search(source, max(0, at - 40), at):
            return True
        at = source.find("headline", at + 8)
    return False


def _strong_headlines(page: _Page) -> list[Any]:
    """<h1>s and itemprop=headline elements other than <meta>, in document order."""
    if page.h1s is not None and page.source is not None and not _may_have_headline_prop(page.source):
        return page.h1s
    return page.tree.xpath(_STRONG_HEADLINE_XPATH)


def _weak_headlines(tree: Any) -> list[Any]:
    """<h2>s, and <p>, <div>, <span>, <dt>, <h3>, <header> elements whose class contains "title", "headline" or
    "titul", in document order. In XPath (a union of two searches, then sorted) this cost four times as much."""
    out = []
    for el in tree.getroottree().getroot().iter(*_WEAK_HEADLINE_TAGS):
        cls = el.get("class")
        if el.tag == "h2" or (cls and any(word in cls for word in _WEAK_HEADLINE_CLASSES)):
            out.append(el)
    return out


def _title(page: _Page) -> str | None:
    """The headline as the reader sees it: the <h1> (or itemprop=headline) that says what the page's meta titles
    say, or else the best meta title with the site's name taken off. Remembers the headline element."""
    refs: list[str] = [v for value in page.ld.values("headline", page.ld.articles) for v in _names(value)]
    refs += [v for _, v in page.metas(*_TITLE_META)]
    refs += [page.first_title.text_content() or ""] if page.first_title is not None else []
    cleaned: list[str] = []
    for ref in refs:
        ref = _strip_site(_unescape(ref), page)
        if ref and not page.is_site(ref) and ref not in cleaned:
            cleaned.append(ref)

    best: tuple[float, int, int] | None = None
    best_el, best_text = None, ""
    lone: list[tuple[Any, str]] = []
    # strong candidates first; h2 and class="...title..." elements only when no strong one matched closely
    for strong in (True, False):
        if (best is not None and best[0] >= 0.8) or (not strong and not cleaned):
            break
        ref_tokens = [_tokens(ref) for ref in cleaned]
        candidates = _strong_headlines(page) if strong else _weak_headlines(page.tree)
        for order, el in enumerate(candidates):
            text = _short_text(el, 300)
            if not text:
                continue
            tokens = _tokens(text)
            sim = max((_similarity(tokens, ref) for ref in ref_tokens), default=0.0)
            matches = sim >= (0.5 if strong else 0.8)
            if not (matches or strong) or page.is_site(text) or _is_home_link(el):
                continue
            if matches:
                key = (sim, int(strong), -order)
                if best is None or key > best:
                    best, best_el, best_text = key, el, text
            elif len(text.split()) >= 3 and not _is_excluded(el):
                lone.append((el, text))
    if best_el is not None:
        page.headline_el = best_el
        return _strip_site(best_text, page)
    # no meta title to compare with, or the page's meta titles are SEO variants: a lone article headline
    if len({text for _, text in lone}) == 1 and (not cleaned or _in_article(lone[0][0])):
        page.headline_el = lone[0][0]
        return lone[0][1]
    if cleaned:
        return cleaned[0]
    # trafilatura's title only now: it is often the page's <h1>, which may be the site's logo
    doc_title = getattr(page.document, "title", None)
    if isinstance(doc_title, str):
        return _strip_site(doc_title, page) or None
    return None


# -------------------------------------------------------------------------------------------------- people


def _wire(text: str) -> str | None:
    """The normalised wire name when the whole text is a wire/agency credit ("The Associated Press" → "AP")."""
    m = _WIRE_RE.fullmatch(_clean_space(text).strip(" .,;:()[]-–—"))
    return _WIRE_NAMES[int(m.lastgroup[1:])] if m and m.lastgroup else None


def _wires_in(text: str) -> list[str]:
    out: list[str] = []
    for m in _WIRE_BOUNDED.finditer(text):
        name = _WIRE_NAMES[int(m.lastgroup[1:])] if m.lastgroup else None
        if name and name not in out:
            out.append(name)
    return out


def _person(raw: str, page: _Page, single_ok: bool) -> str | None:
    """A person's displayed name, or None for organisations, accounts, handles and job titles.
    One-word names ("Regan") only when the source says it is a person (`single_ok`)."""
    name = _PREFIX.sub("", _clean_space(raw).strip(" .,;:|-–—()[]\"'“”")).strip(" .,;:|-–—")
    if not name or len(name) > 60 or re.search(r"[\d@_/\\:|=+#%{}<>]", name):
        return None
    words = name.split()
    while len(words) > 2 and words[-1].isupper() and len(words[-1]) > 1 and not name.isupper():
        words = words[:-1]  # "Kevin McCoy USA": an outlet in capitals glued to the name
    name = " ".join(words)
    lower = [w.strip(".,").casefold() for w in words]
    pieces = {p for w in lower for p in re.split(r"[-–]", w)}  # "Editor-at-large"
    if len(words) > 5 or lower[0] in _ARTICLES or ".com" in name.casefold():  # "The Water Coolest", "El Universal"
        return None
    if pieces & _NOT_PERSON_WORDS or page.is_site(name) or _norm(name) in page.site_keys:
        return None
    cased = any(ch.isalpha() and ch.upper() != ch.lower() for ch in name)  # a script with capitals
    if len(words) == 1:
        n = _norm(name)
        if not (single_ok or not cased) or re.search(r"admin|editor|staff|user|guest|team", n):
            return None
        if len(n) >= 4 and any(n in key for key in page.site_keys):
            return None  # "Vortex" on vortexcannon.org: the studio, not a person
        if name.islower() or name.isupper():
            return None  # "webnata", "KWCHCIK", "AS": logins and initials
    if cased:
        if any(w[0].isalpha() and not w[0].isupper() and w.casefold() not in _NAME_PARTICLES for w in words):
            return None
        if name.isupper():
            name = " ".join("-".join(p[:1] + p[1:].lower() for p in w.split("-")) for w in words)
    return name


def _parse_byline(raw: str, page: _Page, single_ok: bool = False) -> tuple[list[str], list[str]]:
    """People and wire credits in a byline: "By Jane Doe and John Roe, AP", "Jane Doe, Staff Writer",
    "Doe, Jane", "Por Juan Pérez y María López", "Jane Doe | Newspaper", "Reuters, Washington"."""
    text = _clean_space(_unescape(raw))
    text = re.sub(r"\S+@\S+\.\w+|https?://\S+|(?<!\w)@\w+|\(\s*\)", " ", text)  # e-mails, links, handles
    text = re.sub(r"\+?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}", " ", text)  # phone numbers
    text = _GLUED.sub(" ", text)
    m = _DATE_CUT.search(text)
    if m and m.start() > 0:
        text = text[: m.start()]
    text = re.sub(r"(?i)^(?:and|y)\s+", "", _PREFIX.sub("", _clean_space(text)))
    lead = re.match(r"^\s*(" + _WIRE_RE.pattern + r")\s*[,/-]", text)
    if lead and (wire := _wire(lead.group(1))):
        return [], [wire]  # "Reuters, Washington": the credit and the dateline's city
    credits = _wires_in(text)
    text = _WIRE_BOUNDED.sub(" , ", text)
    parts: list[str] = []
    for chunk in re.split(r"\s*(?:;|\||&|\+|/|\s[-–—]\s|\s(?:and|And|AND|y|und|et|with|con)\s)\s*", text):
        pieces = [p.strip() for p in chunk.strip(" ,.").split(",") if p.strip()]
        if len(pieces) == 2 and all(len(p.split()) == 1 and _person(p, page, True) for p in pieces):
            parts.append(f"{pieces[1]} {pieces[0]}")  # "Doe, Jane"
        else:
            parts.extend(pieces)
    people: list[str] = []
    for part in parts:
        person = _person(re.sub(r"\s*\([^)]*\)", "", part), page, single_ok)
        if person and person.casefold() not in {p.casefold() for p in people}:
            people.append(person)
    return people, credits


def _jsonld_people(page: _Page) -> tuple[list[str], list[str]]:
    """Authors of the page's article object (or of its web-page object): Persons are people, Organizations
    are dropped unless they are a wire."""
    credits: list[str] = []
    for node in page.ld.articles + page.ld.pages:
        people: list[str] = []
        value = node.get("author")
        for item in value if isinstance(value, list) else [value]:
            item = page.ld.resolve(item)
            if isinstance(item, dict):
                names = _names(item.get("name"))
                if not names and (item.get("givenName") or item.get("familyName")):
                    names = [f"{item.get('givenName') or ''} {item.get('familyName') or ''}"]
                if _types(item) & ORG_TYPES:
                    credits.extend(w for n in names if (w := _wire(n)))
                    continue
            elif isinstance(item, str):
                names = [item]
            else:
                continue
            for name in names:
                found, wires = _parse_byline(name, page, single_ok=True)
                credits += wires
                people += [p for p in found if p.casefold() not in {x.casefold() for x in people}]
        if people:
            return people, credits
    return [], credits


def _byline_people(page: _Page) -> tuple[list[str], list[str]]:
    """The visible byline nearest the headline: an element marked as one (class byline/author, rel=author,
    itemprop=author), or a short "By ..." / "Por ..." line between the headline and the story."""
    candidates = page.near(_is_byline_el, _BYLINE_XPATH, 12, 4)
    plain = [el for el in page.header if el.tag in _PLAIN_TAGS and el not in candidates][:12]
    for el in candidates[:6] + plain + candidates[6:]:
        if el.tag in ("body", "html", "article", "main", "meta", "link") or _is_excluded(el):
            continue
        text = _short_text(el, 160)
        if not text:
            continue
        marked = _is_byline_el(el)
        if not marked:
            m = _BYLINE_TEXT.search(text)
            if not m or m.start() > 25:
                continue
            text = text[m.start() :]
        single_ok = el.get("rel") == "author" or el.get("itemprop") == "author"
        people, credits = _parse_byline(text, page, single_ok)
        if people or credits:
            # a byline box may hold more than the names ("Jane Doe and John Roe Sioux Falls Argus Leader
            # Published ..."): a marked element inside it that names more of the same people reads cleaner
            for inner in el.iterdescendants():
                if inner in candidates:
                    better = _parse_byline(_short_text(inner, 160) or "", page, single_ok)[0]
                    if len(better) > len(people) and {p.casefold() for p in people} <= {p.casefold() for p in better}:
                        people = better
            return people, credits
    return [], []


def _text_credits(page: _Page) -> list[str]:
    """Wire credits written into the story: "HAYWARD, Calif. (AP) —", "(Reuters) -", "MADRID (EFE).-",
    "... into the US. PTI", "With inputs from Reuters"."""
    text = getattr(page.document, "text", None)
    if not isinstance(text, str) or not text.strip():
        if page.headline_el is not None:
            paras = [el for el in page.after if el.tag == "p"][:8]
        else:
            paras = page.tree.xpath("(//p)[position() <= 8]")
        text = "\n".join(_text(p) for p in paras)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    out: list[str] = []
    for line in lines[:3]:  # the dateline (the first line may be the headline)
        m = re.match(r"^[^(]{0,90}?\(([^()]{2,40})\)\s*\.?\s*[—–-]", line)
        if m:
            out += [w for part in re.split(r"[/,]| and ", m.group(1)) if (w := _wire(part))]
            break
    for line in lines[-3:]:  # a sign-off
        m = re.search(r"(?:^|[.!?”\"]\s+)[(—–-]*\s*([A-Z][A-Za-z .-]{1,30}?)\s*\)?\s*\.?$", line)
        if m and (w := _wire(m.group(1))):
            out.append(w)
        m = re.search(r"(?i)(?:inputs?|information|reporting)\s+(?:from|by)\s+([A-Za-z ]{2,30})\.?$", line)
        if m:
            out += _wires_in(m.group(1))
    return out


def _people(page: _Page) -> tuple[list[str], list[str]]:
    people, credits = _jsonld_people(page)
    if not people:
        people, wires = _byline_people(page)
        credits += wires
    if not people:
        for _, value in page.metas(*_AUTHOR_META):
            if not re.match(r"https?://|\{", value):
                found, wires = _parse_byline(value, page)
                credits += wires
                if found:
                    people = found
                    break
    author = getattr(page.document, "author", None)
    if not people and isinstance(author, str):
        # trafilatura's guess, kept only for names written as such on the page, outside comments and widgets
        for part in author.split(";"):
            found, wires = _parse_byline(part, page)
            credits += wires
            for name in found:
                shown = page.tree.xpath("//body//text()[contains(., $n)]", n=name)[:5]
                if any(t.getparent() is not None and not _is_excluded(t.getparent()) for t in shown):
                    people.append(name)
    # wire credits stated elsewhere: rel=author links, meta author, the publisher, the story's dateline
    credits += [w for el in page.author_links if (w := _wire(_text(el))) and not _is_excluded(el)]
    credits += [w for _, value in page.metas(*_AUTHOR_META) for w in _wires_in(value)]
    for node in page.ld.articles:
        credits += [w for n in _names(page.ld.resolve(node.get("publisher"))) if (w := _wire(n))]
    credits += _text_credits(page)
    return people, list(dict.fromkeys(credits))


# --------------------------------------------------------------------------------------------------- dates


def _published_candidates(page: _Page) -> Iterator[_When | None]:
    """Publication timestamps, most trusted first: the article's JSON-LD, meta tags, the web page's JSON-LD,
    itemprop metas, and a <time> right at the headline."""
    for value in page.ld.values("datePublished", page.ld.articles):
        yield _parse_when(str(value))
    for _, value in page.metas(*_PUBLISHED_META):
        yield _parse_when(value)
    for value in page.ld.values("datePublished", page.ld.pages):
        yield _parse_when(str(value))
    for wanted in ("datepublished", "datecreated"):
        for key, value, el in page.itemprop_meta:
            if key == wanted and not _is_excluded(el):
                yield _parse_when(value)
    for el in page.near(_is_time_el, _TIME_XPATH, 4, 2):
        if _is_excluded(el) or el.get("itemprop") == "dateModified" or _UPDATED.search(el.get("class") or ""):
            continue
        if _UPDATED.search((_short_text(el, 200) or "")[:30] + " " + _lead_in(el, 30)):
            continue
        yield _parse_when(el.get("datetime") or el.get("content") or _text(el))


def _visible_dates(page: _Page) -> list[tuple[_Day, tuple[int, int] | None, timedelta | None]]:
    """The dates of the dateline under (or just over) the headline, "Updated ..." ones left out."""
    if page.headline_el is None:
        return []
    out = []
    for el in page.near(_is_date_el, _DATE_XPATH, 25, 6) + page.header[:25]:
        if _is_excluded(el) or _UPDATED.search(el.get("class") or ""):
            continue
        text = _short_text(el, 220)
        if not text:
            continue
        lead = _lead_in(el, 45)
        for day, pos, clock, tz in _text_dates(text, page.month_first):
            before = re.split(r"[;|•·]", lead + " " + text[:pos])[-1][-45:]
            if not (_UPDATED.search(before) and not _POSTED.search(before[-12:])):
                out.append((day, clock, tz))
        if out:
            break
    return out


def _page_offset(page: _Page) -> timedelta | None:
    """The page's own timezone: the offset its other timestamps are written in, or the zone of its dateline
    ("Updated 11:21 pm CST")."""
    offsets: Counter[timedelta] = Counter()
    values = [v for _, v in page.metas(*_PUBLISHED_META, *_MODIFIED_META)]
    for node in page.ld.articles + page.ld.pages:
        values += [node[k] for k in ("datePublished", "dateModified", "dateCreated") if isinstance(node.get(k), str)]
    for value in values:
        when = _parse_when(value)
        if when and when.offset:
            offsets[when.offset] += 1
    if offsets:
        return offsets.most_common(1)[0][0]
    if page.headline_el is not None:
        for el in page.near(_is_date_el, _DATE_XPATH, 25, 6):
            m = None if _is_excluded(el) else _TZ_WORD.search(_short_text(el, 300) or "")
            if m:
                return timedelta(minutes=_TZ_MINUTES[m.group(1).lower()])
    return None


def _url_day(url: str | None) -> date | None:
    m = re.search(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$|-)", urlsplit(url or "").path)
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        return None


def _local_day(page: _Page, published: _When, visible: list[tuple[_Day, Any, Any]]) -> date:
    """The publication day in the page's own timezone."""
    if published.date_only:
        return published.day
    utc_day = published.utc.date()
    # the dateline under the headline says which day it was where the story was posted
    for day, _clock, _tz in visible:
        for month, dd in ((day.month, day.day), day.other or (day.month, day.day)):
            for year in [day.year] if day.year else [utc_day.year, utc_day.year - 1]:
                try:
                    d = date(year, month, dd)
                except ValueError:
                    continue
                if abs((d - utc_day).days) <= 1 and abs((d - published.day).days) <= 1:
                    return d
    if published.explicit:
        return published.day
    offset = _page_offset(page)
    if offset is not None:
        return (published.utc + offset).date()
    url_day = _url_day(page.url)
    if url_day and abs((url_day - utc_day).days) <= 1:
        return url_day
    return published.day


def _dates(page: _Page, local_day: bool = True) -> tuple[datetime | None, date | None, datetime | None]:
    published = next((w for w in _published_candidates(page) if _sane(w, page.now)), None)
    # the visible dateline is read only when it is needed: no machine-readable date, or the local day asked for
    visible = _visible_dates(page) if published is None or local_day else []
    if published is None:  # no machine-readable date: the dateline, then trafilatura's date, then the URL's
        for day, clock, tz in visible:
            when = _make_when(day.year, day.month, day.day, clock, 0, tz if clock else None) if day.year else None
            if _sane(when, page.now):
                published = when
                break
    if published is None:
        when = _parse_when(getattr(page.document, "date", None))
        published = when if _sane(when, page.now) else None
    if published is None and (day := _url_day(page.url)):
        when = _make_when(day.year, day.month, day.day)
        published = when if _sane(when, page.now) else None

    modified_values = list(page.ld.values("dateModified", page.ld.articles))
    modified_values += [v for _, v in page.metas(*_MODIFIED_META)]
    modified_values += [v for k, v, _ in page.itemprop_meta if k == "datemodified"]
    modified = next((w for v in modified_values if _sane(w := _parse_when(str(v)), page.now)), None)

    modified_at = modified.utc if modified else None
    if published is None:
        return None, None, modified_at
    return published.utc, _local_day(page, published, visible) if local_day else None, modified_at


# ---------------------------------------------------------------------------------------------------- main


def _site_name(page: _Page) -> str | None:
    for _, value in page.metas("og:site_name"):
        if not re.match(r"https?://", value):
            return _clean_space(value)
    for node in page.ld.articles:
        for name in _names(page.ld.resolve(node.get("publisher"))):
            return _clean_space(name)
    return page.site_names[0] if page.site_names else None


def extract_metadata(
    tree: Any,
    url: str | None,
    document: Any | None = None,
    local_day: bool = True,
    elements: dict[str, list[Any]] | None = None,
    source: str | None = None,
) -> Metadata:
    """Title, people, wire credits, dates and site name of one page.

    `tree` is the page parsed with lxml.html (not modified here); `document` is trafilatura's
    `bare_extraction(..., with_metadata=True)` result, used only where the page itself says nothing.
    `local_day=False` skips `published_date` (the day in the page's own timezone), which costs a search of
    the visible dateline when the page has a machine-readable date; `published_at` is the same either way.
    `elements`: the document's <script>, <meta>, <title> and <a> elements by tag in document order, when the
    caller has listed them (flows.extraction.page_elements), and <h1> too when they come from there. `source`:
    the HTML `tree` was parsed from, when the caller has it; its text tells when a search of the tree is not needed."""
    page = _Page(tree, url, document, elements, source)
    title = _title(page)  # first: it finds the headline element the byline and dateline are looked for near
    authors, credits = _people(page)
    published_at, published_date, modified_at = _dates(page, local_day)
    return Metadata(
        title=title or None,
        authors=authors,
        credits=credits,
        published_at=published_at,
        modified_at=modified_at,
        site_name=_site_name(page),
        published_date=published_date,
    )
