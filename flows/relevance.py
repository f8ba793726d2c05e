"""Topic relevance of an article, 0..1 with evidence. The topic (weighted terms, negative contexts, scopes, knobs)
is data that users extend: topics/border_policy.toml documents the schema. Text is matched as words without case,
accents or punctuation, one space apart ("U.S.-México" -> "u s mexico"). Standard library only."""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

DEFAULT_TOPIC_PATH = Path(__file__).resolve().parent / "topics" / "border_policy.toml"

_LANGS = ("en", "es", "any")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_PUNCT = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})
_SPACES = re.compile("  +")
_LITERAL = re.compile(r"\\.|[^\\]+")
_REGEX_TOKEN = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|.", re.S)  # escapes and [classes] are one token
_SYNTAX = re.compile(r"\\[A-Za-z]|\[[^\]]*\]|\{\d*,?\d*\}|\(\?[:!=<]*|[()|?*+.^$]")  # what may stay in a pattern
_LEAD = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")
_KEY_LEN = 4
_KNOBS = {
    "lead_words": 80,
    "title_weight": 2.0,
    "lead_weight": 1.5,
    "body_weight": 1.0,
    "decay": 0.5,
    "saturation": 6.0,
    "unanchored_factor": 0.5,
    "setting_factor": 1.0,
    "window": 12,
    "bonus": 1.0,
    "max_bonus": 3.0,
}
_KINDS = {
    "anchor_kinds": ("entity", "place", "actor"),
    "topical_kinds": ("policy", "border", "entity"),
    "near_kinds": ("border", "place"),
    "policy_kinds": ("policy",),
}
_SECTIONS = {
    "scoring": (
        "lead_words",
        "title_weight",
        "lead_weight",
        "body_weight",
        "decay",
        "saturation",
        "unanchored_factor",
        "setting_factor",
        "anchor_kinds",
        "topical_kinds",
    ),
    "proximity": ("window", "bonus", "max_bonus", "near_kinds", "policy_kinds"),
}
_TERM_KEYS = ("pattern", "weight", "lang", "kind", "label", "case_sensitive", "anchor")
_NEG_KEYS = ("pattern", "penalty", "lang", "label", "case_sensitive", "window")


@dataclass(frozen=True)
class Relevance:
    score: float  # 0..1
    # the evidence, strongest first: "asylum(title)", "CBP", a near pair "El Paso~asylum", "no-anchor" when nothing
    # ties the story to the US/Mexico, "no-topic" when only places and names matched, the negatives: "-border collie"
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Term:  # for negatives `weight` is the penalty and `window` widens what they cancel
    label: str
    parts: tuple[tuple[str, int, re.Pattern[str]], ...]  # (key, its word offset, regex) per alternative
    weight: float
    lang: str
    kind: str = "negative"
    anchor: bool = False  # ties the story to the US/Mexico (see anchor_kinds)
    cased: bool = False
    window: int = 0


# per language: key -> [(word offset, order, is negative, term, regex)], the parts without a key, a key finder
_Lookup = tuple[dict[str, list[tuple[int, int, bool, Term, re.Pattern[str]]]], list[tuple], re.Pattern[str]]


@dataclass(frozen=True, eq=False)
class Topic:
    name: str
    version: str
    description: str
    path: Path
    scopes: tuple[str, ...]  # the enabled scopes
    terms: tuple[Term, ...]
    negatives: tuple[Term, ...]
    knobs: dict[str, float]
    kinds: dict[str, frozenset[str]]
    lookup: dict[str | None, _Lookup] = field(repr=False, compare=False, default_factory=dict)
    # phrases that let the crawler skip a clearly off-topic title before download (see the topic file)
    title_screen: dict[str, tuple[str, ...]] = field(default_factory=dict)


def fold(s: str, punct: str | None = None) -> str:
    """NFKD without combining marks, so 'deportación' == 'deportacion'; other non-ASCII symbols become `punct`
    unless it is None. Only non-ASCII characters are looked at, for speed."""

    def one(m: re.Match[str]) -> str:
        return "" if unicodedata.combining(m[0]) else m[0] if punct is None or m[0].isalnum() else punct

    return _NON_ASCII.sub(one, unicodedata.normalize("NFKD", s))


