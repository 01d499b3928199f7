"""What a person sees of the graph: the home page's overview, and one view per resource
(entity, statement, finding, source, ontology term) with its links grouped by property,
the evidence of each fact and the facts that name it. The HTTP service and the static
site render these dataclasses; their machine twins are the resource's RDF.

>>> temporal = "https://w3id.org/workflow-kg/resource/temporal"
>>> view = describe(graph.store, temporal)                        # doctest: +SKIP
>>> [g.property.label for g in view.outgoing][:2]                 # doctest: +SKIP
['type', 'label']
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..evidence.catalogue import Catalogue, catalogue, per_version
from ..namespaces import BASE, CITO, PROV, RDF, SRC, WF, shorten
from ..query.terms import not_found

# Properties that are the bookkeeping of a statement or a source, shown in their own
# sections rather than as links.
_EVIDENCE_PROPS = {str(WF.evidenceStatus), str(CITO.citesAsEvidence), str(CITO.disputes),
                   str(WF.evidenceNote), str(WF.planClaim), str(PROV.wasAttributedTo)}
_CLAIM_PROPS = {str(RDF.subject), str(RDF.predicate), str(RDF.object)}
# Names and definitions head the page; they are not repeated among its links.
_SHOWN_ABOVE = {"http://www.w3.org/2000/01/rdf-schema#label",
                "http://www.w3.org/2004/02/skos/core#altLabel",
                "http://www.w3.org/2004/02/skos/core#definition",
                "http://www.w3.org/2000/01/rdf-schema#comment"}
_OUT = "SELECT ?p ?o WHERE { ?e ?p ?o }"
_IN = """SELECT DISTINCT ?s ?p WHERE { ?s ?p ?e FILTER (?p NOT IN (rdf:subject, rdf:object)) }
         ORDER BY ?p ?s LIMIT 2000"""
# Evidence of every fact the resource takes part in: statements naming it as subject or
# object, with their status and sources.
_STATEMENTS = """
SELECT ?st ?s ?p ?o ?role WHERE {
  { ?st rdf:subject ?e } UNION { ?st rdf:object ?e }
  ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
  OPTIONAL { ?st wf:backendRole ?role }
}"""
# A source disputes a fact only where the data says so (cito:disputes, wf:contradictedBy);
# the other sources a Contradicted fact cites are listed as its sources, not as disputing.
_RELATION = """
  { VALUES ?rel { cito:citesAsEvidence cito:disputes } ?st ?rel ?src
    FILTER NOT EXISTS { ?st wf:contradictedBy ?src } }
  UNION { ?st wf:contradictedBy ?src BIND (cito:disputes AS ?rel) }"""
_STATEMENT_CITES = """
SELECT ?st ?rel ?src WHERE {
  { ?st rdf:subject ?e } UNION { ?st rdf:object ?e }""" + _RELATION + "}"
_CITES = "SELECT ?rel ?src WHERE {" + _RELATION.replace("?st", "?e") + "}"
_SOURCE_FIELDS = """
  VALUES ?p { wf:citationKey dcterms:title wf:sourceKind wf:authors dcterms:publisher
              wf:venue bibo:volume bibo:issue bibo:pages dcterms:issued schema:url bibo:doi
              wf:accessed }
  ?src ?p ?o ."""
# The fields of: one source; the sources of one fact; the sources of the statements that
# name a resource. One query each, however many sources.
_SOURCE = "SELECT ?src ?p ?o WHERE {" + _SOURCE_FIELDS + "}"
_FACT_SOURCES = ("SELECT DISTINCT ?src ?p ?o WHERE { ?e cito:citesAsEvidence|cito:disputes ?src ."
                 + _SOURCE_FIELDS + "}")
_STATEMENT_SOURCES = """SELECT DISTINCT ?src ?p ?o WHERE {
  ?st rdf:subject|rdf:object ?e ; cito:citesAsEvidence|cito:disputes ?src .""" \
    + _SOURCE_FIELDS + "}"
_CITED_BY = """SELECT DISTINCT ?fact ?rel WHERE {
  VALUES ?rel { cito:citesAsEvidence cito:disputes } ?fact ?rel ?src }"""
_SAME_CLAIM = """
SELECT ?st WHERE { ?st rdf:subject ?s ; rdf:predicate ?p . FILTER (?st != ?self) }"""


@dataclass(frozen=True)
class Term:
    """An IRI with its names, or a literal (iri is None) with its language or datatype."""

    value: str
    iri: str | None = None
    label: str = ""
    label_zh: str = ""
    lang: str | None = None
    datatype: str | None = None
    status: str | None = None  # of an evidenced fact

    @property
    def curie(self) -> str:
        return shorten(self.iri) if self.iri else self.value


@dataclass(frozen=True)
class SourceRecord:
    iri: str
    key: str
    title: str
    kind: Term | None
    authors: str | None
    publisher: str | None
    venue: str | None
    issued: str | None
    url: str | None
    doi: str | None
    accessed: str | None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None


@dataclass(frozen=True)
class Evidence:
    """One fact's evidence: the statement or finding, its status, and its sources,
    each marked as supporting or disputing."""

    fact: Term
    status: str | None
    supporting: tuple[SourceRecord, ...]
    disputing: tuple[SourceRecord, ...]
    note: str | None = None
    role: Term | None = None  # a qualifier that tells two facts apart (a backend's role)


@dataclass
class Value:
    term: Term
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class PropertyGroup:
    property: Term
    values: list[Value]


@dataclass
class ResourceView:
    """Everything the page of one resource shows."""

    iri: str
    label: str
    label_zh: str
    types: list[Term]
    definitions: dict[str, str]
    alt_labels: list[str]
    kind: str  # entity, statement, finding, source, term
    outgoing: list[PropertyGroup]
    incoming: list[PropertyGroup]
    facts: list[Term]  # statements, case studies and findings that name the resource
    claim: tuple[Term, Term, Term] | None = None  # a statement's subject, predicate, object
    status: str | None = None
    supporting: list[SourceRecord] = field(default_factory=list)
    disputing: list[SourceRecord] = field(default_factory=list)
    note: str | None = None
    plan_claim: str | None = None
    attributed_to: list[Term] = field(default_factory=list)
    alternatives: list[Term] = field(default_factory=list)  # other statements, same s and p
    source: SourceRecord | None = None
    cited_by: list[Term] = field(default_factory=list)
    disputed_by: list[Term] = field(default_factory=list)

    @property
    def curie(self) -> str:
        return shorten(self.iri)

    @property
    def sources(self) -> list[SourceRecord]:
        """Every source of the page's facts, once, by citation key."""
        found: dict[str, SourceRecord] = {}
        for rec in self.supporting + self.disputing:
            found.setdefault(rec.key, rec)
        for group in self.outgoing + self.incoming:
            for value in group.values:
                for ev in value.evidence:
                    for rec in ev.supporting + ev.disputing:
                        found.setdefault(rec.key, rec)
        if self.source is not None:
            found.setdefault(self.source.key, self.source)
        return sorted(found.values(), key=lambda r: r.key)


def term(cat: Catalogue, node) -> Term:
    """A pyoxigraph term as a Term named from the catalogue."""
    if isinstance(node, ox.NamedNode):
        iri = node.value
        return Term(value=iri, iri=iri, label=cat.label(iri, "en"),
                    label_zh=cat.label(iri, "zh"), status=cat.status.get(iri))
    if isinstance(node, ox.Literal):
        datatype = node.datatype.value if node.datatype else None
        return Term(value=node.value, lang=node.language, datatype=datatype)
    return Term(value=f"_:{node.value}", label="(blank node)")


def iri_term(cat: Catalogue, iri: str) -> Term:
    return term(cat, ox.NamedNode(iri))


def kind_of(cat: Catalogue, iri: str) -> str:
    if cat.is_a(iri, str(WF.Statement)):
        return "statement"
    if cat.is_a(iri, str(WF.EvidencedFact)):
        return "finding"
    if cat.is_a(iri, str(WF.Source)) or iri.startswith(str(SRC)):
        return "source"
    if iri.startswith(str(WF)):
        return "term"
    return "entity"


def describe(store, iri: str) -> ResourceView:
    """The view of one resource; ResourceNotFound (with suggestions) if the store says
    nothing about it."""
    cat = catalogue(store)
    node = ox.NamedNode(iri)
    out_rows = store.query(_OUT, bindings={"e": node}).rows()
    if not out_rows and not cat.known(iri):
        raise not_found(store, iri)
    kind = kind_of(cat, iri)
    view = ResourceView(
        iri=iri, label=cat.label(iri, "en"), label_zh=cat.label(iri, "zh"),
        types=[iri_term(cat, t) for t in cat.types.get(iri, [])],
        definitions=dict(cat.definitions.get(iri, {})),
        alt_labels=list(cat.alt_labels.get(iri, [])), kind=kind,
        outgoing=[], incoming=[], facts=[], status=cat.status.get(iri))

    evidence = _evidence_by_triple(store, cat, node)
    skip = {str(RDF.type), *_SHOWN_ABOVE} | (_EVIDENCE_PROPS | _CLAIM_PROPS
                              if kind in ("statement", "finding") else set())
    groups: dict[str, list[Value]] = defaultdict(list)
    for row in out_rows:
        p, o = row["p"].value, row["o"]
        if p in skip or (kind == "source" and p in _SOURCE_PROPS):
            continue
        groups[p].append(Value(term(cat, o), evidence.get((iri, p, o.value), [])))
    view.outgoing = _sorted_groups(cat, groups)

    incoming: dict[str, list[Value]] = defaultdict(list)
    facts: dict[str, Term] = {}
    for row in store.query(_IN, bindings={"e": node}).rows():
        s, p = row["s"], row["p"].value
        if not isinstance(s, ox.NamedNode):
            continue
        if p in _EVIDENCE_PROPS:
            continue
        if cat.is_a(s.value, str(WF.EvidencedFact)):
            facts.setdefault(s.value, term(cat, s))
            continue
        incoming[p].append(Value(term(cat, s), evidence.get((s.value, p, iri), [])))
    for found in evidence.values():  # the statements naming it, read once above
        for ev in found:
            facts.setdefault(ev.fact.iri, ev.fact)
    view.incoming = _sorted_groups(cat, incoming)
    order = {"verified": 0, "unverified": 1, "contradicted": 2}
    view.facts = sorted(facts.values(), key=lambda t: (order.get(t.status or "", 3), t.label))

    if kind in ("statement", "finding"):
        _fill_evidence(store, cat, view)
    if kind == "source":
        records = _sources(store, cat, _SOURCE, {"src": node})
        view.source = records.get(iri)
        if view.source is not None and view.label == shorten(iri):
            view.label = view.label_zh = view.source.title  # a source is named by its title
        for row in store.query(_CITED_BY, bindings={"src": node}).rows():
            target = view.disputed_by if row["rel"].value == str(CITO.disputes) \
                else view.cited_by
            target.append(term(cat, row["fact"]))
    return view


_SOURCE_PROPS = {str(WF.citationKey), "http://purl.org/dc/terms/title", str(WF.sourceKind),
                 str(WF.authors), "http://purl.org/dc/terms/publisher", str(WF.venue),
                 "http://purl.org/dc/terms/issued", "https://schema.org/url",
                 "http://purl.org/ontology/bibo/doi", str(WF.accessed),
                 "http://purl.org/ontology/bibo/volume", "http://purl.org/ontology/bibo/issue",
                 "http://purl.org/ontology/bibo/pages"}


def _sorted_groups(cat: Catalogue, groups: dict[str, list[Value]]) -> list[PropertyGroup]:
    out = []
    for p, values in groups.items():
        values.sort(key=lambda v: (v.term.iri is None, (v.term.label or v.term.value).casefold()))
        out.append(PropertyGroup(iri_term(cat, p), values))
    first = ["http://www.w3.org/2000/01/rdf-schema#label"]
    out.sort(key=lambda g: (g.property.iri not in first, g.property.label.casefold()))
    return out


def _evidence_by_triple(store, cat: Catalogue, node: ox.NamedNode
                        ) -> dict[tuple[str, str, str], list[Evidence]]:
    """Evidence of each (s, p, o) the resource takes part in, from the statements."""
    rows = store.query(_STATEMENTS, bindings={"e": node}).rows()
    if not rows:
        return {}
    cites = _citations(store.query(_STATEMENT_CITES, bindings={"e": node}).rows())
    records = _sources(store, cat, _STATEMENT_SOURCES, {"e": node})
    out: dict[tuple[str, str, str], list[Evidence]] = defaultdict(list)
    for r in rows:
        st = r["st"].value
        pairs = cites.get(st, [])
        out[(r["s"].value, r["p"].value, r["o"].value)].append(Evidence(
            fact=iri_term(cat, st), status=cat.status.get(st),
            role=term(cat, r["role"]) if "role" in r else None,
            supporting=tuple(records[s] for rel, s in pairs if rel == "supports" and s in records),
            disputing=tuple(records[s] for rel, s in pairs if rel == "disputes" and s in records)))
    return out


def _citations(rows) -> dict[str, list[tuple[str, str]]]:
    """fact -> [(supports|disputes, source iri)] from rows of ?st ?rel ?src."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        rel = "disputes" if row["rel"].value == str(CITO.disputes) else "supports"
        out[row["st"].value].append((rel, row["src"].value))
    return out


def _sources(store, cat: Catalogue, query: str, bindings: dict) -> dict[str, SourceRecord]:
    """The bibliographic records that a (?src ?p ?o) query over _SOURCE_FIELDS finds."""
    fields: dict[str, dict[str, str]] = defaultdict(dict)
    kinds: dict[str, Term] = {}
    for row in store.query(query, bindings=bindings).rows():
        src = row["src"].value
        p = row["p"].value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        if p == "sourceKind":
            kinds.setdefault(src, term(cat, row["o"]))
        else:
            fields[src].setdefault(p, row["o"].value)
    out = {}
    for iri in sorted(set(fields) | set(kinds)):
        f = fields[iri]
        out[iri] = SourceRecord(
            iri=iri, key=f.get("citationKey", shorten(iri)), title=f.get("title", cat.label(iri)),
            kind=kinds.get(iri), authors=f.get("authors"), publisher=f.get("publisher"),
            venue=f.get("venue"), issued=f.get("issued"), url=f.get("url"), doi=f.get("doi"),
            accessed=f.get("accessed"), volume=f.get("volume"), issue=f.get("issue"),
            pages=f.get("pages"))
    return out


def _fill_evidence(store, cat: Catalogue, view: ResourceView) -> None:
    node = ox.NamedNode(view.iri)
    cites = [("disputes" if r["rel"].value == str(CITO.disputes) else "supports",
              r["src"].value) for r in store.query(_CITES, bindings={"e": node}).rows()]
    records = _sources(store, cat, _FACT_SOURCES, {"e": node})
    view.supporting = [records[s] for rel, s in cites if rel == "supports" and s in records]
    view.disputing = [records[s] for rel, s in cites if rel == "disputes" and s in records]
    for row in store.query(_OUT, bindings={"e": node}).rows():
        p, o = row["p"].value, row["o"]
        if p == str(WF.evidenceNote):
            view.note = o.value
        elif p == str(WF.planClaim):
            view.plan_claim = o.value
        elif p == str(PROV.wasAttributedTo):
            view.attributed_to.append(term(cat, o))
    claim = cat.claims.get(view.iri)
    if claim is not None:
        obj = iri_term(cat, claim.object) if claim.object_is_iri else Term(value=claim.object)
        view.claim = (iri_term(cat, claim.subject), iri_term(cat, claim.predicate), obj)
        rows = store.query(_SAME_CLAIM, bindings={
            "s": ox.NamedNode(claim.subject), "p": ox.NamedNode(claim.predicate),
            "self": node}).rows()
        view.alternatives = sorted((term(cat, r["st"]) for r in rows),
                                   key=lambda t: (t.status != "verified", t.label))


def is_local(iri: str) -> bool:
    """True for IRIs this dataset names (they have pages)."""
    return iri.startswith(BASE)




# ---------------------------------------------------------------- tables and overview

@dataclass
class Table:
    """A query answer for a page: column names and rows of Terms (None when unbound);
    `keys` maps the citation keys of the graph's sources to their IRIs (a cell's text
    that names one links to it), `facts` gives each row the statements behind it."""

    columns: list[str]
    rows: list[list[Term | None]]
    boolean: bool | None = None
    keys: dict[str, str] = field(default_factory=dict)
    facts: list[list[Term]] = field(default_factory=list)

    @property
    def has_facts(self) -> bool:
        return any(self.facts)


def result_table(store, result) -> Table:
    """A SELECT or ASK answer (kg.query.results.QueryResult) with every IRI named, and
    each row's statements: those whose subject and object are IRIs of the row (a row
    that already names a statement or finding links it itself)."""
    from .search import source_names

    cat = catalogue(store)
    if result.kind == "ask":
        return Table(columns=[], rows=[], boolean=result.boolean)
    if result.kind == "graph":
        rows = [[term(cat, t.subject), term(cat, t.predicate), term(cat, t.object)]
                for t in result.triples()]
        return Table(columns=["subject", "predicate", "object"], rows=rows)
    columns = result.variables
    rows = [[term(cat, r[c]) if c in r else None for c in columns] for r in result.rows()]
    keys = {key: iri for iri, (key, _, _) in source_names(store).items() if key}
    claims = _claims_by_ends(store)
    facts = []
    for row in rows:
        iris = [c.iri for c in row if c is not None and c.iri]
        if any(cat.is_a(i, str(WF.EvidencedFact)) for i in iris):
            facts.append([])
            continue
        found = dict.fromkeys(st for a in iris for b in iris if a != b
                              for st in claims.get((a, b), ()))
        facts.append([iri_term(cat, st) for st in found])
    return Table(columns=columns, rows=rows, keys=keys, facts=facts)


def _claims_by_ends(store) -> dict[tuple[str, str], list[str]]:
    """(subject, object) -> the statements claiming a link between them."""
    def index() -> dict[tuple[str, str], list[str]]:
        out: dict[tuple[str, str], list[str]] = defaultdict(list)
        for st, claim in sorted(catalogue(store).claims.items()):
            if claim.object_is_iri:
                out[(claim.subject, claim.object)].append(st)
        return dict(out)
    return per_version(store, "claims-by-ends", index)


def editor_text(named, resolve) -> str:
    """A named query as the query editor shows it: the parameters of its first example
    bound by a VALUES block at the top of its WHERE group (kg.query.queries.with_values),
    so that the example answers as `kg query NAME --param ...` does; without them a
    parameter is unbound and matches everything (every source, every pair of entities).
    The text alone when the graph does not have the example's resources."""
    from ..errors import QueryError
    from ..query.queries import with_values

    params = example_params(named.examples[0]) if named.examples else {}
    try:
        return with_values(named.text, named.bindings(params, resolve)) if params else named.text
    except QueryError:
        return named.text


