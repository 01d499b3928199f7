"""Search over labels, alternative labels and definitions in English and Chinese, ranked
(an exact label first), with facets by class and by evidence status, and the matched
text split into highlighted parts.

The index is built once per store version from its catalogue (kg.catalogue), so a
request scans an in-memory list of names rather than the store.

>>> hits = search(catalogue(store), "saga")                          # doctest: +SKIP
>>> hits.results[0].label                                            # doctest: +SKIP
'Saga pattern'
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from .catalogue import Catalogue
from .namespaces import shorten

MAX_QUERY = 200
# Match quality, best first: where the text matched and how.
_TIERS = ("exact label", "label starts with", "label contains", "alternative label",
          "definition", "all words")


@dataclass(frozen=True)
class Part:
    """A piece of the matched text; `hit` when it is what the query matched."""

    text: str
    hit: bool


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str  # in the requested language when there is one
    type: str | None
    status: str | None
    matched: str  # which field matched: label, alternative label, definition
    parts: tuple[Part, ...]  # the matched field's text with the hits marked
    rank: int  # index into _TIERS

    @property
    def curie(self) -> str:
        return shorten(self.iri)


@dataclass
class SearchResult:
    query: str
    results: list[Hit]
    total: int
    types: dict[str, int] = field(default_factory=dict)  # facet: class -> hits
    statuses: dict[str, int] = field(default_factory=dict)  # facet: status -> hits


@dataclass(frozen=True)
class _Entry:
    iri: str
    fields: tuple[tuple[str, str, str], ...]  # (field name, text, folded text)


def fold(text: str) -> str:
    """Case- and width-insensitive form for matching (NFKC, casefold)."""
    return unicodedata.normalize("NFKC", text).casefold()


def _entries(cat: Catalogue) -> list[_Entry]:
    cached = getattr(cat, "_search_entries", None)
    if cached is not None:
        return cached
    names = set(cat.labels) | set(cat.claims)
    entries = []
    for iri in sorted(names):
        fields = [("label", text, fold(text)) for text in cat.labels.get(iri, {}).values()]
        if iri in cat.claims and not fields:  # a statement is named by its claim
            for text in dict.fromkeys([cat.label(iri, "en"), cat.label(iri, "zh")]):
                fields.append(("label", text, fold(text)))
        fields += [("alternative label", t, fold(t)) for t in cat.alt_labels.get(iri, [])]
        fields += [("definition", t, fold(t)) for t in cat.definitions.get(iri, {}).values()]
        entries.append(_Entry(iri, tuple(fields)))
    cat._search_entries = entries  # type: ignore[attr-defined]
    return entries


def _rank(entry: _Entry, q: str, words: list[str]) -> tuple[int, str, str] | None:
    """The best tier at which the entry matches, with the field name and text."""
    best: tuple[int, str, str] | None = None
    for name, text, folded in entry.fields:
        if name == "label":
            tier = 0 if folded == q else 1 if folded.startswith(q) else \
                2 if q in folded else None
        elif name == "alternative label":
            tier = 3 if q in folded else None
        else:
            tier = 4 if q in folded else None
        if tier is not None and (best is None or tier < best[0]):
            best = (tier, name, text)
    if best is None and len(words) > 1:
        joined = " ".join(f for _, _, f in entry.fields)
        if all(w in joined for w in words):
            name, text, _ = entry.fields[0]
            best = (5, name, text)
    return best


def highlight(text: str, words: list[str]) -> tuple[Part, ...]:
    """Split `text` into parts, marking each occurrence of any of the (folded) words."""
    folded = fold(text)
    if len(folded) != len(text):  # folding changed lengths: mark nothing rather than guess
        return (Part(text, False),)
    marks = [False] * len(text)
    for word in words:
        start = folded.find(word)
        while word and start >= 0:
            for i in range(start, start + len(word)):
                marks[i] = True
            start = folded.find(word, start + len(word))
    parts: list[Part] = []
    for ch, hit in zip(text, marks, strict=True):
        if parts and parts[-1].hit == hit:
            parts[-1] = Part(parts[-1].text + ch, hit)
        else:
            parts.append(Part(ch, hit))
    return tuple(parts)


def search(cat: Catalogue, query: str, *, type: str | None = None,
           status: str | None = None, lang: str = "en", limit: int = 50) -> SearchResult:
    """Resources whose names or definitions match `query`, best first. `type` (a class
    IRI) and `status` (verified, unverified, contradicted) narrow the results; the
    facets count the matches before narrowing by that facet."""
    text = query.strip()[:MAX_QUERY]
    q = fold(text)
    if not q:
        return SearchResult(query=text, results=[], total=0)
    words = [w for w in q.split() if w]
    matches = []
    for entry in _entries(cat):
        ranked = _rank(entry, q, words)
        if ranked is not None:
            matches.append((entry, ranked))
    type_facet: Counter[str] = Counter()
    status_facet: Counter[str] = Counter()
    kept = []
    for entry, ranked in matches:
        main = cat.main_type(entry.iri)
        st = cat.status.get(entry.iri)
        type_ok = type is None or cat.is_a(entry.iri, type)
        status_ok = status is None or st == status
        if status_ok:
            type_facet[main or ""] += 1
        if type_ok and st:
            status_facet[st] += 1
        if type_ok and status_ok:
            kept.append((entry, ranked, main, st))
    kept.sort(key=lambda m: (m[1][0], m[0].iri in cat.claims, len(cat.label(m[0].iri, lang)),
                             cat.label(m[0].iri, lang).casefold(), m[0].iri))
    hits = [Hit(iri=e.iri, label=cat.label(e.iri, lang), type=main, status=st,
                matched=ranked[1], parts=highlight(ranked[2], [q] if ranked[0] < 5 else words),
                rank=ranked[0])
            for e, ranked, main, st in kept[:limit]]
    return SearchResult(query=text, results=hits, total=len(kept),
                        types=dict(type_facet.most_common()),
                        statuses=dict(status_facet.most_common()))


def suggestions(cat: Catalogue, name: str, *, limit: int = 5) -> list[str]:
    """IRIs whose label or short name resembles `name`: for "did you mean" messages."""
    import difflib

    local = name.rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]
    hits = search(cat, local.replace("-", " "), limit=limit).results
    found = [h.iri for h in hits]
    if len(found) < limit:
        by_local = {iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]: iri for iri in cat.types}
        for close in difflib.get_close_matches(local, list(by_local), n=limit):
            if by_local[close] not in found:
                found.append(by_local[close])
    return found[:limit]


__all__ = ["Hit", "Part", "SearchResult", "fold", "highlight", "search", "suggestions"]
