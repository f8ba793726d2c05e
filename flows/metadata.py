"""Article metadata: headline, people credited, wire/agency credits, publication dates and the site's name.

`extract_metadata` reads a page already parsed with lxml.html. The page's own markup comes first (JSON-LD,
meta tags, the visible headline, byline and dateline next to it); trafilatura's metadata (`document`) is only a
fallback. No site-specific rules: everything here must hold on pages never seen.

Dates: `published_at`/`modified_at` are aware UTC datetimes (a bare date becomes midnight UTC of that day).
`published_date` is the publication *day as the page states it*, in the page's own timezone: a story posted at
11 pm in New York is dated that day even though it is already the next day in UTC.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

from lxml import etree


@dataclass
class Metadata:
    title: str | None
    authors: list[str]  # people only, as displayed ("Jane Doe")
    credits: list[str]  # wire/agency credits, normalised ("AP", "Reuters", "EFE", "AFP", ...)
    published_at: datetime | None  # aware, UTC
    modified_at: datetime | None  # aware, UTC
    site_name: str | None
    published_date: date | None = field(default=None)  # the publication day in the page's own timezone


# --------------------------------------------------------------------------------------------------- constants

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "askpublicnewsarticle",
    "satiricalarticle",
    "blogposting",
    "liveblogposting",
    "posting",
    "socialmediaposting",
    "techarticle",
    "scholarlyarticle",
    "report",
    "advertisercontentarticle",
}
PAGE_TYPES = {"webpage", "itempage", "collectionpage", "aboutpage"}
ORG_TYPES = {
    "organization",
    "newsmediaorganization",
    "corporation",
    "localbusiness",
    "educationalorganization",
    "governmentorganization",
    "ngo",
    "website",
    "brand",
}

# wire / agency credits: pattern → normalised name. Abbreviations are matched case-sensitively.
_WIRES: list[tuple[str, str, bool]] = [
    (r"(?:The\s+)?Associated\s+Press", "AP", False),
    (r"AP", "AP", True),
    (r"(?:Thomson\s+)?Reuters", "Reuters", False),
    (r"Agence\s+France[- ]Presse", "AFP", False),
    (r"AFP", "AFP", True),
    (r"(?:Agencia\s+)?EFE", "EFE", False),
    (r"Notimex|NTX", "Notimex", False),
    (r"Europa\s+Press", "Europa Press", False),
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
    (r"Prensa\s+Latina", "Prensa Latina", False),
]
_WIRE_RE = re.compile(
    "|".join(f"(?P<w{i}>{'' if cs else '(?i:'}{pat}{'' if cs else ')'})" for i, (pat, _, cs) in enumerate(_WIRES))
)
_WIRE_NAMES = [name for _, name, _ in _WIRES]
_WIRE_BOUNDED = re.compile(r"(?<![\w&-])(?:" + _WIRE_RE.pattern + r")(?![\w&-])")

_PREFIX = re.compile(
    r"^(?:(?:story|words|text|reporting|report|analysis|opinion|commentary|review|column|interview|"
    r"written|posted|published|compiled|edited|photos?|video)\s+by|by|por|von|par|"
    r"(?:publicado|escrito|redactado|elaborado|texto|reportaje|cr[oó]nica|informaci[oó]n|columna)\s+(?:por|de)|"
    r"texto|text|autor(?:a|es)?|author|texte|текст|автор|bron)\s*[:.]?\s+",
    re.I,
)
# words that make a byline part a job title, a credential or an organisation rather than a person
_NOT_PERSON_WORDS = {
    # roles
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
    "periódico", "diario", "revista", "weekly", "times", "post", "herald", "tribune", "journal", "gazette",
    "express", "insider", "review", "reviews", "world", "international", "science", "x",
}  # fmt: skip
_CREDENTIAL = re.compile(r"^(?:[A-Z]{2,4}|Ph\.?D\.?|M\.?D\.?|M\.?S\.?|R\.?N\.?|MBA|Esq\.?)$")
_NAME_PARTICLES = {"de", "del", "la", "las", "los", "da", "das", "do", "dos", "di", "van", "von", "der", "den",
                   "du", "le", "el", "y", "bin", "ibn", "al", "ben", "st.", "e", "ter", "zu"}  # fmt: skip

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
    # German / French / Italian / Indonesian (the common ones)
    "januar": 1, "februar": 2, "märz": 3, "mai": 5, "juni": 6, "juli": 7, "oktober": 10, "okt": 10,
    "dezember": 12, "janvier": 1, "février": 2, "mars": 3, "avril": 4, "juin": 6, "juillet": 7, "août": 8,
    "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12, "gennaio": 1, "febbraio": 2, "aprile": 4,
    "maggio": 5, "giugno": 6, "luglio": 7, "settembre": 9, "ottobre": 10, "dicembre": 12, "januari": 1,
    "februari": 2, "maret": 3, "agustus": 8, "desember": 12, "nopember": 11,
}  # fmt: skip
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_TZ_MINUTES = {
    "utc": 0, "gmt": 0, "z": 0, "wet": 0, "bst": 60, "cet": 60, "cest": 120, "eet": 120, "eest": 180,
    "msk": 180, "ist": 330, "pkt": 300, "ict": 420, "wib": 420, "sgt": 480, "hkt": 480, "pht": 480,
    "awst": 480, "jst": 540, "kst": 540, "aest": 600, "aedt": 660, "nzst": 720, "nzdt": 780, "est": -300,
    "edt": -240, "et": -300, "cst": -360, "cdt": -300, "ct": -360, "mst": -420, "mdt": -360, "mt": -420,
    "pst": -480, "pdt": -420, "pt": -480, "akst": -540, "hst": -600, "art": -180, "brt": -180, "brst": -120,
    "clt": -240, "cot": -300, "pet": -300, "vet": -240,
}  # fmt: skip
_TZ_ALT = "|".join(sorted((t.upper() for t in _TZ_MINUTES if t != "z"), key=len, reverse=True))
_TZ_WORD = re.compile(r"(?<![A-Za-z])(" + _TZ_ALT + r")(?![A-Za-z])")
_TIME = r"(\d{1,2})[:.h](\d{2})(?::\d{2})?\s*([ap]\.?\s?m\.?)?"

# visible dates: "Nov. 19, 2019", "November 18th, 2019", "19 November 2019", "22 de outubro de 2010",
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
_UPDATED = re.compile(
    r"updat|modif|actualiz|atualiz|aktualisiert|edited|last\s|revis|обновл|mis à jour|aggiornat", re.I
)
_POSTED = re.compile(r"\b(?:post|publi|first|fecha|опубл|veröffentlicht)", re.I)

_EXCLUDED_TAGS = {"nav", "footer", "aside", "form", "select", "button", "noscript", "template", "figure", "figcaption"}
_EXCLUDED_CLASS = re.compile(
    r"(?:comments?|commentlist|respond|reply|replies|discussion|disqus\w*|related\w*|relacionad\w*|"
    r"recommend\w*|recirc\w*|sidebar|widget\w*|footer|promo\w*|newsletter|popular|trending|most-?read|"
    r"more-?stories|read-?more|readnext|up-?next|next-?post|prev-?post|teaser\w*|carousel|outbrain|taboola|"
    r"nav|navbar|navigation|menu|breadcrumbs?|bio|author-?bio|author-?box|about-?author|"
    r"author-?description|latest|ticker|caption|copyright|gallery|slideshow)(?:$|[-_])",
    re.I,
)

_SHORT_PREFIX = re.compile(r"^[a-z]{1,3}[-_](?=[a-z])", re.I)  # BEM-ish namespaces: "c-comments", "js-related"

_STRONG_HEADLINE_XPATH = "//h1 | //*[@itemprop='headline'][not(self::meta)]"
_WEAK_HEADLINE_XPATH = (
    "//h2 | //*[self::p or self::div or self::span or self::dt or self::h3 or self::header]"
    "[contains(@class,'title') or contains(@class,'Title') or contains(@class,'headline') "
    "or contains(@class,'Headline') or contains(@class,'titul')]"
)
_BYLINE_CLASS = re.compile(r"byline|author|writer|creditline", re.I)
_DATE_CLASS = re.compile(r"date|time|publish|posted|byline|meta|info", re.I)
_PLAIN_TAGS = {"p", "div", "span", "small", "address", "li"}


def _is_byline_el(el: Any) -> bool:
    if el.get("rel") == "author" or el.get("itemprop") == "author":
        return True
    return bool(_BYLINE_CLASS.search(el.get("class") or "")) or "byline" in (el.get("id") or "").lower()


def _is_date_el(el: Any) -> bool:
    if el.tag == "time" or el.get("datetime") is not None or el.get("itemprop") == "datePublished":
        return True
    return bool(_DATE_CLASS.search(el.get("class") or ""))


def _is_time_el(el: Any) -> bool:
    return el.tag == "time" or el.get("itemprop") == "datePublished"


# the same tests in XPath, for pages where no headline element was found (searched page-wide, in C)
_BYLINE_PRED = (
    "@rel='author' or @itemprop='author' or contains(@class,'byline') or contains(@class,'Byline') "
    "or contains(@class,'author') or contains(@class,'Author') or contains(@id,'byline') "
    "or contains(@class,'writer') or contains(@class,'creditline')"
)
_DATE_PRED = (
    "self::time or @datetime or @itemprop='datePublished' or contains(@class,'date') or contains(@class,'Date') "
    "or contains(@class,'time') or contains(@class,'Time') or contains(@class,'publish') "
    "or contains(@class,'posted') or contains(@class,'byline') or contains(@class,'Byline') "
    "or contains(@class,'meta') or contains(@class,'info') or contains(@class,'dateline')"
)

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


# ------------------------------------------------------------------------------------------------ small helpers


def _clean_space(text: str | None) -> str:
    return " ".join((text or "").split())


def _text(el: Any) -> str:
    """Text of an element, with a space at every tag boundary (no "JamesStaff Writer" glue)."""
    try:
        return " ".join(" ".join(el.itertext()).split())
    except (ValueError, AttributeError):
        return ""


def _short_text(el: Any, limit: int) -> str | None:
    """Like _text, but None as soon as the text is longer than `limit` (bylines and datelines are short;
    joining the text of a whole article container just to throw it away is the slow part)."""
    parts: list[str] = []
    size = 0
    for piece in el.itertext():
        size += len(piece.strip())
        if size > limit:
            return None
        parts.append(piece)
    return " ".join(" ".join(parts).split())


def _norm(text: str) -> str:
    """Letters and digits only, case-folded, accents dropped: for comparing names ("Diario de Juárez" ~
    diariodejuarez.com)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"[\W_]+", "", "".join(ch for ch in folded if not unicodedata.combining(ch)))


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "«": '"', "»": '"', "–": "-", "—": "-", "…": "..."})


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^\w']+", text.translate(_QUOTES).casefold()) if t and t != "'"}


