"""Search over labels, alternative labels and definitions in English and Chinese, ranked
(an exact label first), with facets by class and by evidence status, and the matched
text split into highlighted parts.

The index (SQLite FTS5 with trigrams, in memory) is built once per store version from its
catalogue (kg.evidence.catalogue), so a request looks up candidates rather than scanning.

>>> hits = search(catalogue(store), "saga")                          # doctest: +SKIP
>>> hits.results[0].label                                            # doctest: +SKIP
'Saga pattern'
"""

from __future__ import annotations

import heapq
import sqlite3
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from ..errors import QueryError
from ..evidence.catalogue import Catalogue
from ..namespaces import shorten
from ..query.results import streamed_rows

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


_KINDS = {"label": 0, "alternative label": 1, "definition": 2}
_ALL = 3  # every field of an entry joined: for queries whose words match different fields


class SearchIndex:
    """An SQLite FTS5 trigram index over every name and definition of one store version:
    a query finds its candidates through the index (a substring of three characters or
    more) or, for one- and two-character queries, by a scan in SQLite; ranking and
    facets then run over the matches only."""

    def __init__(self, cat: Catalogue, sources: dict[str, tuple[str, str, str]] | None = None):
        self.entries: list[_Entry] = []
        self.has_sources = sources is not None
        sources = sources or {}
        self.titles = {iri: title for iri, (_, title, _) in sources.items() if title}
        names = set(cat.labels) | set(cat.claims) | set(sources)
        for iri in sorted(names):
            fields = [("label", t, fold(t)) for t in cat.labels.get(iri, {}).values()]
            if iri in sources:  # a source is named by its title, key and authors
                key, title, authors = sources[iri]
                fields += [("label", t, fold(t)) for t in (title,) if t]
                fields += [("alternative label", t, fold(t)) for t in (key, authors) if t]
            if iri in cat.claims and not fields:  # a statement is named by its claim
                for text in dict.fromkeys([cat.label(iri, "en"), cat.label(iri, "zh")]):
                    fields.append(("label", text, fold(text)))
            fields += [("alternative label", t, fold(t)) for t in cat.alt_labels.get(iri, [])]
            fields += [("definition", t, fold(t)) for t in cat.definitions.get(iri, {}).values()]
            self.entries.append(_Entry(iri, tuple(fields)))
        self.main_type = [cat.main_type(e.iri) for e in self.entries]
        self.status = [cat.status.get(e.iri) for e in self.entries]
        self.is_claim = [e.iri in cat.claims for e in self.entries]
        labels = [self.titles.get(e.iri) or cat.label(e.iri, "en") for e in self.entries]
        self.order = [(len(label), label.casefold(), e.iri) for label, e in
                      zip(labels, self.entries, strict=True)]
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute("CREATE VIRTUAL TABLE names USING fts5(entry UNINDEXED, kind UNINDEXED,"
                        " folded, tokenize='trigram')")
        rows = []
        for number, entry in enumerate(self.entries):
            rows += [(number, _KINDS[name], folded) for name, _, folded in entry.fields]
            rows.append((number, _ALL, " ".join(f for _, _, f in entry.fields)))
        self.db.executemany("INSERT INTO names (entry, kind, folded) VALUES (?, ?, ?)", rows)
        self.lock = threading.Lock()

    def matches(self, q: str, words: list[str]) -> dict[int, int]:
        """entry number -> best tier, for every entry that matches."""
        tiers = ("CASE WHEN kind = 0 AND folded = :q THEN 0 "
                 "WHEN kind = 0 AND substr(folded, 1, length(:q)) = :q THEN 1 "
                 "WHEN kind = 0 THEN 2 WHEN kind = 1 THEN 3 ELSE 4 END")
        if len(q) >= 3:
            where = "names MATCH :phrase AND kind < 3"
        else:
            where = "instr(folded, :q) > 0 AND kind < 3"
        sql = f"SELECT entry, MIN({tiers}) FROM names WHERE {where} GROUP BY entry"
        phrase = '"' + q.replace('"', '""') + '"'
        with self.lock:
            found = dict(self.db.execute(sql, {"q": q, "phrase": phrase}).fetchall())
            if not found and len(words) > 1:  # every word somewhere in the entry
                conditions = " AND ".join(f"instr(folded, :w{i}) > 0" for i in range(len(words)))
                params = {f"w{i}": w for i, w in enumerate(words)}
                candidates = [w for w in words if len(w) >= 3]
                if candidates:
                    params["phrase"] = " AND ".join('"' + w.replace('"', '""') + '"'
                                                    for w in candidates)
                    conditions = "names MATCH :phrase AND " + conditions
                found = {row[0]: 5 for row in self.db.execute(
                    f"SELECT entry FROM names WHERE kind = 3 AND {conditions}", params)}
        return found


