"""Article main-text extraction: trafilatura, plus a few general rules measured on a set of real news pages.

`extract_article(html, url)` returns the article body as plain text (paragraphs separated by "\\n") and the
trafilatura `Document` whose metadata (title, author, date, url, sitename, ...) the rest of the pipeline uses.

What it does on top of one plain `trafilatura.bare_extraction` call (each step was kept only because it
raised shingle F1 on a development half of the shared evaluation set and did not lower it on the other
half; see bench/extraction_quality.py):

1. The page is parsed once; embedded tweets (`blockquote.twitter-tweet`) are lifted out of their
   "social"/"embed" wrappers, which trafilatura discards wholesale, since quoted posts are article content.
2. Main pass: trafilatura's own extractor in `fast` mode (no readability/jusText comparison). The generic
   fallbacks sometimes swap a correct extraction for a longer page dump (several posts, JSON blobs).
   When the fast result is empty or mostly short lines (menus, tag lists), the full cascade is run
   instead and kept if it reads more like prose.
3. Precision pass (`favor_precision`): lines of the main pass that it drops are removed unless they are
   long prose (>= 25 words). That takes out headlines, teasers, promos and widget text but keeps
   paragraphs the precision mode loses with its stricter pruning.
4. Split bodies: when the paragraphs found sit in a container whose exact class is repeated elsewhere
   (an article body cut into chunks around ads), the paragraphs of the other chunks are added, unless a
   new <h1> or another <article> starts in between (that would be a different article), the chunk sits in
   a comment section, sidebar, footer or promo box, or it has fewer than two real paragraphs (at least
   8 words, at most half of the text in links).
5. Line clean-up: the headline (page title or first <h1>) at the top and whatever precedes it there,
   "Related"/"Lee también" blocks, share/subscribe/newsletter/app promos, cookie notices, photo credits,
   "Advertisement"/"Publicidad", comment counters, wire credits, reading time and date lines at the top.
   Phrase lists are in English and Spanish.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import Document
from trafilatura.utils import DOCTYPE_TAG, FAULTY_HTML, fromstring_bytes, load_html

log = logging.getLogger("borderwatch.extraction")

__all__ = ["Extracted", "extract_article", "is_boilerplate_line"]

_TRAFILATURA_ARGS: dict[str, Any] = {"include_comments": False, "include_tables": True}

LONG_PROSE_WORDS = 25  # a main-pass line the precision pass dropped is kept from this length on
PROSE_LINE_WORDS = 10  # a line this long (or CJK line of PROSE_LINE_CJK chars) counts as prose
PROSE_LINE_CJK = 30
MIN_PROSE_SHARE = 0.5  # below this share of prose characters the fast result is suspect
HEADLINE_ZONE = 5  # the headline is looked for among the first lines only ...
HEADLINE_MAX_SHARE = 0.3  # ... and what precedes it is cut only if it is a small part of the text
DATELINE_ZONE = 3  # date/byline-only lines are dropped among the first lines
SPLIT_BODY_MIN_WORDS = 8  # paragraphs taken from a continuation chunk (at most half of their text in links) ...
SPLIT_BODY_MIN_PARAGRAPHS = 2  # ... and how many such paragraphs a chunk needs

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_WS = re.compile(r"\s+")


@dataclass
class Extracted:
    text: str  # the article body, paragraphs separated by "\n"
    document: Document | None  # trafilatura's result (metadata); its .text is trafilatura's, not `text`


# the same lines are counted and normalised by several steps (prose share, precision merge, clean-up): cached
@lru_cache(maxsize=4096)
def _nwords(text: str) -> int:
    return len(_WORD.findall(text))


@lru_cache(maxsize=4096)
def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _is_prose(line: str) -> bool:
    line = line.strip()
    if line.startswith(("http://", "https://")):
        return False
    return _nwords(line) >= PROSE_LINE_WORDS or len(_CJK.findall(line)) >= PROSE_LINE_CJK


def _prose_share(lines: list[str]) -> float:
    total = sum(len(line) for line in lines)
    return sum(len(line) for line in lines if _is_prose(line)) / total if total else 0.0


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").split("\n") if line.strip()]


# --- 1. page preparation ------------------------------------------------------------------------------------------

_IGNORABLE = {"script", "style", "noscript"}

# the elements several cleaning steps look for, gathered in one walk of the page: a walk of the whole tree costs
# about as much as most steps' own work, and the steps would otherwise walk it six times
PAGE_TAGS = ("script", "meta", "link", "title", "a", "h1", "p", "blockquote")


def page_elements(tree: Any) -> dict[str, list[Any]]:
    """The page's PAGE_TAGS elements by tag, each list in document order, from the document's root."""
    found: dict[str, list[Any]] = {tag: [] for tag in PAGE_TAGS}
    for el in tree.getroottree().getroot().iter(*PAGE_TAGS):
        found[el.tag].append(el)
    return found


def _unwrap_embedded_posts(tree: Any, blockquotes: list[Any]) -> bool:
    """Replace each embedded tweet's wrappers (elements holding nothing but the tweet) with the tweet itself,
    so that trafilatura's "social"/"embed" discard rules do not remove the quoted text. True if the tree changed."""
    # //blockquote[contains(@class, "twitter-tweet")], from the page's <blockquote>s (the XPath tests the class of
    # every element); listed first, as the tree changes below
    quotes = [q for q in blockquotes if "twitter-tweet" in (q.get("class") or "")]
    changed = False
    for quote in quotes:
        if not "".join(quote.itertext()).strip():
            continue
        node, parent = quote, quote.getparent()
        while parent is not None and parent.tag not in ("body", "html", "article", "main"):
            others = [c for c in parent if c is not node and isinstance(c.tag, str) and c.tag not in _IGNORABLE]
            loose_text = (parent.text or "").strip() or any((c.tail or "").strip() for c in parent if c is not node)
            if others or loose_text:
                break
            node, parent = parent, parent.getparent()
        quote.attrib.pop("class", None)
        quote.attrib.pop("id", None)
        if node is not quote and parent is not None:
            quote.tail = node.tail
            parent.replace(node, quote)
            changed = True
    return changed