def _table(path: Path, where: str, obj: Any, allowed: Iterable[str], required: tuple[str, ...] = ()) -> dict:
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: {where}: must be a table")
    for k in [k for k in obj if k not in allowed] + [k for k in required if k not in obj]:
        problem = "missing required key" if k in required else f"unknown key (allowed: {', '.join(allowed)})"
        raise ValueError(f"{path}: {where}.{k}: {problem}")
    return obj


def _get(path: Path, where: str, tbl: dict, key: str, default: Any, typ: type, positive: bool | None = None) -> Any:
    """tbl[key] (or default) checked against typ; positive=True demands > 0, False demands >= 0."""
    v = tbl.get(key, default)
    ok = isinstance(v, (int, float) if typ is float else typ) and isinstance(v, bool) == (typ is bool)
    if not ok or (positive is not None and (v < 0 or (positive and v == 0))):
        bound = "" if positive is None else " > 0" if positive else " >= 0"
        raise ValueError(f"{path}: {where}{'.' * bool(where)}{key}: must be {typ.__name__}{bound}, got {v!r}")
    return float(v) if typ is float else v


def _alternatives(p: str, limit: int = 64) -> list[str]:
    """Top-level alternatives, a leading group distributed ("(a|b)? c" -> "a c", "b c", "c"), so that each part
    starts with words: its key."""

    def split(s: str) -> tuple[list[str], int]:  # top-level alternatives, and where the first group ends
        depth, cuts, close = 0, [-1], 0
        for m in _REGEX_TOKEN.finditer(s):
            depth += (m[0] == "(") - (m[0] == ")")
            if m[0] == "|" and depth == 0:
                cuts.append(m.start())
            if m[0] == ")" and depth == 0 and not close:
                close = m.end()
        return [s[a + 1 : b] for a, b in zip(cuts, [*cuts[1:], len(s)], strict=True)], close

    done, todo = [], split(p)[0]
    while todo:
        alt = todo.pop()
        close = split(alt)[1] if alt[:3] == "(?:" or (alt[:1] == "(" and alt[1:2] != "?") else 0
        rest = alt[close:]
        if close and rest[:1] not in ("*", "+", "{") and rest[:2] not in ("??", "?+"):
            inner = alt[3 if alt[:3] == "(?:" else 1 : close - 1]
            skipped = rest[2:] if rest[1:2] == " " and rest[2:3] not in ("?", "*", "+", "{") else rest[1:]
            new = [a + rest.removeprefix("?") for a in split(inner)[0]] + [skipped] * (rest[:1] == "?")
            if all(new) and len(done) + len(todo) + len(new) <= limit:
                todo += new
                continue
        done.append(alt)
    return done


def _key(src: str) -> tuple[str, int]:
    """(first letters of a word every match has, its word offset), or ("", 0). The first long fixed word is used:
    "the darien gap" is tried where a word starts with "dari", "data migration" (rarer than "migr") at "data"."""
    if not (m := _LEAD.match(src.lower())):
        return "", 0
    words, nxt = m[0].split(" "), src[m.end() : m.end() + 2]
    if nxt[:1] in ("?", "*", "{"):  # "migrants?": the last letter may be missing
        words[-1] = words[-1][:-1]
    last_whole = nxt == "" or (nxt[:1] == " " and nxt[1:] not in ("?", "*", "+", "{"))
    usable = [
        (len(w) >= _KEY_LEN, len(w), -i)
        for i, w in enumerate(words)
        if len(w) >= _KEY_LEN or (w and (i < len(words) - 1 or last_whole))
    ]
    best = max(usable, key=lambda u: (u[0], u[2] if u[0] else u[1]), default=None)  # first long one, or longest
    return (words[-best[2]][:_KEY_LEN], -best[2]) if best else ("", 0)