def _index(cat: Catalogue, sources: dict | None = None) -> SearchIndex:
    index = getattr(cat, "_search_index", None)
    if index is None or (sources is not None and not index.has_sources):
        with _BUILD_LOCK:
            index = getattr(cat, "_search_index", None)
            if index is None or (sources is not None and not index.has_sources):
                index = SearchIndex(cat, sources)
                cat._search_index = index  # type: ignore[attr-defined]
    return index


_SOURCE_NAMES = """
SELECT ?src ?key ?title ?authors WHERE {
  ?src a wf:Source .
  OPTIONAL { ?src wf:citationKey ?key } OPTIONAL { ?src dcterms:title ?title }
  OPTIONAL { ?src wf:authors ?authors }
}"""


def source_names(store) -> dict[str, tuple[str, str, str]]:
    """Every source's citation key, title and authors (for the index), once per store
    version."""
    from ..evidence.catalogue import per_version

    def read() -> dict[str, tuple[str, str, str]]:
        out = {}
        for row in streamed_rows(store, _SOURCE_NAMES):
            out.setdefault(row["src"].value, tuple(
                row[name].value if name in row else "" for name in ("key", "title", "authors")))
        return out
    return per_version(store, "source-names", read)


_BUILD_LOCK = threading.Lock()


def _best_field(entry: _Entry, q: str, tier: int, words: list[str]) -> tuple[str, str]:
    """The field that gave the entry its tier: (field name, text)."""
    for name, text, folded in entry.fields:
        if (tier <= 2 and name == "label" and q in folded) or \
                (tier == 3 and name == "alternative label" and q in folded) or \
                (tier == 4 and name == "definition" and q in folded) or \
                (tier == 5 and any(w in folded for w in words)):
            return name, text
    name, text, _ = entry.fields[0]
    return name, text


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
           status: str | None = None, lang: str = "en", limit: int = 50,
           sources: dict[str, tuple[str, str, str]] | None = None) -> SearchResult:
    """Resources whose names or definitions match `query`, best first. `type` (a class
    IRI) and `status` (verified, unverified, contradicted) narrow the results; the
    facets count the matches before narrowing by that facet. With `sources`
    (source_names(store)) sources are found by title, citation key and authors."""
    text = query.strip()[:MAX_QUERY]
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise QueryError("the search text has a control character (such as NUL); "
                         "search for printable text")
    if type is not None:
        cat.check_class(type, "for the type filter")
    q = fold(text)
    if not q:
        return SearchResult(query=text, results=[], total=0)
    words = [w for w in q.split() if w]
    index = _index(cat, sources)
    found = index.matches(q, words)
    type_facet: Counter[str] = Counter()
    status_facet: Counter[str] = Counter()
    kept = []
    for number, tier in found.items():
        iri = index.entries[number].iri
        main, st = index.main_type[number], index.status[number]
        type_ok = type is None or cat.is_a(iri, type)
        status_ok = status is None or st == status
        if status_ok:
            type_facet[main or ""] += 1
        if type_ok and st:
            status_facet[st] += 1
        if type_ok and status_ok:
            kept.append((tier, index.is_claim[number], number))
    order = index.order
    best = heapq.nsmallest(limit, kept, key=lambda k: (k[0], k[1], order[k[2]]))
    hits = []
    for tier, _, number in best:
        entry = index.entries[number]
        name, matched_text = _best_field(entry, q, tier, words)
        label = index.titles.get(entry.iri) or cat.label(entry.iri, lang)
        hits.append(Hit(iri=entry.iri, label=label,
                        type=index.main_type[number], status=index.status[number],
                        matched=name, parts=highlight(matched_text, [q] if tier < 5 else words),
                        rank=tier))
    return SearchResult(query=text, results=hits, total=len(kept),
                        types=dict(type_facet.most_common()),
                        statuses=dict(status_facet.most_common()))


__all__ = ["Hit", "Part", "SearchResult", "fold", "highlight", "search", "source_names"]