def _is_excluded(el: Any) -> bool:
    """Inside comments, related stories, navigation, sidebars, footers or an author's bio box?"""
    for node in (el, *el.iterancestors()):
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("body", "html"):
            return False
        if tag in _EXCLUDED_TAGS:
            return True
        for token in f"{node.get('class') or ''} {node.get('id') or ''}".split():
            # a class *starting* with the word ("comment-author", "related-links", "c-comments"), so that
            # layout wrappers like "content-sidebar-wrap" or "has-sidebar" do not hide the article
            if _EXCLUDED_CLASS.match(_SHORT_PREFIX.sub("", token)):
                return True
    return False


def _lead_in(el: Any, width: int = 30) -> str:
    """The text just before an element inside its parent (or grandparent): "Updated " for <time> in
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
    host = (urlsplit(url or "").hostname or "").lower()
    labels = [p for p in host.split(".") if p]
    while labels and labels[0] in ("www", "m", "amp", "mobile", "edition", "beta", "en", "es"):
        labels = labels[1:]
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in ("co", "com", "org", "net", "gov", "gob", "ac"):
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


# ----------------------------------------------------------------------------------------------------- dates


@dataclass
class _When:
    utc: datetime
    day: date  # the day in the offset the value was given in (the UTC day when it had none)
    explicit: bool  # an explicit non-UTC offset (or a bare date, which is a local day)
    offset: timedelta | None = None
    date_only: bool = False


def _make_when(y: int, mo: int, d: int, hh: int = 0, mi: int = 0, ss: int = 0, offset: timedelta | None = None,
               date_only: bool = False) -> _When | None:  # fmt: skip
    try:
        local = datetime(y, mo, d, hh, mi, ss)
    except ValueError:
        return None
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
    if t.lower() in _TZ_MINUTES:
        return timedelta(minutes=_TZ_MINUTES[t.lower()])
    return None


_ISO = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?\s*"
    r"(Z|UTC|GMT|(?:GMT|UTC)?\s*[+-]\d{1,2}:?\d{2}|[+-]\d{2})?\s*(?:\([^)]*\))?$",
    re.I,
)
_JS_DATE = re.compile(
    r"^(?:[A-Za-z]{3,9},?\s+)?([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*"
    r"(?:(GMT|UTC)?\s*([+-]\d{2}:?\d{2})?)?\s*(?:\([^)]*\))?$"
)


def _parse_when(value: Any) -> _When | None:
    """A machine-readable date or datetime (ISO 8601 and the usual variants), else the first date in the text."""
    if not isinstance(value, str):
        return None
    text = _clean_space(value)
    if not text:
        return None
    if re.fullmatch(r"\d{8}", text):
        return _make_when(int(text[:4]), int(text[4:6]), int(text[6:]), date_only=True)
    m = _ISO.match(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if m.group(4) is None:
            return _make_when(y, mo, d, date_only=True)
        return _make_when(y, mo, d, int(m.group(4)), int(m.group(5)), int(m.group(6) or 0), _offset(m.group(7)))
    m = _JS_DATE.match(text)
    if m and m.group(1).lower() in _MONTHS:
        off = _offset(m.group(8)) if m.group(8) else (timedelta(0) if m.group(7) else None)
        return _make_when(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)), int(m.group(4)),
                          int(m.group(5)), int(m.group(6) or 0), off)  # fmt: skip
    found = _text_dates(text)
    for day, _pos, clock, tz in found:
        if day.year:
            return _with_clock(day, clock, tz)
    return None


@dataclass
class _Day:
    year: int | None
    month: int
    day: int
    ambiguous: tuple[int, int] | None = None  # (month, day) of the other reading of 05/10/2018

    def to_date(self, year: int | None = None) -> date | None:
        try:
            return date(self.year or year or 0, self.month, self.day)
        except ValueError:
            return None


def _with_clock(day: _Day, clock: tuple[int, int] | None, tz: timedelta | None) -> _When | None:
    hh, mi = clock or (0, 0)
    when = _make_when(day.year or 0, day.month, day.day, hh, mi, 0, tz if clock else None, date_only=clock is None)
    return when


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


_CLOCK_AFTER = re.compile(r"^\W{0,6}(?:at\s+|à\s+|às\s+|a las\s+|um\s+|-+\s*)?" + _TIME + r"\s*,?\s*(" + _TZ_ALT + r")?\b", re.I)
_CLOCK_BEFORE = re.compile(_TIME + r"\s*(" + _TZ_ALT + r")?\s*[,|]?\s*(?:[A-Za-z]+,?\s*)?$", re.I)


def _clock_after(tail: str) -> tuple[tuple[int, int] | None, timedelta | None] | None:
    """"Nov 19, 2019, 10:31 pm CST": the clock time (and zone) written right after a date."""
    m = _CLOCK_AFTER.match(tail)
    return _clock(int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)) if m else None


def _clock_before(head: str) -> tuple[tuple[int, int] | None, timedelta | None]:
    """"7:07 PM EST Nov 19, 2019", "12:24 am EST, Wednesday, November 20": the clock time written before it."""
    m = _CLOCK_BEFORE.search(head)
    return _clock(int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)) if m else (None, None)


def _text_dates(text: str) -> list[tuple[_Day, int, tuple[int, int] | None, timedelta | None]]:
    """Dates written out in text, with their position and the clock time and timezone right after them."""
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
                if a > 12 and b <= 12:
                    day = _Day(y, b, a)
                elif b > 12 and a <= 12:
                    day = _Day(y, a, b)
                elif a <= 12 and b <= 12:
                    day = _Day(y, b, a, ambiguous=(a, b))  # day-first reading, month-first kept as the other
                else:
                    continue
            if not (1 <= day.month <= 12 and 1 <= day.day <= 31) or (day.year and not 1900 < day.year < 2100):
                continue
            taken.append((m.start(), m.end()))
            clock, tz = _clock_after(text[m.end() : m.end() + 40]) or _clock_before(text[max(0, m.start() - 40) : m.start()])
            out.append((day, m.start(), clock, tz))
    out.sort(key=lambda item: item[1])
    return out


def _sane(when: _When | None, now: datetime) -> bool:
    return when is not None and _MIN_YEAR <= when.utc.year and when.utc <= now + timedelta(days=1)


# ---------------------------------------------------------------------------------------------------- JSON-LD


def _load_json(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith("<!--"):
        raw = raw[4:]
    raw = raw.removesuffix("-->").strip()
    raw = re.sub(r"^\s*//\s*<!\[CDATA\[|//\s*\]\]>\s*$", "", raw)
    try:
        return json.loads(raw, strict=False)
    except ValueError:
        pass
    fixed = re.sub(r",\s*([\]}])", r"\1", raw)  # trailing commas
    fixed = re.sub(r"(?m)(?<=[,{\[])\s*//[^\n]*$", "", fixed)  # // comments after a comma or bracket
    fixed = re.sub(r'(?<=[,{\[\s])//"[^\n]*', "", fixed)
    try:
        return json.loads(fixed, strict=False)
    except ValueError:
        pass
    # last resort for broken markup: the handful of fields this module reads
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
    if isinstance(t, str):
        t = [t]
    return {str(x).rsplit("/", 1)[-1].lower() for x in t if x}


class _JsonLd:
    """Every JSON-LD object on the page, the article's own objects ranked first, and an @id index."""

    def __init__(self, tree: Any, url: str | None) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self.articles: list[dict[str, Any]] = []
        self.pages: list[dict[str, Any]] = []
        for script in tree.xpath("//script[@type='application/ld+json' or @type='application/json+ld']"):
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
            if key in ("@graph", "mainEntity", "mainEntityOfPage"):
                self._walk(value, top, depth + 1)
            elif isinstance(value, dict | list) and key not in ("@context",):
                self._walk(value, False, depth + 1)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, dict) and set(node) <= {"@id", "@type"} and isinstance(node.get("@id"), str):
            return self.by_id.get(node["@id"], node)
        return node

    def first(self, key: str, nodes: Iterable[dict[str, Any]]) -> Iterator[Any]:
        for node in nodes:
            value = node.get(key)
            if value not in (None, "", [], {}):
                yield value


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


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for item in value for v in _names(item)]
    if isinstance(value, dict):
        return _names(value.get("name"))
    return []