def example_params(example: str) -> dict[str, str]:
    """The `--param k=v` pairs of a query header's example command line."""
    import shlex

    words = shlex.split(example)
    params = {}
    for flag, value in zip(words, words[1:], strict=False):
        if flag in ("--param", "-p") and "=" in value:
            key, _, val = value.partition("=")
            params[key] = val
    return params


@dataclass
class Overview:
    """What the home page says about the dataset."""

    title: str
    version: str | None
    built_at: str | None
    triples: int | None
    input_hash: str | None
    classes: list[tuple[Term, int]]  # our classes with their instance counts
    queries: list  # kg.query.queries.NamedQuery
    indicators: Table | None


_META = """
SELECT ?p ?o WHERE {
  GRAPH ?meta { ?d a void:Dataset ; ?p ?o FILTER NOT EXISTS { ?x void:subset ?d } }
}"""
_CLASS_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  ?s a ?class FILTER (STRSTARTS(STR(?class), STR(wf:)))
} GROUP BY ?class ORDER BY DESC(?n) ?class"""


def overview(graph, *, indicators: str = "success-indicators") -> Overview:
    """The dataset's title, version, build date, counts per class, named queries and the
    plan's success indicators (the named query `indicators`, if the project has it);
    computed once per store version."""
    return per_version(graph.store, f"overview|{indicators}",
                       lambda: _overview(graph, indicators))


def _overview(graph, indicators: str) -> Overview:
    from ..namespaces import META_GRAPH

    store = graph.store
    cat = catalogue(store)
    meta: dict[str, str] = {}
    for row in store.query(_META, bindings={"meta": ox.NamedNode(str(META_GRAPH))},
                           default_graph=[]).rows():
        meta.setdefault(row["p"].value.rsplit("/", 1)[-1].rsplit("#", 1)[-1], row["o"].value)
    classes = [(iri_term(cat, r["class"].value), int(r["n"].value))
               for r in store.query(_CLASS_COUNTS).rows()]
    table = None
    if any(q.name == indicators for q in graph.queries):
        table = result_table(store, graph.query(indicators))
    triples = meta.get("triples")
    return Overview(title="Workflow KG", version=meta.get("hasVersion"),
                    built_at=meta.get("created"), triples=int(triples) if triples else None,
                    input_hash=meta.get("identifier"), classes=classes,
                    queries=list(graph.queries), indicators=table)




_DESCRIBE = """
CONSTRUCT { ?e ?p ?o . ?s ?q ?e } WHERE { { ?e ?p ?o } UNION { ?s ?q ?e } }"""


def resource_rdf(store, iri: str):
    """The resource's triples, outgoing and incoming (a kg.query.results.QueryResult), for its
    machine-readable twin; ResourceNotFound if there are none."""
    result = store.query(_DESCRIBE, bindings={"e": ox.NamedNode(iri)})
    if not result.triples():
        raise not_found(store, iri)
    return result




def citation_count(store, iri: str) -> int:
    """How many entries "cite this" gives for a resource (kg.paper.cite.entries_for)."""
    from ..paper.cite import entries_for

    return len(entries_for(store, [iri]))


def citations(store, iri: str) -> tuple[str, str]:
    """BibTeX and CSL-JSON of the sources behind a resource (kg.paper.cite.entries_for: those of
    every fact that names it, each marked supporting or disputing); "" when none."""
    from ..paper.cite import entries_for, render

    entries = entries_for(store, [iri])
    if not entries:
        return "", ""
    return render(entries, "biblatex"), render(entries, "csl-json")


__all__ = ["Evidence", "Overview", "PropertyGroup", "ResourceView", "SourceRecord", "Table",
           "Term", "Value", "citation_count", "citations", "describe", "editor_text",
           "example_params",
           "iri_term", "is_local", "kind_of", "overview", "resource_rdf", "result_table", "term"]
