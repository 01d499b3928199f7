"""Lists to browse: the instances of a class (label, Chinese label, the evidence status of
the facts naming each, how many facts and sources), and every source (key, title,
authors, date, kind, the facts it is evidence for), each sortable, filterable by the
same facets as search (class, evidence status) and paginated.

The counts are read once per store version for every resource at once (kg.catalogue's
per_version), so a page sorts and slices lists in memory.

>>> page = instances(graph.store, WF.WorkflowEngine, sort="facts", order="desc")  # doctest: +SKIP
>>> page.rows[0].term.label                                                    # doctest: +SKIP
'Temporal'
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..errors import QueryError, ResourceNotFound
from ..evidence.catalogue import catalogue, per_version
from ..namespaces import WF, shorten
from ..query.results import streamed_rows
from .search import fold

STATUS_NAMES = ("verified", "unverified", "contradicted")
PER_PAGE = 50

# Every evidenced fact (a statement, case study or finding: whatever has a status) and
# each resource it names; and the sources each cites or disputes.
_NAMED = """
SELECT DISTINCT ?f ?e WHERE {
  ?f wf:evidenceStatus ?status ; ?p ?e .
  FILTER (isIRI(?e) && ?p NOT IN (rdf:type, wf:evidenceStatus, rdf:predicate,
                                  cito:citesAsEvidence, cito:disputes, wf:sourceKind))
}"""
_CITES = """
SELECT DISTINCT ?f ?src ?rel WHERE {
  VALUES ?rel { cito:citesAsEvidence cito:disputes } ?f ?rel ?src }"""
_MEMBERS = "SELECT DISTINCT ?s WHERE { ?s a ?cls FILTER (isIRI(?s)) }"
_SOURCES = """
SELECT ?src ?key ?title ?authors ?publisher ?issued ?kind WHERE {
  ?src a wf:Source .
  OPTIONAL { ?src wf:citationKey ?key }
  OPTIONAL { ?src dcterms:title ?title }
  OPTIONAL { ?src wf:authors ?authors }
  OPTIONAL { ?src dcterms:publisher ?publisher }
  OPTIONAL { ?src dcterms:issued ?issued }
  OPTIONAL { ?src wf:sourceKind ?kind }
}"""


@dataclass(frozen=True)
class Counts:
    """What the facts of the graph say about one resource."""

    profile: dict[str, int]  # status -> facts naming it
    facts: int
    sources: int


@dataclass
class Row:
    iri: str
    label: str
    label_zh: str
    status: str | None  # the resource's own status (a fact's), else None
    counts: Counts
    extra: dict[str, str] = field(default_factory=dict)  # a source's key, title, ...

    @property
    def statuses(self) -> set[str]:
        """What the status facet files the row under: a fact's own status; for any other
        resource, the statuses of the facts naming it."""
        if self.status:
            return {self.status}
        return {s for s, n in self.counts.profile.items() if s and n}

    @property
    def curie(self) -> str:
        return shorten(self.iri)


@dataclass
class Listing:
    """One page of a sorted, filtered list, with the facets of the whole filtered list."""

    cls: str
    label: str
    label_zh: str
    rows: list[Row]
    total: int
    page: int
    pages: int
    sort: str
    order: str
    q: str = ""
    type: str | None = None
    status: str | None = None
    types: dict[str, int] = field(default_factory=dict)  # facet: class -> rows
    statuses: dict[str, int] = field(default_factory=dict)  # facet: status -> rows
    of_facts: bool = False  # the rows are filed by the statuses of the facts naming them
    type_labels: dict[str, tuple[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"class": shorten(self.cls), "label": self.label, "total": self.total,
                "page": self.page, "pages": self.pages, "sort": self.sort,
                "order": self.order,
                "facets": {"type": {shorten(k): v for k, v in self.types.items()},
                           "status": self.statuses,
                           "status_of": "facts naming the row" if self.of_facts else "row"},
                "rows": [{"iri": r.iri, "curie": r.curie, "label": r.label,
                          "label_zh": r.label_zh, "status": r.status,
                          "profile": r.counts.profile, "facts": r.counts.facts,
                          "sources": r.counts.sources, **r.extra} for r in self.rows]}


def counts(store) -> dict[str, Counts]:
    """iri -> Counts for every resource some fact names, once per store version."""
    return per_version(store, "list-counts", lambda: _counts(store))


def _counts(store) -> dict[str, Counts]:
    cat = catalogue(store)
    named: dict[str, set[str]] = defaultdict(set)
    for row in streamed_rows(store, _NAMED):
        named[row["e"].value].add(row["f"].value)
    cites: dict[str, set[str]] = defaultdict(set)
    cited_by: dict[str, set[str]] = defaultdict(set)
    for row in streamed_rows(store, _CITES):
        cites[row["f"].value].add(row["src"].value)
        cited_by[row["src"].value].add(row["f"].value)
    out = {}
    for iri in set(named) | set(cited_by):
        facts = named.get(iri, set()) | cited_by.get(iri, set())
        profile = Counter(cat.status.get(f) for f in facts)
        sources = {s for f in named.get(iri, ()) for s in cites.get(f, ())}
        out[iri] = Counts(profile={s: profile[s] for s in STATUS_NAMES if profile[s]},
                          facts=len(facts), sources=len(sources))
    return out


_NONE = Counts(profile={}, facts=0, sources=0)
SORTS = {"label", "label_zh", "verified", "facts", "sources", "key", "title", "authors",
         "issued", "kind"}


def instances(store, cls: str, *, q: str = "", type: str | None = None,
              status: str | None = None, sort: str = "label", order: str = "asc",
              page: int = 1, per_page: int = PER_PAGE) -> Listing:
    """The instances of class `cls` (an IRI), its subclasses' included. `q` keeps those
    whose label (either language) contains it; `type` (a subclass) and `status` narrow
    as search's facets do. ResourceNotFound for a class the graph does not have."""
    import pyoxigraph as ox

    cat = catalogue(store)
    members = sorted(set(store.query(_MEMBERS, bindings={"cls": ox.NamedNode(cls)}).values("s"))
                     | {iri for iri in cat.types if cat.is_a(iri, cls)})
    if not members and cls not in cat.superclasses and cls not in cat.labels:
        raise ResourceNotFound(f"no class {shorten(cls)} in the graph",
                               suggestions=[shorten(c) for c in cat.close_classes(cls)])
    facts = counts(store)
    rows = [Row(iri=i, label=cat.label(i, "en"), label_zh=cat.label(i, "zh"),
                status=cat.status.get(i), counts=facts.get(i, _NONE)) for i in members]
    if str(WF.Source) == cls:
        _add_source_fields(store, cat, rows)
    return _listing(cat, cls, rows, q=q, type=type, status=status, sort=sort, order=order,
                    page=page, per_page=per_page)