# ---------------------------------------------------------------------------------------------------- the page


class _Page:
    def __init__(self, tree: Any, url: str | None, document: Any | None) -> None:
        self.tree = tree
        self.url = url or (getattr(document, "url", None) if document is not None else None)
        self.document = document
        self.now = datetime.now(UTC)
        self.host = _host_key(self.url)
        self.meta: dict[str, list[str]] = {}
        self.itemprop_meta: list[tuple[str, str, Any]] = []
        for m in tree.iter("meta"):
            content = m.get("content")
            if content is None or not content.strip():
                continue
            key = (m.get("property") or m.get("name") or m.get("http-equiv") or "").strip().lower()
            if key:
                self.meta.setdefault(key, []).append(content.strip())
            elif m.get("itemprop"):
                self.itemprop_meta.append((m.get("itemprop").strip().lower(), content.strip(), m))
        self.ld = _JsonLd(tree, self.url)
        self.site_names = self._site_names()
        self.site_keys = {_norm(s) for s in self.site_names if _norm(s)} | ({self.host} if self.host else set())
        self.headline_el: Any = None
        self._after: list[Any] | None = None
        self.near_cache: dict[tuple[str, int, int], list[Any]] = {}
        self._before: list[Any] | None = None

    @property
    def after(self) -> list[Any]:
        """The first elements after the headline, in document order (its own descendants left out)."""
        if self._after is None:
            self._after = _following(self.headline_el, 250) if self.headline_el is not None else []
        return self._after

    @property
    def before(self) -> list[Any]:
        """The elements just before the headline, nearest first (its ancestors left out)."""
        if self._before is None:
            self._before = _preceding(self.headline_el, 120) if self.headline_el is not None else []
        return self._before

    def metas(self, *keys: str) -> Iterator[tuple[str, str]]:
        for key in keys:
            for value in self.meta.get(key, ()):
                yield key, value

    def _site_names(self) -> list[str]:
        names: list[str] = []
        for _, value in self.metas(*_SITE_META):
            if not re.match(r"https?://", value):
                names.append(value)
        for node in self.ld.articles + self.ld.pages:
            names.extend(_names(self.ld.resolve(node.get("publisher"))))
        for node in self.ld.nodes:
            types = _types(node)
            if "website" in types or "newsmediaorganization" in types:
                names.extend(_names(node.get("name")))
        for _, value in self.metas("twitter:site"):
            names.append(value.lstrip("@"))
        sitename = getattr(self.document, "sitename", None) if self.document is not None else None
        if isinstance(sitename, str):
            names.append(sitename)
        titles = {_clean_space(v).casefold() for _, v in self.metas(*_TITLE_META)}
        titles |= {_clean_space(t.text_content()).casefold() for t in self.tree.iter("title")}
        out = []
        for n in names:
            n = _clean_space(n)
            # application-name is sometimes the page's title, which is no site name
            if n and n not in out and len(n.split()) <= 8 and n.casefold() not in titles:
                out.append(n)
        return out

    def is_site(self, text: str) -> bool:
        """Is this text the site's name (or its domain)?"""
        n = _norm(text)
        if len(n) < 2:
            return False
        for key in self.site_keys:
            if not key:
                continue
            if n == key or n == "the" + key or "the" + n == key:
                return True
            if n.startswith(key) and re.fullmatch(r"(?:com|net|org|co|couk|ca|in|com\w{2}|\w{2})", n[len(key) :]):
                return True
            if len(n) >= 4 and key.startswith(n) and len(n) >= 0.6 * len(key):
                return True
        return False