# --- 2./3. extraction passes ----------------------------------------------------------------------------------------


def _bare(tree: Any, url: str | None, **kwargs: Any) -> Document | None:
    try:
        result = trafilatura.bare_extraction(tree, url=url, **_TRAFILATURA_ARGS, **kwargs)
    except Exception as exc:  # trafilatura catches most errors itself; a hostile page must not stop a batch
        log.warning("trafilatura failed on %s: %s", url, exc)
        return None
    return result if isinstance(result, Document) else None


def _merge_with_precision(lines: list[str], precise: list[str]) -> list[str]:
    """Keep the lines the precision pass kept too, and long prose lines it dropped."""
    if not precise:
        return lines
    same = set(precise)  # most lines are in both passes as they are: no need to normalise those
    kept: set[str] | None = None
    out = []
    for line in lines:
        if line not in same and _nwords(line) < LONG_PROSE_WORDS:
            kept = kept if kept is not None else {_norm(p) for p in precise}
            if _norm(line) not in kept:
                continue
        out.append(line)
    return out


# --- 4. bodies split into several containers ----------------------------------------------------------------------


def _para_key(text: str) -> str:
    """The start of a paragraph, whitespace collapsed: how a line is matched to its <p>. Every <p> of the page is
    keyed, so a long one is keyed by its first characters only (the same key: collapsing is left to right)."""
    key = " ".join(text[:240].split()).lstrip("- ")
    return key[:60] if len(key) >= 60 else " ".join(text.split()).lstrip("- ")[:60]


def _article_of(el: Any) -> Any:
    return next((a for a in el.iterancestors("article")), None)


# page parts that are never the article body, whatever classes they share with it
_NOT_BODY_TAGS = {"aside", "nav", "footer", "form", "header"}
_NOT_BODY_ATTR = re.compile(
    r"comment(?!ary)|disqus|respond|repl(y|ies)|related|recommend|newsletter|subscri|share|social|sidebar|footer|promo",
    re.I,
)


def _outside_body(el: Any, stop: Any) -> bool:
    """True if `el` or an ancestor below `stop` is a comment section, sidebar, footer, promo box and the like."""
    node = el
    while node is not None and node is not stop:
        if node.tag in _NOT_BODY_TAGS or _NOT_BODY_ATTR.search(f"{node.get('id', '')} {node.get('class', '')}"):
            return True
        node = node.getparent()
    return False