def _add_source_fields(store, cat, rows: list[Row]) -> None:
    fields: dict[str, dict[str, str]] = defaultdict(dict)
    for row in streamed_rows(store, _SOURCES):
        f = fields[row["src"].value]
        for name in ("key", "title", "authors", "publisher", "issued"):
            if name in row and name not in f:
                f[name] = row[name].value
        if "kind" in row and "kind" not in f:
            f["kind"] = cat.label(row["kind"].value)
    for r in rows:
        f = fields.get(r.iri, {})
        r.extra = {"key": f.get("key", r.curie), "title": f.get("title", r.label),
                   "authors": f.get("authors") or f.get("publisher") or "",
                   "issued": f.get("issued", ""), "kind": f.get("kind", "")}


def _listing(cat, cls: str, rows: list[Row], *, q: str, type: str | None,
             status: str | None, sort: str, order: str, page: int,
             per_page: int) -> Listing:
    if sort not in SORTS:
        raise QueryError(f"sort={sort!r}: sort by one of {', '.join(sorted(SORTS))}")
    if order not in ("asc", "desc"):
        raise QueryError("order is asc or desc")
    if status is not None and status not in STATUS_NAMES:
        raise QueryError("status is one of verified, unverified, contradicted")
    if type is not None:
        cat.check_class(type, "for the type filter")
    needle = fold(q.strip())
    if needle:
        rows = [r for r in rows if any(needle in fold(text) for text in (
            r.label, r.label_zh, r.extra.get("key", ""), r.extra.get("title", "")))]
    type_facet: Counter[str] = Counter()
    status_facet: Counter[str] = Counter()
    kept = []
    for r in rows:
        type_ok = type is None or cat.is_a(r.iri, type)
        status_ok = status is None or status in r.statuses
        if status_ok:
            type_facet[cat.main_type(r.iri) or ""] += 1
        if type_ok:
            status_facet.update(r.statuses)
        if type_ok and status_ok:
            kept.append(r)

    def key(r: Row):
        if sort in ("facts", "sources"):
            return (getattr(r.counts, sort), fold(r.label))
        if sort == "verified":
            return (r.counts.profile.get("verified", 0), r.counts.facts, fold(r.label))
        if sort == "label_zh":
            return (r.label_zh == r.label, r.label_zh, fold(r.label))
        if sort == "label":
            return (fold(r.label),)
        return (fold(r.extra.get(sort, "")), fold(r.label))
    kept.sort(key=key, reverse=order == "desc")
    pages = max(1, math.ceil(len(kept) / per_page))
    if page < 1 or page > pages:
        raise QueryError(f"page={page}: there are {pages} page(s)")
    start = (page - 1) * per_page
    return Listing(cls=cls, label=cat.label(cls, "en"), label_zh=cat.label(cls, "zh"),
                   rows=kept[start:start + per_page], total=len(kept), page=page,
                   pages=pages, sort=sort, order=order, q=q, type=type, status=status,
                   types=dict(type_facet.most_common()),
                   statuses=dict(status_facet.most_common()),
                   of_facts=not any(r.status for r in rows),
                   type_labels={t: (cat.label(t, "en"), cat.label(t, "zh"))
                                for t in type_facet if t})


__all__ = ["PER_PAGE", "SORTS", "Counts", "Listing", "Row", "counts", "instances"]