# ------------------------------------------------------------------------------------------------------ title

_TITLE_SEP = re.compile(r"\s+[|–—·•»:~-]+\s+|\s*\|\s*|\s+::\s+")


def _strip_site(title: str, page: _Page) -> str:
    title = _clean_space(title)
    stripped = False
    for _ in range(4):
        cut = None
        for m in _TITLE_SEP.finditer(title):
            if m.start() >= 3 and page.is_site(title[m.end() :]):
                cut = m
                break
        if cut is None:
            break
        title, stripped = title[: cut.start()].rstrip(), True
    if stripped:  # "Headline | Section | Site": the short pieces left after the site name are sections
        while True:
            m = re.search(r"\s+\|\s+([^|]{1,40})$", title)
            if not m or len(m.group(1).split()) > 3 or len(title[: m.start()].split()) < 4:
                break
            title = title[: m.start()]
    m = re.match(r"^(.{2,60}?)(?:\s*[|:»]|\s+[-–—])\s+", title)
    if m and page.is_site(m.group(1)) and len(title) - m.end() >= 10:
        title = title[m.end() :]
    return title.strip()


def _similarity(a: str, b: str) -> float:
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    if ta == tb:
        return 1.0
    common = len(ta & tb)
    if common < 2:
        return 0.0
    return common / min(len(ta), len(tb))