def _with_lookalikes(paragraphs: list[Any]) -> set[Any]:
    """The page's <p>s and their ancestors that have a look-alike (same tag and class) among them. A chunk without
    a <p> adds nothing, so a container without a look-alike here has nothing to add; on most pages no <p> parent has
    one, and this climb (the same for every container) is cheaper than matching the <p>s to the lines first."""
    kinds: dict[tuple[str, str], list[Any]] = {}
    seen: set[Any] = set()
    for p in paragraphs:
        node = p
        while node is not None and node not in seen:
            seen.add(node)
            cls = node.get("class")
            if cls:
                kinds.setdefault((node.tag, cls), []).append(node)
            node = node.getparent()
    return {el for group in kinds.values() if len(group) > 1 for el in group}


def _add_split_body(tree: Any, lines: list[str], paragraphs: list[Any] | None = None) -> list[str]:
    """Add paragraphs from other chunks of a body cut into several same-class containers. `paragraphs` are the
    tree's <p> elements in document order, when already listed."""
    if paragraphs is None:
        paragraphs = list(tree.iter("p"))
    lookalikes = _with_lookalikes(paragraphs)
    if not any(p.getparent() in lookalikes for p in paragraphs):
        return lines
    index: dict[str, int] = {}
    for k, line in enumerate(lines):
        key = _para_key(line)
        if len(key) >= 20:
            index.setdefault(key, k)
    if not index:
        return lines
    found: Counter[Any] = Counter()
    positions: dict[Any, list[int]] = {}
    for p in paragraphs:
        # a <p> without children is its .text (most are); a text shorter than the shortest key matches none
        text = (p.text or "") if len(p) == 0 else "".join(p.itertext())
        k = index.get(_para_key(text)) if len(text) >= 20 else None
        if k is not None:
            parent = p.getparent()
            found[parent] += 1
            positions.setdefault(parent, []).append(k)
    if not found:
        return lines
    container, count = found.most_common(1)[0]
    cls = container.get("class")
    if count < 2 or not cls or container not in lookalikes:
        return lines
    # one walk for the container's look-alikes and the <h1>s; their numbering keeps the document order
    walk = list(tree.iter(container.tag, "h1"))
    chunks = [el for el in walk if el.tag == container.tag and el is not container and el.get("class") == cls]
    if not chunks:
        return lines
    ancestors = set(container.iterancestors())
    article = _article_of(container)
    order = {el: k for k, el in enumerate(walk)}
    h1_at = [order[h] for h in walk if h.tag == "h1"]
    present = {_para_key(line) for line in lines}
    before: list[str] = []
    after: list[str] = []
    for chunk in chunks:
        if chunk in ancestors or container in set(chunk.iterancestors()) or _article_of(chunk) is not article:
            continue
        lo, hi = sorted((order[container], order[chunk]))
        if any(lo < h < hi for h in h1_at):
            continue
        common = next((a for a in chunk.iterancestors() if a in ancestors), None)
        if _outside_body(chunk, common):
            continue
        texts = []
        for p in chunk.iter("p"):
            if _outside_body(p, chunk):
                continue
            text = _WS.sub(" ", "".join(p.itertext())).strip()
            linked = sum(len("".join(a.itertext())) for a in p.iter("a"))
            if _nwords(text) >= SPLIT_BODY_MIN_WORDS and linked <= 0.5 * len(text) and _para_key(text) not in present:
                texts.append(text)
        if len(texts) >= SPLIT_BODY_MIN_PARAGRAPHS:  # one stray line is a widget, not a piece of the body
            present.update(_para_key(text) for text in texts)
            (after if order[chunk] > order[container] else before).extend(texts)
    if not before and not after:
        return lines
    first, last = min(positions[container]), max(positions[container])
    return lines[:first] + before + lines[first : last + 1] + after + lines[last + 1 :]


# --- 5. line clean-up -------------------------------------------------------------------------------------------

_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " // ")