def _term(path: Path, where: str, t: Any, negative: bool, anchor_kinds: frozenset[str]) -> Term:
    weight_key = "penalty" if negative else "weight"
    get = partial(
        _get, path, where, _table(path, where, t, _NEG_KEYS if negative else _TERM_KEYS, ("pattern", weight_key))
    )
    pattern, cased, lang = get("pattern", "", str).strip(), get("case_sensitive", False, bool), get("lang", "any", str)
    if lang not in _LANGS:
        raise ValueError(f"{path}: {where}.lang: must be one of {', '.join(_LANGS)}, got {lang!r}")
    # escapes keep their case: \W, \S, \B mean something else in lower case
    src = fold(pattern if cased else _LITERAL.sub(lambda m: m[0] if m[0][0] == "\\" else m[0].lower(), pattern))
    if stray := sorted({c for c in _SYNTAX.sub("", src) if not (c.isalnum() or c == " ")}):
        raise ValueError(
            f"{path}: {where}.pattern: {pattern!r} can never match {''.join(stray)!r}: text is matched "
            "without punctuation, so write 'u s' for U.S. and 'cross border' for cross-border"
        )
    try:
        re.compile(src)  # report errors against what the user wrote, not against the split parts
        # whole words: a match ends before a space (or at the end) and starts at a word (see _hits)
        parts = tuple((*_key(a), re.compile(f"(?:{a})(?!\\w)")) for a in _alternatives(src))
    except re.error as e:
        raise ValueError(f"{path}: {where}.pattern: bad regular expression {pattern!r}: {e}") from e
    if not pattern or any(rx.match("") for *_, rx in parts):
        raise ValueError(f"{path}: {where}.pattern: must not match empty text: {pattern!r}")
    label, weight = get("label", pattern, str), get(weight_key, 0, float, positive=not negative)
    if negative:
        return Term(label, parts, weight, lang, cased=cased, window=max(0, get("window", 0, int)))
    kind = get("kind", "policy", str)
    return Term(label, parts, weight, lang, kind, get("anchor", kind in anchor_kinds, bool), cased)


def _lookup(terms: list[Term], negatives: list[Term], lang: str | None) -> _Lookup:
    by_key: dict[str, list[tuple[int, int, bool, Term, re.Pattern[str]]]] = defaultdict(list)
    unkeyed, tree = [], {}
    for order, t in enumerate(terms + negatives):  # order breaks ties between equal matches: earlier term wins
        for key, offset, rx in t.parts if lang is None or t.lang in ("any", lang) else ():
            (by_key[key] if key else unkeyed).append((offset, order, order >= len(terms), t, rx))
    for key in by_key:
        node = tree
        for c in key:
            node = node.setdefault(c, {})
        node[""] = {}

    def trie(node: dict[str, dict], depth: int) -> str:  # nested by letters: the engine tries few alternatives
        if "" in node and depth >= _KEY_LEN:  # a key of full length is a prefix: what follows does not matter
            return ""
        alts = [r"(?![^ ])"] * ("" in node)  # a short key must be a whole word
        alts += [re.escape(c) + trie(sub, depth + 1) for c, sub in node.items() if c]
        return "(?!)" if not alts else alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"

    # one pass of the engine finds the words worth trying: a space, then the first letters of a key
    return dict(by_key), unkeyed, re.compile(f" {trie(tree, 0)}")