def _title(page: _Page) -> str | None:
    refs: list[str] = []
    for value in page.ld.first("headline", page.ld.articles):
        refs.extend(v for v in _names(value) if v)
    for _, value in page.metas(*_TITLE_META):
        refs.append(value)
    for el in page.tree.iter("title"):
        if not _is_svg(el):
            refs.append(el.text_content() or "")
            break
    doc_title = getattr(page.document, "title", None) if page.document is not None else None
    if isinstance(doc_title, str):
        refs.append(doc_title)
    cleaned = []
    for ref in refs:
        ref = _strip_site(_unescape(ref), page)
        if ref and not page.is_site(ref) and ref not in cleaned:
            cleaned.append(ref)

    best: tuple[float, int, int] | None = None
    best_el, best_text = None, None
    lone: list[tuple[Any, str]] = []
    # the visible headline: an <h1> (or itemprop=headline) that says what the meta titles say; other
    # title-ish elements (h2, class="...title...") only when the strong ones found no close match
    for strong, xpath in ((True, _STRONG_HEADLINE_XPATH), (False, _WEAK_HEADLINE_XPATH)):
        if best is not None and best[0] >= 0.8:
            break
        for order, el in enumerate(page.tree.xpath(xpath)):
            text = _short_text(el, 300)
            if not text or page.is_site(text):
                continue
            sim = max((_similarity(text, ref) for ref in cleaned), default=0.0)
            if sim >= (0.5 if strong else 0.8):
                key = (sim, 1 if strong else 0, -order)
                if best is None or key > best:
                    best, best_el, best_text = key, el, text
            elif strong and len(text.split()) >= 3 and not _is_excluded(el):
                lone.append((el, text))
    if best_el is not None and best_text:
        page.headline_el = best_el
        return _strip_site(best_text, page)
    if len({t for _, t in lone}) == 1 and (not cleaned or el_in_article(lone[0][0])):
        page.headline_el = lone[0][0]
        return lone[0][1]
    if cleaned:
        return cleaned[0]
    return None


def el_in_article(el: Any) -> bool:
    return any(
        a.tag in ("article", "main") or a.get("itemprop") in ("articleBody", "mainEntity")
        for a in el.iterancestors()
        if isinstance(a.tag, str)
    ) or el.get("itemprop") == "headline"


def _is_svg(el: Any) -> bool:
    return any(isinstance(a.tag, str) and a.tag.endswith("svg") for a in el.iterancestors())


def _unescape(text: str) -> str:
    if "&" in text:
        import html

        text = html.unescape(html.unescape(text))
    return text


# ---------------------------------------------------------------------------------------------------- people


def _wire(text: str) -> str | None:
    """The normalised wire name when the whole text is a wire/agency credit."""
    t = _clean_space(text).strip(" .,;:()[]-–—")
    m = _WIRE_RE.fullmatch(t)
    if not m:
        return None
    return _WIRE_NAMES[int(m.lastgroup[1:])] if m.lastgroup else None


def _wires_in(text: str) -> list[str]:
    out = []
    for m in _WIRE_BOUNDED.finditer(text):
        name = _WIRE_NAMES[int(m.lastgroup[1:])] if m.lastgroup else None
        if name and name not in out:
            out.append(name)
    return out


_DATE_CUT = re.compile(
    r"(?:\b(?:updated|published|posted|last\s+updated|actualizado|publicado|atualizado|on)\b\s*:?\s*)?"
    r"(?:\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b\.?,?\s*)?"
    r"(?:(?<![^\W\d_])(?:" + _MONTH_ALT + r")\.?\s*\d{1,2}(?:st|nd|rd|th)?\b|\b\d{1,2}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?(?:"
    + _MONTH_ALT
    + r")\b|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b|\b\d{1,2}:\d{2}\b|\b\d+\s+(?:minutes?|hours?|days?|hrs?|mins?)\s+ago\b"
    r"|\b(?:today|yesterday|hoy|ayer)\b)",
    re.I,
)
_GLUED = re.compile(
    r"(?<=[a-z])(?=(?:Staff|Senior|Contributing|Contributor|Writer|Reporter|Editor|Correspondent|Columnist|"
    r"Published|Updated|Posted|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|"
    r"March|April|May|June|July|August|September|October|November|December|Associated|Business|National)"
    r"(?:[^a-z]|$))"
)