def _headline_forms(doc: Document | None, tree: Any, h1s: list[Any] | None = None) -> set[str]:
    forms: set[str] = set()
    title = (doc.title if doc is not None else None) or ""
    if title:
        forms.add(_norm(title))
        for sep in _SEPARATORS:  # "Headline | Site", "Headline - Section - Site"
            parts = title.split(sep)
            if len(parts) > 1:
                forms.add(_norm(sep.join(parts[:-1])))
                forms.add(_norm(parts[0]))
    # the first <h1> below `tree` (`h1s`: the document's, when already listed)
    h1 = tree.find(".//h1") if h1s is None else next((h for h in h1s if h is not tree), None)
    if h1 is not None:
        forms.add(_norm("".join(h1.itertext())))
    forms.discard("")
    return forms


def _drop_headline(lines: list[str], forms: set[str]) -> list[str]:
    if not forms:
        return lines
    for k, line in enumerate(lines[:HEADLINE_ZONE]):
        if _norm(line) in forms:
            before = sum(len(x) for x in lines[:k])
            if before < HEADLINE_MAX_SHARE * sum(len(x) for x in lines):
                lines = lines[k:]  # teasers and tickers above the headline
            break
    return [line for k, line in enumerate(lines) if not (k < DATELINE_ZONE and _norm(line) in forms)]


_I = re.I | re.X