def load_topic(path: str | Path | None = None, scopes: Iterable[str] = ()) -> Topic:
    """Read, validate and compile a topic file (None = the bundled one), switching on the named scopes."""
    path = Path(path) if path is not None else DEFAULT_TOPIC_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: invalid TOML: {e}") from e
    _table(
        path,
        "(top level)",
        data,
        ("meta", *_SECTIONS, "terms", "negatives", "scopes", "title_screen"),
        ("meta", "terms"),
    )
    screen = _table(path, "title_screen", data.get("title_screen", {}), ("skip", "keep"))
    title_screen = {
        k: tuple(
            fold(_get(path, "title_screen", {k: x}, k, "", str)).lower()
            for x in _get(path, "title_screen", screen, k, [], list)
        )
        for k in ("skip", "keep")
    }
    meta = _table(path, "meta", data["meta"], ("name", "version", "description"), ("name",))
    info = [_get(path, "meta", meta, k, "", str) for k in ("name", "version", "description")]
    knobs, kinds = dict(_KNOBS), {k: frozenset(v) for k, v in _KINDS.items()}
    for section, keys in _SECTIONS.items():
        for k, v in _table(path, section, data.get(section, {}), keys).items():
            get = partial(_get, path, section, {k: v}, k)
            if k in kinds:
                kinds[k] = frozenset(_get(path, section, {k: x}, k, "", str) for x in get([], list))
            else:
                knobs[k] = get(0, float, positive=k != "max_bonus")
    if knobs["decay"] > 1:
        raise ValueError(f"{path}: scoring.decay: must be <= 1, a repeat must not count more than the first hit")
    lists = {k: _get(path, "", data, k, [], list) for k in ("terms", "negatives", "scopes")}
    terms = [_term(path, f"terms[{i}]", t, False, kinds["anchor_kinds"]) for i, t in enumerate(lists["terms"])]
    negatives = [_term(path, f"negatives[{i}]", t, True, frozenset()) for i, t in enumerate(lists["negatives"])]
    wanted, known, enabled = set(scopes), [], []
    for i, s in enumerate(lists["scopes"]):
        get = partial(
            _get,
            path,
            f"scopes[{i}]",
            _table(path, f"scopes[{i}]", s, ("name", "description", "enabled", "off_penalty", "terms"), ("name",)),
        )
        name, _ = get("name", "", str), get("description", "", str)
        on, off_penalty = get("enabled", False, bool) or name in wanted, get("off_penalty", 1.0, float, positive=False)
        known.append(name)
        enabled += [name] * on
        for j, t in enumerate(get("terms", [], list)):
            term = _term(path, f"scopes[{i}].terms[{j}]", t, False, kinds["anchor_kinds"])
            # a scope that is off is counter-evidence: its cues say "this is about migration elsewhere"
            terms += [term] * on
            negatives += (
                []
                if on
                else [Term(f"{name}:{term.label}", term.parts, term.weight * off_penalty, term.lang, cased=term.cased)]
            )
    if unknown := sorted(wanted - set(known)):
        raise ValueError(f"{path}: scopes: unknown scope(s) {', '.join(unknown)} (known: {', '.join(known)})")
    return Topic(
        *info,
        path,
        tuple(enabled),
        tuple(terms),
        tuple(negatives),
        knobs,
        kinds,
        {lang: _lookup(terms, negatives, lang) for lang in (None, "en", "es", "other")},
        title_screen,
    )


def _hits(lookup: _Lookup, low: str, cased: str) -> tuple[list, list]:
    """(first word, last word, term) of the positive and of the negative matches in " word word ...". Of overlapping
    ones the leftmost-longest wins: "Border Patrol" is not also "border", "cross-border payments" not "cross-border"."""
    by_key, unkeyed, scan = lookup
    found, i, seen = [], -1, 0
    for m in scan.finditer(low):
        at = m.start() + 1
        i, seen = i + low.count(" ", seen, at), at  # the index of the word at `at`
        for offset, order, negative, t, rx in by_key[low[at : at + _KEY_LEN].split(" ")[0]]:
            start = at
            for _ in range(offset if offset <= i else 0):  # the key is a later word: step back to the first
                start = low.rfind(" ", 0, start - 1) + 1
            if offset <= i and (hit := rx.match(cased if t.cased else low, start)):
                found.append((negative, i - offset, -len(hit[0]), order, i - offset + hit[0].count(" "), t))
    for _, order, negative, t, rx in unkeyed:  # patterns that do not start with a word: scan (slower, rare)
        doc, pos = (cased if t.cased else low), 0
        while m := rx.search(doc, pos):
            pos = m.start() + 1  # a hit inside a word ("us" in "plus") is no hit, but one may start right after
            if m.start() and doc[m.start() - 1] == " ":
                j = doc.count(" ", 0, m.start()) - 1
                found.append((negative, j, -len(m[0]), order, j + m[0].count(" "), t))
    kept: tuple[list, list] = ([], [])
    for negative, j, _, _, last, t in sorted(found, key=itemgetter(0, 1, 2, 3)):
        if not kept[negative] or j > kept[negative][-1][1]:
            kept[negative].append((j, last, t))
    return kept