def _person(raw: str, page: _Page) -> str | None:
    """A displayed person's name, or None for organisations, accounts, handles and job titles."""
    name = _clean_space(raw).strip(" .,;:|-–—()[]\"'“”")
    name = _PREFIX.sub("", name).strip(" .,;:|-–—")
    if not name or len(name) > 60 or any(ch in name for ch in "@_/\\:|=+#%{}<>") or re.search(r"\d", name):
        return None
    words = name.split()
    while len(words) > 2 and words[-1].isupper() and len(words[-1]) > 1 and not name.isupper():
        words = words[:-1]  # "Kevin McCoy USA": an outlet in capitals glued to the name
    name = " ".join(words)
    if len(words) > 5:
        return None
    lower = [w.strip(".,").casefold() for w in words]
    if any(w in _NOT_PERSON_WORDS for w in lower) or lower[0] == "the" or ".com" in name.casefold():
        return None
    if len(words) == 1 and re.search(r"admin|editor|staff|user|guest|team", lower[0]):
        return None
    if page.is_site(name) or _norm(name) in page.site_keys:
        return None
    if len(words) == 1:
        n = _norm(name)
        if len(n) >= 4 and any(n in key for key in page.site_keys if key):
            return None  # "Vortex" on vortexcannon.org: the studio, not a person
    cased = [w for w in words if any(ch.isalpha() and (ch.isupper() or ch.islower()) and ch.upper() != ch.lower()
                                     for ch in w)]  # fmt: skip
    if cased:
        if len(words) == 1 and (name.islower() or name.isupper()):
            return None  # "webnata", "KWCHCIK", "AS": logins and initials
        if any(not (w[0].isupper() or w.casefold() in _NAME_PARTICLES) for w in cased if w[0].isalpha()):
            return None
        if name.isupper() and len(words) > 1:
            name = " ".join("-".join(p[:1] + p[1:].lower() for p in w.split("-")) for w in words)
    return name


def _parse_byline(raw: str, page: _Page) -> tuple[list[str], list[str]]:
    """Split a byline into people and wire credits: "By Jane Doe and John Roe, AP", "Doe, Jane", "Por X y Y"."""
    credits: list[str] = []
    text = _clean_space(_unescape(raw))
    text = re.sub(r"\S+@\S+\.\w+|https?://\S+|\(\s*\)", " ", text)
    text = re.sub(r"(?<!\w)@\w+", " ", text)
    text = re.sub(r"\+?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}", " ", text)
    text = _GLUED.sub(" ", text)
    m = _DATE_CUT.search(text)
    if m and m.start() > 0:
        text = text[: m.start()]
    text = _clean_space(text)
    text = _PREFIX.sub("", text)
    text = re.sub(r"(?i)^(?:and|y|e)\s+", "", text)
    lead = re.match(r"^\s*(" + _WIRE_RE.pattern + r")\s*[,/-]", text)
    if lead and _wire(lead.group(1)):
        return [], [_wire(lead.group(1)) or ""]  # "Reuters, Washington": a wire credit and its dateline
    for wire in _wires_in(text):
        credits.append(wire)
    text = _WIRE_BOUNDED.sub(" , ", text)
    parts: list[str] = []
    for chunk in re.split(r"\s*(?:;|\||&|\+|/|\s[-–—]\s|\s(?:and|And|AND|y|und|et|e|with|con)\s)\s*", text):
        chunk = chunk.strip(" ,.")
        if not chunk:
            continue
        pieces = [p.strip() for p in chunk.split(",") if p.strip()]
        if len(pieces) == 2 and all(len(p.split()) == 1 for p in pieces) and all(
            _person(p, page) for p in pieces
        ):
            parts.append(f"{pieces[1]} {pieces[0]}")  # "Doe, Jane"
        else:
            parts.extend(pieces)
    people: list[str] = []
    for part in parts:
        part = re.sub(r"\s*\([^)]*\)", "", part)
        person = _person(part, page)
        if person and person.casefold() not in {p.casefold() for p in people}:
            people.append(person)
    return people, credits


def _jsonld_people(page: _Page) -> tuple[list[str], list[str]]:
    people: list[str] = []
    credits: list[str] = []
    for nodes in (page.ld.articles, page.ld.pages):
        for value in page.ld.first("author", nodes):
            items = value if isinstance(value, list) else [value]
            for item in items:
                item = page.ld.resolve(item)
                if isinstance(item, dict):
                    types = _types(item)
                    names = _names(item.get("name"))
                    if not names and (item.get("givenName") or item.get("familyName")):
                        names = [f"{item.get('givenName') or ''} {item.get('familyName') or ''}"]
                    if types & ORG_TYPES:
                        credits.extend(w for n in names if (w := _wire(n)))
                        continue
                elif isinstance(item, str):
                    names = [item]
                else:
                    continue
                for n in names:
                    found, wires = _parse_byline(n, page)
                    credits.extend(wires)
                    people.extend(p for p in found if p.casefold() not in {x.casefold() for x in people})
            if people:
                return people, credits
    return people, credits


def _following(h: Any, limit: int) -> list[Any]:
    out: list[Any] = []
    node = h
    while node is not None:
        for sib in node.itersiblings(etree.Element):
            for el in sib.iter(etree.Element):
                out.append(el)
                if len(out) >= limit:
                    return out
        node = node.getparent()
    return out