# a line that is nothing but one of these labels
_LABEL = re.compile(
    r"""^\W*(
    advertisement|advertising|sponsored(\ content)?|ad|publicidad|anuncio|contenido\ patrocinado|patrocinado|
    share(\ this(\ article|\ story|\ post)?)?|compartir|comparte(\ esta\ noticia|\ este\ art[ií]culo)?|
    comments?|\d+\ comments?|comentarios?|\d+\ comentarios?|
    related(\ articles|\ stories|\ posts|\ news|\ content|\ coverage|\ links)?|
    more|more\ stories|more\ news|more\ from\ [\w\s.'’]{1,40}|most\ read(\ in\ [\w\s]{1,30})?|most\ popular|
    trending(\ now)?|read\ more|read\ also|also\ read|see\ also|recommended(\ for\ you)?|
    you\ (may|might)\ also\ like(\.\.\.|…)?|don'?t\ miss|
    noticias\ relacionadas|art[ií]culos\ relacionados|relacionad[oa]s?|(tambi[eé]n\ )?te\ puede\ interesar|
    lee\ tambi[eé]n|lea\ tambi[eé]n|leer\ m[aá]s|ver\ tambi[eé]n|mira\ tambi[eé]n|no\ te\ pierdas|m[aá]s\ noticias|
    lo\ m[aá]s\ le[ií]do|tags?|etiquetas|temas|topics|filed\ under|archivado\ en|categor(y|ies|[ií]as?)
    )\W*$""",
    _I,
)
# "Label: teaser" lines (short ones only)
_LABEL_COLON = re.compile(
    r"""^\W*(
    related|read\ more|read\ also|also\ read|see\ also|more|recommended|watch|listen|download|itunes|
    lee\ tambi[eé]n|lea\ tambi[eé]n|leer\ m[aá]s|ver\ tambi[eé]n|mira\ tambi[eé]n|te\ puede\ interesar|relacionad[oa]s?|
    tags?|etiquetas|filed\ under|archivado\ en|categor(y|ies|[ií]as?)|
    photos?|images?|pictures?|fotos?|fotograf[ií]as?|imagen|im[aá]genes|credits?|cr[eé]ditos?
    )\s*:""",
    _I,
)
_SOURCE_COLON = re.compile(r"^\W*(source|fuente)\s*:", re.I)
# promo and furniture phrases; those starting with "^" are tried at the start of the line only
_PROMO_PATTERNS = (
    # newsletters, subscriptions
    r"\b(sign\ up|subscribe|register)\b.{0,80}\b(newsletters?|inbox|e-?mail\ alerts?|briefing)\b",
    r"\bnewsletters?\b.{0,60}\b(sign\ up|subscribe|inbox|delivered|free)\b",
    r"^(subscribe|subscribers?\ only|already\ a\ subscriber|become\ a\ (member|subscriber))\b",
    r"\bsuscr[ií]b(e|ete|ase|irse)\b",
    r"\bbolet[ií]n\b.{0,60}\b(recibe|rec[ií]belo|correo|inscr[ií]bete|gratis|suscr[ií]bete)\b",
    r"^(reg[ií]strate|inscr[ií]bete)\b",
    # click-here and app promos
    r"^(click|tap)\ here\b",
    r"^(haz|haga)\ clic\b",
    r"^(pulsa|pincha|clic|click)\ aqu[ií]\b",
    r"\b(download|get)\ (the|our)\ [\w\s]{0,30}\bapp\b",
    r"\bdescarga\ (la|nuestra)\ app\b",
    # social following and sharing
    r"^follow\ (us|me|him|her|them|[\w\s.'’]{1,50})\ on\ (facebook|twitter|instagram|linkedin|youtube|x\b)",
    r"^follow\ [\w\s.'’]{0,30}\b(full|complete|live|latest)\ coverage\b",
    r"^(s[ií]guenos|s[ií]gue(nos)?\ a\ [\w\s]{1,40})\ en\ "
    r"(facebook|twitter|instagram|youtube|tiktok|x\b|redes)",
    r"^like\ this\ (story|article)\b",
    r"\bshare\ it\ with\ a\ friend\b",
    r"^(share|compartir|comparte)\ (on|en|this|via|por)\b",
    # contacting the newsroom
    r"^have\ a\ (news\ )?tip\b",
    r"^reach\ the\ (reporter|writer|author)s?\b",
    r"^(contact|email)\ the\ (reporter|writer|author)s?\b",
    # cookie notices
    r"\b(we|this\ (web)?site)\ uses?\ cookies\b",
    r"\bcookie\ (policy|settings|preferences)\b",
    r"\baccept\ (all\ )?cookies\b",
    r"\b(usamos|utilizamos|este\ sitio\ (web\ )?utiliza|esta\ web\ utiliza|usa)\ cookies\b",
    r"\bpol[ií]tica\ de\ cookies\b",
    r"\baceptar?\ (las\ )?cookies\b",
    # reading time
    r"^\d+\s*(min|minute|minuto)s?\ (read|de\ lectura|lectura)\b",
    r"^(reading\ time|tiempo\ de\ lectura|tempo\ de\ leitura)\b",
    # wire-service credit lines
    r"^\(?(additional\ )?(reporting|writing|editing)\ by\b",
    r"\bcontributed\ to\ this\ report\b",
    r"^\(?con\ informaci[oó]n\ de\b",
    # comment prompts
    r"^(leave|post|add|write)\ a\ (comment|reply)\b",
    r"^(deja|dejar|escribe)\ (un|tu)\ comentario\b",
    r"^join\ the\ (conversation|discussion)\b",
)
_PROMO_AT_START = re.compile("|".join(f"(?:{p[1:]})" for p in _PROMO_PATTERNS if p.startswith("^")), _I)
_PROMO_ANYWHERE = re.compile("|".join(f"(?:{p})" for p in _PROMO_PATTERNS if not p.startswith("^")), _I)
# Searching every line for the phrases that may sit anywhere is the slow part, and few lines hold any of them:
# each of those phrases contains one of these words, looked for first (plain search in the lower-cased line).
# re.I also matches "ı", "ſ" and "İ" to i/s, which str.lower does not: a line with one of them is searched.
_PROMO_HINT = re.compile(r"newsletter|inbox|mail alert|briefing|suscr|bolet|app\b|share it|cookie|contributed")
_ODD_CASE = ("ı", "ſ", "İ")
_URL_ONLY = re.compile(r"^\W*((https?://|www\.)\S+\W*)+$", re.I)
_CREDIT = re.compile(
    r"""(^|[\s(\[|/])(getty\ images|shutterstock|istock(photo)?|ap\ photo|afp|reuters|efe|europa\ press|cuartoscuro)
    \b[\s)\]]*$|
    ^\W*(photo|image|foto|imagen|fotograf[ií]a)s?\ (by|courtesy|credit|de|por|cortes[ií]a)\b""",
    _I,
)


def is_boilerplate_line(line: str) -> bool:
    """True for a line that is page furniture rather than article text (English and Spanish phrases)."""
    s = line.strip()
    words = _nwords(s)
    if words == 0:
        return False
    if _LABEL.match(s):
        return True
    if words > 40:
        return False
    if _URL_ONLY.match(s):
        return True
    if words <= 6 and _SOURCE_COLON.match(s):
        return True
    if words <= 20 and (_LABEL_COLON.match(s) or _CREDIT.search(s)):
        return True
    if _PROMO_AT_START.match(s):
        return True
    hinted = _PROMO_HINT.search(s.lower()) is not None or any(ch in s for ch in _ODD_CASE)
    return hinted and _PROMO_ANYWHERE.search(s) is not None