def _decayed(values: list[float], decay: float) -> float:
    return sum(v * decay**i for i, v in enumerate(sorted(values, reverse=True)))


def score(topic: Topic, title: str, text: str, language: str | None = None) -> Relevance:
    """Relevance of one article; `language` ("en", "es-MX", None = unknown) restricts the terms used."""
    k = topic.knobs
    head, body = (_SPACES.sub(" ", fold(x or "", " ").translate(_PUNCT)).strip() for x in (title, text))
    cased = f" {head} {body}" if head else f" {body}"  # " word word ...": each word right after a space
    if len(low := cased.lower()) != len(cased):  # lower() grew a character: offsets must agree, so drop case
        cased = low
    n_title, lang = head.count(" ") + 1 if head else 0, (language or "")[:2].lower() or None
    positives, negatives = _hits(topic.lookup[lang if lang in (None, "en", "es") else "other"], low, cased)

    def weight(j: int) -> float:  # of a hit starting at word j
        return k["title_weight" if j < n_title else "lead_weight" if j < n_title + k["lead_words"] else "body_weight"]

    blocked: set[int] = set()
    penalties: dict[str, list[float]] = defaultdict(list)
    for j, last, t in negatives:
        blocked.update(range(j - t.window, last + t.window + 1))
        penalties[t.label].append(t.weight * weight(j))
    gains: dict[str, list[float]] = defaultdict(list)
    in_title: set[str] = set()
    near: list[tuple[int, str]] = []
    policy: list[tuple[int, str]] = []
    anchored = topical = False
    for j, last, t in positives:
        if blocked.intersection(range(j, last + 1)):
            continue  # "border" in "border collie", "migration" in "data migration"
        gains[t.label].append(t.weight * weight(j))
        anchored = anchored or t.anchor
        topical = topical or t.kind in topic.kinds["topical_kinds"]
        if j < n_title:
            in_title.add(t.label)
        if t.kind in topic.kinds["near_kinds"]:
            near.append((j, t.label))
        if t.kind in topic.kinds["policy_kinds"]:
            policy.append((j, t.label))
    at = [j for j, _ in policy]  # in text order already
    pairs = sorted(
        {
            f"{a}~{policy[p][1]}"
            for i, a in near
            for p in range(bisect_left(at, i - k["window"]), bisect_right(at, i + k["window"]))
        }
    )
    gain = {label: _decayed(v, k["decay"]) for label, v in gains.items()}
    positive = sum(gain.values()) + min(k["max_bonus"], k["bonus"] * len(pairs))
    if gains and not anchored:  # "asylum" or "migrants" alone could be anywhere in the world
        positive *= k["unanchored_factor"]
    if gains and not topical:  # only places and names: El Paso is the setting, not the subject
        positive *= k["setting_factor"]
    penalty = {label: _decayed(v, k["decay"]) for label, v in penalties.items()}
    raw = positive - sum(penalty.values())
    evidence = [label + "(title)" * (label in in_title) for label in sorted(gain, key=lambda x: -gain[x])]
    evidence += pairs[:3] + ["no-anchor"] * bool(gains and not anchored) + ["no-topic"] * bool(gains and not topical)
    evidence += ["-" + label for label in sorted(penalty, key=lambda x: -penalty[x])]
    return Relevance(round(1 - math.exp(-raw / k["saturation"]), 4) if raw > 0 else 0.0, tuple(evidence))


def score_many(topic: Topic, items: Iterable[tuple[str, str, str | None]]) -> list[Relevance]:
    """score() for each (title, text, language)."""
    return [score(topic, title, text, language) for title, text, language in items]