def _preceding(h: Any, limit: int) -> list[Any]:
    out: list[Any] = []
    node = h
    while node is not None:
        for sib in node.itersiblings(etree.Element, preceding=True):
            for el in reversed(list(sib.iter(etree.Element))):
                out.append(el)
                if len(out) >= limit:
                    return out
        node = node.getparent()
    return out


def _near_headline(page: _Page, test: Any, xpath: str, after: int, before: int) -> list[Any]:
    """Elements passing `test` close to the headline: the following ones first (nearest first), then the
    preceding ones (nearest first). Without a known headline, the whole page (`xpath`) in document order."""
    key = (xpath, after, before)
    if key not in page.near_cache:
        if page.headline_el is None:
            page.near_cache[key] = list(page.tree.xpath(f"//body//*[{xpath}]"))
        else:
            nodes = list(islice((el for el in page.after if test(el)), after))
            page.near_cache[key] = nodes + list(islice((el for el in page.before if test(el)), before))
    return page.near_cache[key]


_BYLINE_TEXT = re.compile(
    r"(?:^|\s)(?:by|por|von|par|posted by|written by|publicado por|escrito por|texto|text|текст|автор)\s*:?\s+\S",
    re.I,
)


def _byline_people(page: _Page) -> tuple[list[str], list[str]]:
    candidates = _near_headline(page, _is_byline_el, _BYLINE_PRED, 12, 4)
    if page.headline_el is not None:
        # bylines without a telling class: "By Jane Doe on Monday..." right under the headline
        plain = [el for el in page.after[:60] if el.tag in _PLAIN_TAGS][:12]
        candidates = candidates[:6] + [el for el in plain if el not in candidates] + candidates[6:]
    for el in candidates:
        if el.tag in ("body", "html", "article", "main") or _is_excluded(el):
            continue
        if el.tag == "meta" or el.tag == "link":
            continue
        text = _short_text(el, 160)
        if not text:
            continue
        is_byline_el = _is_byline_el(el)
        if not is_byline_el:
            m = _BYLINE_TEXT.search(text)
            if not m:
                continue
            text = text[m.start() :]
        people, credits = _parse_byline(text, page)
        if people or credits:
            return people, credits
    return [], []


def _text_credits(page: _Page) -> list[str]:
    """Wire credits written into the story itself: "HAYWARD, Calif. (AP) —", "(Reuters) -", "... US. PTI"."""
    text = getattr(page.document, "text", None) if page.document is not None else None
    if not isinstance(text, str) or not text.strip():
        h = page.headline_el
        paras = [el for el in page.after if el.tag == "p"][:8] if h is not None else page.tree.xpath("(//p)[position()<=8]")
        text = "\n".join(_text(p) for p in paras)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    out: list[str] = []
    for line in lines[:3]:  # the dateline: "HAYWARD, Calif. (AP) —", "(Reuters) -", "MADRID, 20 nov (EFE).-"
        m = re.match(r"^[^(]{0,90}?\(([^()]{2,40})\)\s*\.?\s*[—–-]", line)
        if m:
            out.extend(w for part in re.split(r"[/,]| and ", m.group(1)) if (w := _wire(part)))
            break
    for line in lines[-3:]:  # a sign-off: "... into the US. PTI", "(AFP)", "— Reuters"
        m = re.search(r"(?:^|[.!?”\"]\s+)[(—–-]*\s*([A-Z][A-Za-z .-]{1,30}?)\s*\)?\s*\.?$", line)
        if m and (w := _wire(m.group(1))):
            out.append(w)
        m = re.search(r"(?i)(?:inputs?|information|reporting)\s+(?:from|by)\s+([A-Za-z ]{2,30})\.?$", line)
        if m:
            out.extend(_wires_in(m.group(1)))
    return out


def _people(page: _Page) -> tuple[list[str], list[str]]:
    credits: list[str] = []
    people, wires = _jsonld_people(page)
    credits += wires
    if not people:
        people, wires = _byline_people(page)
        credits += wires
    if not people:
        for _, value in page.metas(*_AUTHOR_META):
            if re.match(r"https?://", value) or value.startswith("{"):
                continue
            found, wires = _parse_byline(value, page)
            credits += wires
            if found:
                people = found
                break
    if not people and page.document is not None and isinstance(getattr(page.document, "author", None), str):
        # trafilatura's guess, kept only for names written as such on the page, outside comments and widgets
        for part in page.document.author.split(";"):
            found, wires = _parse_byline(part, page)
            credits += wires
            for name in found:
                shown = page.tree.xpath("//body//text()[contains(., $n)]", n=name)
                if any(not _is_excluded(t.getparent()) for t in shown[:5] if t.getparent() is not None):
                    if name.casefold() not in {x.casefold() for x in people}:
                        people.append(name)
    # wire credits stated elsewhere: rel=author links, meta author, the publisher, the story's dateline
    for el in page.tree.xpath("//a[@rel='author']"):
        if not _is_excluded(el) and (w := _wire(_text(el))):
            credits.append(w)
    for _, value in page.metas(*_AUTHOR_META):
        credits += [w for w in _wires_in(value)]
    for node in page.ld.articles:
        credits += [w for n in _names(page.ld.resolve(node.get("publisher"))) if (w := _wire(n))]
    credits += _text_credits(page)
    seen: list[str] = []
    for c in credits:
        if c not in seen:
            seen.append(c)
    return people, seen


# ----------------------------------------------------------------------------------------------------- dates