_RELATED_HEAD = re.compile(
    r"""^\W*(
    related(\ articles|\ stories|\ posts|\ news|\ content|\ coverage|\ links|\ reading)?|
    more\ (stories|news|coverage|headlines|articles)(\ from\ [\w\s.'’]{1,40})?|more\ from\ [\w\s.'’]{1,40}|
    more\ on\ [\w\s.'’]{1,40}|most\ read(\ in\ [\w\s]{1,30})?|most\ popular|trending(\ now|\ stories)?|
    popular\ (stories|now|posts)|top\ stories|read\ more|read\ also|also\ read|see\ also|
    recommended(\ for\ you|\ stories|\ reading)?|you\ (may|might)\ also\ (like|enjoy)(\.\.\.|…)?|don'?t\ miss|
    what\ to\ read\ next|up\ next|
    noticias\ relacionadas|art[ií]culos\ relacionados|notas\ relacionadas|relacionad[oa]s?|
    (tambi[eé]n\ )?te\ puede\ interesar|te\ recomendamos|recomendad[oa]s|lee\ tambi[eé]n|lea\ tambi[eé]n|leer\ m[aá]s|
    ver\ tambi[eé]n|mira\ tambi[eé]n|no\ te\ pierdas|m[aá]s\ noticias|m[aá]s\ de\ [\w\s]{1,30}|
    lo\ m[aá]s\ (le[ií]do|visto|popular)|[uú]ltimas\ noticias
    )\W*$""",
    _I,
)
_SENTENCE_END = re.compile(r"[.!?…]['\"’”)]*$")


def _is_teaser(line: str) -> bool:
    words = _nwords(line)
    return 0 < words <= 20 and (not _SENTENCE_END.search(line) or line.startswith("- "))


def _drop_related_blocks(lines: list[str]) -> list[str]:
    """A "Related"/"Lee también" heading and the headline-like lines under it."""
    out: list[str] = []
    skipping = False
    for line in lines:
        if _RELATED_HEAD.match(line):
            skipping = True
            continue
        if skipping and _is_teaser(line):
            continue
        skipping = False
        out.append(line)
    return out


_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec "
    "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre "
    "ene abr ago dic "
    "janeiro fevereiro março maio junho julho setembro outubro novembro dezembro"
).split()
_DATE_WORDS = set(
    _MONTHS
    + (
        "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun "
        "lunes martes miércoles miercoles jueves viernes sábado sabado domingo segunda terça quarta quinta sexta feira "
        "de del el la las los a at on am pm a.m p.m m h hrs hs gmt utc est edt et cst cdt mst mdt pst pdt cet "
        "às as updated published posted publicado publicada actualizado actualizada atualizado modificado "
        "last modified última actualización fecha date hace ago minutes hours days"
    ).split()
)
_HAS_DATE = re.compile(
    r"\b(\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|(19|20)\d{2})\b|\b(" + "|".join(_MONTHS) + r")\b", re.I
)
_DATE_TOKEN = re.compile(r"[^\W_]+(?:\.[^\W_]+)*")


def _is_dateline(line: str) -> bool:
    """A short line made of a date, a time and words like "Updated"/"Publicado"."""
    tokens = [t.lower() for t in _DATE_TOKEN.findall(line)]
    if not tokens or len(tokens) > 14 or not _HAS_DATE.search(line):
        return False
    datey = sum(1 for t in tokens if t.isdigit() or t in _DATE_WORDS or t.rstrip(".") in _DATE_WORDS)
    return datey >= 0.7 * len(tokens)


def _clean_lines(lines: list[str], headline_forms: set[str]) -> list[str]:
    lines = _drop_headline(lines, headline_forms)
    lines = _drop_related_blocks(lines)
    lines = [line for line in lines if not is_boilerplate_line(line)]
    return [line for k, line in enumerate(lines) if not (k < DATELINE_ZONE and _is_dateline(line))]


# --- entry point --------------------------------------------------------------------------------------------------


