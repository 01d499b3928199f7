"""The catalogue of a store: every resource's labels (English and Chinese), alternative
labels, definitions, most specific classes and evidence status, read once per store
version. Pages use it to name things; search ranks over it.

A store only changes at a build or an authorised update, and either publishes a new
store, so a catalogue is cached per store version and never goes stale.

>>> from kg import KnowledgeGraph
>>> cat = catalogue(KnowledgeGraph().store)                         # doctest: +SKIP
>>> cat.label("https://w3id.org/workflow-kg/resource/temporal")     # doctest: +SKIP
'Temporal'
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..errors import QueryError
from ..namespaces import BASE, WF, shorten
from ..query.queries import values_block
from ..query.versions import per_version, version_key

_LABELS = """SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER (isIRI(?s)) }"""
_ALT = """SELECT ?s ?l WHERE { ?s skos:altLabel ?l FILTER (isIRI(?s)) }"""
_DEFINITIONS = """SELECT ?s ?l WHERE { ?s skos:definition|rdfs:comment ?l FILTER (isIRI(?s)) }"""
_TYPES = """SELECT ?s ?t WHERE { ?s a ?t FILTER (isIRI(?s) && isIRI(?t)) }"""
_SUBCLASSES = """
SELECT ?c ?d WHERE { ?c rdfs:subClassOf ?d FILTER (isIRI(?c) && isIRI(?d) && ?c != ?d) }"""
_STATUS = """SELECT ?s ?st WHERE { ?s wf:evidenceStatus ?st FILTER (isIRI(?s)) }"""
_CLAIMS = """
SELECT ?st ?s ?p ?o WHERE {
  ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o . FILTER (isIRI(?st))
}"""
LANGUAGES = ("en", "zh")
# Names for the standard vocabulary's terms that pages show and the ontology does not label.
_STANDARD = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": ("type", "类型"),
    "http://www.w3.org/2000/01/rdf-schema#subClassOf": ("subclass of", "子类于"),
    "http://www.w3.org/2000/01/rdf-schema#subPropertyOf": ("subproperty of", "子属性于"),
    "http://www.w3.org/2000/01/rdf-schema#domain": ("domain", "定义域"),
    "http://www.w3.org/2000/01/rdf-schema#range": ("range", "值域"),
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": ("see also", "参见"),
    "http://www.w3.org/2000/01/rdf-schema#label": ("label", "标签"),
    "http://www.w3.org/2002/07/owl#disjointWith": ("disjoint with", "不相交于"),
    "http://www.w3.org/2002/07/owl#inverseOf": ("inverse of", "逆属性"),
    "http://www.w3.org/2004/02/skos/core#inScheme": ("in scheme", "所属方案"),
    "http://www.w3.org/2004/02/skos/core#broader": ("broader", "上位概念"),
}
STATUSES = {str(WF.Verified): "verified", str(WF.Unverified): "unverified",
            str(WF.Contradicted): "contradicted"}


@dataclass(frozen=True)
class Claim:
    """A statement's subject, predicate and object (IRIs, or a literal's text)."""

    subject: str
    predicate: str
    object: str
    object_is_iri: bool


@dataclass
class Catalogue:
    """Names, classes and statuses of every IRI-named resource of one store version."""

    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # iri -> lang -> label
    alt_labels: dict[str, list[str]] = field(default_factory=dict)
    definitions: dict[str, dict[str, str]] = field(default_factory=dict)
    types: dict[str, list[str]] = field(default_factory=dict)  # most specific first
    status: dict[str, str] = field(default_factory=dict)  # iri -> verified|unverified|...
    claims: dict[str, Claim] = field(default_factory=dict)  # statement iri -> claim
    superclasses: dict[str, set[str]] = field(default_factory=dict)

    def label(self, iri: str, lang: str = "en") -> str:
        """A human name: the label in `lang`, else English, else any, else the claim a
        statement states in words, else the short IRI."""
        found = self.labels.get(iri, {})
        if lang in found:
            return found[lang]
        if "en" in found:
            return found["en"]
        if found:
            return next(iter(found.values()))
        if iri in _STANDARD:
            return _STANDARD[iri][1 if lang == "zh" else 0]
        claim = self.claims.get(iri)
        if claim is not None:
            obj = self.label(claim.object, lang) if claim.object_is_iri else claim.object
            return (f"{self.label(claim.subject, lang)} — {self.label(claim.predicate, lang)}"
                    f" — {obj}")
        return shorten(iri)

    def known(self, iri: str) -> bool:
        return iri in self.types or iri in self.labels or iri in self.claims

    def main_type(self, iri: str) -> str | None:
        """The most specific class of the resource (ours first), or None."""
        types = self.types.get(iri)
        return types[0] if types else None

    def is_a(self, iri: str, cls: str) -> bool:
        return any(t == cls or cls in self.superclasses.get(t, ()) for t in
                   self.types.get(iri, ()))

    def classes(self) -> set[str]:
        """The classes the graph knows: those with a superclass and those of a resource."""
        return set(self.superclasses) | {t for ts in self.types.values() for t in ts}

    def close_classes(self, cls: str) -> list[str]:
        """Our classes whose local names resemble `cls`'s, closest first (up to five)."""
        local = cls.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        names = {c.rsplit("#", 1)[-1]: c for c in sorted(self.classes()) if c.startswith(str(WF))}
        return [names[n] for n in difflib.get_close_matches(local, list(names), n=5)]

    def check_class(self, cls: str, what: str) -> None:
        """QueryError naming `cls`, for `what` (e.g. "for the graph filter"), and the
        closest classes, if the graph has no such class: a filter by it would match
        nothing, and its empty answer would look like a true one."""
        if cls in self.classes():
            return
        close = self.close_classes(cls)
        hint = f"; did you mean {', '.join(shorten(c) for c in close)}?" if close else ""
        raise QueryError(f"unknown class {shorten(cls)} {what}{hint}")