def _published_candidates(page: _Page) -> Iterator[tuple[str, _When]]:
    for value in page.ld.first("datePublished", page.ld.articles):
        yield "jsonld", _parse_when(value if isinstance(value, str) else str(value))
    for key, value in page.metas(*_PUBLISHED_META):
        yield key, _parse_when(value)
    for value in page.ld.first("datePublished", page.ld.pages):
        yield "jsonld-page", _parse_when(value if isinstance(value, str) else str(value))
    for wanted in ("datepublished", "datecreated"):
        for key, value, el in page.itemprop_meta:
            if key == wanted and not _is_excluded(el):
                yield "itemprop", _parse_when(value)
    for el in _near_headline(page, _is_time_el, "self::time or @itemprop='datePublished'", 4, 2):
        if _is_excluded(el) or _UPDATED.search(f"{el.get('class') or ''} {el.get('itemprop') or ''}"):
            continue
        if el.get("itemprop") == "dateModified" or _UPDATED.search((_short_text(el, 200) or "")[:30] + " " + _lead_in(el)):
            continue
        value = el.get("datetime") or el.get("content") or _text(el)
        yield "time", _parse_when(value)


def _visible_dates(page: _Page) -> list[tuple[_Day, tuple[int, int] | None, timedelta | None]]:
    """Dates written in the article's header (after the headline), "updated" ones left out."""
    out = []
    if page.headline_el is None:
        return out
    for el in _near_headline(page, _is_date_el, _DATE_PRED, 25, 6) + page.after[:25]:
        if _is_excluded(el) or _UPDATED.search(el.get("class") or ""):
            continue
        text = _short_text(el, 220)
        if not text:
            continue
        lead = _lead_in(el, 45)
        for day, pos, clock, tz in _text_dates(text):
            before = re.split(r"[;|•·]", lead + " " + text[:pos])[-1][-45:]
            if _UPDATED.search(before) and not _POSTED.search(before[-12:]):
                continue
            out.append((day, clock, tz))
        if out:
            break
    return out


def _page_offset(page: _Page) -> timedelta | None:
    """The page's own timezone, from the offsets of its other timestamps or a "10:31 pm CST" in its header."""
    offsets: Counter[timedelta] = Counter()
    values = [v for _, v in page.metas(*_PUBLISHED_META, *_MODIFIED_META)]
    for node in page.ld.articles + page.ld.pages:
        for key in ("datePublished", "dateModified", "dateCreated"):
            if isinstance(node.get(key), str):
                values.append(node[key])
    for value in values:
        when = _parse_when(value)
        if when and when.offset and when.offset != timedelta(0):
            offsets[when.offset] += 1
    if offsets:
        return offsets.most_common(1)[0][0]
    if page.headline_el is not None:
        for el in _near_headline(page, _is_date_el, _DATE_PRED, 25, 6):
            if _is_excluded(el):
                continue
            m = _TZ_WORD.search(_short_text(el, 300) or "")
            if m:
                return timedelta(minutes=_TZ_MINUTES[m.group(1).lower()])
    return None


def _url_day(url: str | None) -> date | None:
    m = re.search(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$|-)", urlsplit(url or "").path)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _dates(page: _Page) -> tuple[datetime | None, date | None, datetime | None]:
    published: _When | None = None
    for _source, when in _published_candidates(page):
        if _sane(when, page.now):
            published = when
            break
    visible = _visible_dates(page)
    if published is None:
        for day, clock, tz in visible:
            if day.year:
                when = _with_clock(day, clock, tz)
                if _sane(when, page.now):
                    published = when
                    break
    if published is None and page.document is not None:
        when = _parse_when(getattr(page.document, "date", None))
        if _sane(when, page.now):
            published = when
    if published is None:
        day = _url_day(page.url)
        if day:
            when = _make_when(day.year, day.month, day.day, date_only=True)
            published = when if _sane(when, page.now) else None

    modified: _When | None = None
    mod_values = list(page.ld.first("dateModified", page.ld.articles))
    mod_values += [v for _, v in page.metas(*_MODIFIED_META)]
    mod_values += [v for k, v, _ in page.itemprop_meta if k == "datemodified"]
    for value in mod_values:
        when = _parse_when(value if isinstance(value, str) else str(value))
        if _sane(when, page.now):
            modified = when
            break

    if published is None:
        return None, None, modified.utc if modified else None
    return published.utc, _local_day(page, published, visible), modified.utc if modified else None


def _local_day(page: _Page, published: _When, visible: list) -> date:
    utc_day = published.utc.date()
    if published.date_only:
        return published.day  # a bare date is already the page's day
    # the dateline under the headline says which day it was where the story was posted
    for day, _clock, _tz in visible:
        for month, dd in ((day.month, day.day), day.ambiguous or (day.month, day.day)):
            years = [day.year] if day.year else [utc_day.year, utc_day.year - 1]
            for y in years:
                try:
                    d = date(y, month, dd)
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


# ------------------------------------------------------------------------------------------------------ main


def _site_name(page: _Page) -> str | None:
    for _, value in page.metas("og:site_name"):
        if not re.match(r"https?://", value):
            return _clean_space(value)
    for node in page.ld.articles:
        for name in _names(page.ld.resolve(node.get("publisher"))):
            return _clean_space(name)
    return page.site_names[0] if page.site_names else None


def extract_metadata(tree: Any, url: str | None, document: Any | None = None) -> Metadata:
    """Title, people, wire credits, dates and site name of one page (`tree`: the page parsed by lxml.html)."""
    page = _Page(tree, url, document)
    title = _title(page)
    authors, credits = _people(page)
    published_at, published_date, modified_at = _dates(page)
    return Metadata(
        title=title or None,
        authors=authors,
        credits=credits,
        published_at=published_at,
        modified_at=modified_at,
        site_name=_site_name(page),
        published_date=published_date,
    )