# the characters trafilatura's load_html deletes before parsing (libxml2 rejects them); see _load_valid_html
_INVALID_XML_CHARS = tuple(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") + ("\ufffe", "\uffff")


# trafilatura's parser settings (trafilatura.utils.HTML_PARSER: its extraction depends on them), with lxml.html's
# element classes picked in C: lxml.html's own choice is a Python call for every element object made, thousands a
# page (trafilatura's copies of the tree keep the parser), and the only other classes it picks are for form fields
# (form, input, select, textarea, label), whose extra methods neither trafilatura nor this package uses
_PARSER = lxml.html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)


def parse_html(html: str) -> Any:
    """The page as an lxml.html tree, parsed the way trafilatura parses (its extraction depends on it);
    None when there is no HTML to parse."""
    if not isinstance(html, str) or any(ch in html for ch in _INVALID_XML_CHARS):
        return load_html(html)
    return _load_valid_html(html)


def _load_valid_html(html: str) -> Any:
    """trafilatura's load_html for a decoded page without characters to delete: the same steps, less its
    regex pass deleting them, which costs a third of the parse (one `in` test a character is cheaper).
    tests/test_extraction.py checks it against load_html."""
    beginning = html[:50].lower()
    if "doctype" in beginning:  # lxml trips on a self-closing doctype
        firstline, _, rest = html.partition("\n")
        html = DOCTYPE_TAG.sub("", firstline, count=1) + "\n" + rest
    for line in html[:4096].splitlines()[:4]:  # and on a self-closing <html/>
        if "<html" in line and line.endswith("/>"):
            html = FAULTY_HTML.sub(r"\1>", html, count=1)
            break
    tree, fallback = None, False
    try:
        tree = lxml.html.fromstring(html, parser=_PARSER)
    except ValueError:  # "Unicode strings with encoding declaration are not supported"
        tree, fallback = fromstring_bytes(html), True
    except Exception as exc:  # as load_html: any other parser error means "try the bytes"
        log.debug("lxml parsing failed: %s", exc)
    if (tree is None or len(tree) < 1) and not fallback:
        tree = fromstring_bytes(html)
    if tree is not None and "html" not in beginning and len(tree) < 2:
        return None  # not HTML at all
    return tree


def extract_article(
    html: str, url: str | None = None, tree: Any = None, elements: dict[str, list[Any]] | None = None
) -> Extracted:
    """Extract the main text of an article page and trafilatura's metadata for it.

    `tree`, when given, is the page already parsed with lxml.html (the cleaner parses once for every step);
    embedded posts in it are unwrapped in place, nothing else is changed (trafilatura works on copies).
    `elements` is `page_elements(tree)`, when the caller has it; it is brought up to date if the tree changes.
    """
    if tree is None:
        try:
            tree = load_html(html)
        except (TypeError, ValueError) as exc:
            log.warning("unparseable page %s: %s", url, exc)
            tree = None
    if tree is None:
        return Extracted("", None)
    if elements is None:
        elements = page_elements(tree)
    if _unwrap_embedded_posts(tree, elements["blockquote"]):
        elements.update(page_elements(tree))
    root = tree.getroottree().getroot()

    doc = _bare(tree, url, fast=True, with_metadata=True)
    lines = _lines(doc.text if doc is not None else None)
    full_cascade = False
    if not lines or _prose_share(lines) < MIN_PROSE_SHARE:
        # a menu or tag dump, or nothing: let trafilatura's readability/jusText comparison have a go
        full = _bare(tree, url, with_metadata=True)
        full_lines = _lines(full.text if full is not None else None)
        if full_lines and _prose_share(full_lines) > _prose_share(lines):
            doc, lines, full_cascade = full, full_lines, True
    if not lines:
        return Extracted("", doc)

    if not full_cascade:
        precise = _bare(tree, url, fast=True, favor_precision=True)
        lines = _merge_with_precision(lines, _lines(precise.text if precise is not None else None))
    # below a fragment's top element, the document's <p>s and <h1>s are not the tree's
    lines = _add_split_body(tree, lines, elements["p"] if tree is root else None)
    lines = _clean_lines(lines, _headline_forms(doc, tree, elements["h1"] if tree is root else None))
    return Extracted("\n".join(lines), doc)