def _rows(store, query: str):
    """Tuples of terms in the query's projection order: the embedded store's fast path,
    else through the store's ordinary query answer (a remote store)."""
    if hasattr(store, "solutions"):
        yield from store.solutions(query)
        return
    result = store.query(query)
    names = result.variables
    for row in result.rows():
        yield tuple(row.get(name) for name in names)


def build_catalogue(store) -> Catalogue:
    """Read the catalogue of a store (embedded or remote) with a handful of queries."""
    cat = Catalogue(labels=_by_language(store, _LABELS),
                    definitions=_by_language(store, _DEFINITIONS))
    alts: dict[str, list[str]] = defaultdict(list)
    for s, label in _rows(store, _ALT):
        alts[s.value].append(label.value)
    cat.alt_labels = dict(alts)
    supers: dict[str, set[str]] = defaultdict(set)
    for c, d in _rows(store, _SUBCLASSES):
        supers[c.value].add(d.value)
    cat.superclasses = dict(supers)
    raw: dict[str, set[str]] = defaultdict(set)
    for s, t in _rows(store, _TYPES):
        raw[s.value].add(t.value)
    cat.types = {iri: _most_specific(types, supers) for iri, types in raw.items()}
    for s, st in _rows(store, _STATUS):
        cat.status[s.value] = STATUSES.get(st.value, shorten(st.value))
    for st, s, p, o in _rows(store, _CLAIMS):
        cat.claims[st.value] = Claim(s.value, p.value, o.value,
                                     object_is_iri=isinstance(o, ox.NamedNode))
    return cat


def _by_language(store, query: str) -> dict[str, dict[str, str]]:
    """iri -> language (en, zh, ...) -> the first text of a (?s, ?l) query; untagged
    text counts as English."""
    out: dict[str, dict[str, str]] = {}
    for s, text in _rows(store, query):
        lang = getattr(text, "language", None) or "en"
        lang = "zh" if lang.startswith("zh") else lang
        out.setdefault(s.value, {}).setdefault(lang, text.value)
    return out


def _most_specific(types: set[str], supers: dict[str, set[str]]) -> list[str]:
    """Drop every type that is a superclass of another; ours (wf:) first, then by name."""
    kept = [t for t in types if not any(t in supers.get(o, ()) for o in types if o != t)]
    return sorted(kept, key=lambda t: (not t.startswith(BASE), t))




def catalogue(store) -> Catalogue:
    """The catalogue of this store version, read on first use and then cached."""
    return per_version(store, "catalogue", lambda: build_catalogue(store))




_LABELS_OF = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT ?iri ?label WHERE {
  VALUES ?iri { %s }
  { ?iri rdfs:label ?label FILTER (LANG(?label) IN ("en", "")) }
  UNION {
    ?iri rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
    OPTIONAL { ?s rdfs:label ?sl FILTER (LANG(?sl) = "en") }
    OPTIONAL { ?p rdfs:label ?pl FILTER (LANG(?pl) IN ("en", "")) }
    OPTIONAL { ?o rdfs:label ?ol FILTER (LANG(?ol) = "en") }
    OPTIONAL { ?iri <https://w3id.org/workflow-kg/ontology#backendRole>/rdfs:label ?role
               FILTER (LANG(?role) = "en") }
    BIND (CONCAT(COALESCE(?sl, STR(?s)), " ", COALESCE(?pl, STR(?p)), " ",
                 COALESCE(?ol, STR(?o)), COALESCE(CONCAT(" (", ?role, ")"), "")) AS ?label)
  }
}"""


def labels(store, iris: set[str]) -> dict[str, str]:
    """English labels of IRIs (statements: 'subject predicate object', with the
    backend's role when the statement names one: 'Temporal supports backend SQLite
    (visibility)')."""
    if not iris:
        return {}
    out: dict[str, str] = {}
    query = _LABELS_OF % values_block(ox.NamedNode(i) for i in sorted(iris))
    for row in store.query(query).rows():
        out.setdefault(row["iri"].value, row["label"].value)
    return out


__all__ = ["LANGUAGES", "labels", "STATUSES", "Catalogue", "Claim", "build_catalogue", "catalogue",
           "per_version", "version_key"]
