"""What an update changes beyond the triples it writes, computed from the change alone
when the change allows, else over the whole dataset (the same result either way;
tests/test_update_incremental.py checks it on random updates):

- **derived triples**: the plain triple of each statement that an update adds, removes or
  re-grades is re-derived into `graph/derived/verified` or `graph/derived/unverified`
  exactly as `kg build` derives it (kg.pipeline.evidence);
- **inferences**: OWL 2 RL consequences are recomputed for the nodes the change touches
  when every rule that can fire on them is one of the RDFS-like rules of a *simple*
  vocabulary: sub-class, sub-property, domain, range, symmetric properties, functional
  properties with one value (see `Schema`). A node whose stored inferences these rules
  do not explain exactly, or any change to the ontology or shapes, takes the full path
  (`rebuild`: the whole closure by kg.pipeline.reason, as `kg build` computes it);
- **validation**: the shapes, compiled to SPARQL once, are checked on the touched nodes
  and the nodes that link to them, in the store itself (`validate_touched`).

Graph roles: the *schema* graphs are those of the ontology files and the shapes; the
*system* graphs (derived, inferred, build metadata, history) are written only by this
pipeline; every other graph (a data file's, the default graph, graphs written by
updates) is a data graph."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import Graph

from ..namespaces import GRAPH, HISTORY_GRAPH, INFERRED_GRAPH, META_GRAPH, WF
from . import evidence
from .project import Project
from .shapes import FocusChecks, ValidationReport, runner, validate_store
from .store import term_from_rdflib, term_to_rdflib

SMALL = 500  # triples changed (added plus removed) above which the full path is taken
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
SKOS_NS = "http://www.w3.org/2004/02/skos/core#"
TYPE = ox.NamedNode(RDF_NS + "type")
SAME_AS = ox.NamedNode(OWL_NS + "sameAs")
DESCRIPTIVE = {RDFS_NS + "label", RDFS_NS + "comment", RDFS_NS + "isDefinedBy",
               RDFS_NS + "seeAlso"} | {SKOS_NS + n for n in (
                   "prefLabel", "altLabel", "definition", "note", "scopeNote", "example",
                   "editorialNote", "changeNote", "historyNote")}
DECLARATIONS = {OWL_NS + "ObjectProperty", OWL_NS + "DatatypeProperty",
                OWL_NS + "AnnotationProperty", RDF_NS + "Property"}
FUNCTIONAL, SYMMETRIC = OWL_NS + "FunctionalProperty", OWL_NS + "SymmetricProperty"
CLASSES = {OWL_NS + "Class", RDFS_NS + "Class"}
DOMAIN, RANGE = RDFS_NS + "domain", RDFS_NS + "range"
SUBCLASS, SUBPROPERTY = RDFS_NS + "subClassOf", RDFS_NS + "subPropertyOf"
DISJOINT = OWL_NS + "disjointWith"
STATEMENT_PARTS = (RDF_NS + "subject", RDF_NS + "predicate", RDF_NS + "object")

VERIFIED = ox.NamedNode(str(evidence.VERIFIED_GRAPH))
UNVERIFIED = ox.NamedNode(str(evidence.UNVERIFIED_GRAPH))
INFERRED = ox.NamedNode(str(INFERRED_GRAPH))
UNVERIFIED_INFERRED = ox.NamedNode(str(evidence.UNVERIFIED_INFERRED_GRAPH))
DERIVED = (VERIFIED, UNVERIFIED)
INFERENCES = (INFERRED, UNVERIFIED_INFERRED)
SYSTEM = frozenset(g.value for g in (*DERIVED, *INFERENCES)) | {str(META_GRAPH),
                                                                  str(HISTORY_GRAPH)}
STATEMENT_CLASS = ox.NamedNode(str(WF.Statement))
STATUS = ox.NamedNode(str(WF.evidenceStatus))
VERIFIED_STATUS, CONTRADICTED = ox.NamedNode(str(WF.Verified)), ox.NamedNode(str(WF.Contradicted))


def schema_graphs(project: Project) -> set[str]:
    """The named graphs of the ontology files and the shapes."""
    return {str(GRAPH[project.relative(p)])
            for p in project.ontology_files() + [project.shapes_file]}


def shapes_graph(project: Project) -> str:
    return str(GRAPH[project.relative(project.shapes_file)])


def not_asserted(project: Project) -> set[str]:
    """Graphs whose triples are not asserted: the system's and the shapes (the local
    rules read every other graph)."""
    return SYSTEM | {shapes_graph(project)}


def system_graph(name: str) -> bool:
    """Whether a graph is the system's: derived, inferred, metadata or history (also any
    graph below `graph/derived/` or `graph/inferred`, which only the pipeline names)."""
    return name in SYSTEM or name.startswith((str(GRAPH["derived/"]), str(GRAPH["inferred"])))


def _named(quad: ox.Quad) -> str | None:
    return quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else None


@dataclass
class Delta:
    """The net change of a write: quads added and removed (each at most once)."""

    added: set[ox.Quad] = field(default_factory=set)
    removed: set[ox.Quad] = field(default_factory=set)

    def add(self, quad: ox.Quad) -> None:
        if quad in self.removed:
            self.removed.discard(quad)
        else:
            self.added.add(quad)

    def remove(self, quad: ox.Quad) -> None:
        if quad in self.added:
            self.added.discard(quad)
        else:
            self.removed.add(quad)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)

    @property
    def changed(self) -> set[ox.Quad]:
        return self.added | self.removed

    def graphs(self) -> set[str | None]:
        return {_named(q) for q in self.changed}


def apply_delta(store: ox.Store, delta: Delta) -> None:
    for quad in delta.removed:
        store.remove(quad)
    store.extend(delta.added)


class View:
    """Reads of one store restricted to some graphs (the union of the others is skipped)."""

    def __init__(self, store: ox.Store, skip: Iterable[str]):
        self.store = store
        self.skip = frozenset(skip)

    def quads(self, s=None, p=None, o=None) -> Iterator[ox.Quad]:
        for quad in self.store.quads_for_pattern(s, p, o, None):
            if _named(quad) not in self.skip:
                yield quad

    def triples(self, s=None, p=None, o=None) -> set[ox.Triple]:
        return {q.triple for q in self.quads(s, p, o)}

    def has(self, s=None, p=None, o=None) -> bool:
        return next(self.quads(s, p, o), None) is not None


# ------------------------------------------------------------------ derived triples
def statements_touched(before: ox.Store, after: ox.Store, delta: Delta) -> set:
    """Statement nodes whose derived triple may change: subjects of changed triples that
    are (before or after) typed wf:Statement."""
    subjects = {q.subject for q in delta.changed}
    return {s for s in subjects
            if any(next(iter(st.quads_for_pattern(s, TYPE, STATEMENT_CLASS, None)), None)
                   for st in (before, after))}


def _least(view: View, node, prop: ox.NamedNode):
    """The least value of `prop` of `node` (as evidence._least picks it)."""
    return min((q.object for q in view.quads(node, prop, None)), key=lambda t: t.value,
               default=None)


def _stated(view: View, node) -> ox.Triple | None:
    """The triple a statement node states, as kg.evidence reads it: one value of each
    part, the least where a statement (refused by the shapes) has several, so that every
    copy of a store derives the same."""
    parts = [_least(view, node, ox.NamedNode(p)) for p in STATEMENT_PARTS]
    s, p, o = parts
    if s is None or not isinstance(p, ox.NamedNode) or o is None or isinstance(s, ox.Literal):
        return None
    return ox.Triple(s, p, o)


def derive_delta(before: ox.Store, after: ox.Store, delta: Delta, data_skip: set[str]
                 ) -> Delta:
    """The change of the derived graphs that the data change `delta` implies, read from
    the data graphs (all but `data_skip`) of `before` and `after`."""
    old, new = View(before, data_skip), View(after, data_skip)
    triples = set()
    for node in statements_touched(before, after, delta):
        triples |= {t for t in (_stated(old, node), _stated(new, node)) if t is not None}
    out = Delta()
    for triple in triples:
        verified = unverified = False
        for quad in new.quads(None, ox.NamedNode(STATEMENT_PARTS[0]), triple.subject):
            node = quad.subject
            if not new.has(node, TYPE, STATEMENT_CLASS) or _stated(new, node) != triple:
                continue
            status = _least(new, node, STATUS)
            if status == VERIFIED_STATUS:
                verified = True
            elif status != CONTRADICTED:
                unverified = True
        want = {VERIFIED: verified, UNVERIFIED: unverified and not verified}
        for graph, keep in want.items():
            quad = ox.Quad(triple.subject, triple.predicate, triple.object, graph)
            if keep and quad not in after:
                out.add(quad)
            elif not keep and quad in after:
                out.remove(quad)
    return out


# ------------------------------------------------------------------ inferences
class Vocabulary:
    """The tables the local rules read: sub-class and sub-property edges, domains,
    ranges, functional and symmetric properties, as one store's graphs (a View) hold
    them. Reading them takes a scan of those predicates (about 6 ms at 100k triples), so
    a change that cannot alter them keeps them (`after`)."""

    def __init__(self, view: View):
        self.sub: dict = {}
        self.subp: dict = {}
        self.domains: dict[ox.NamedNode, set] = {}
        self.ranges: dict[ox.NamedNode, set] = {}
        self.functional: set = set()
        self.symmetric: set = set()
        for prop, into in ((SUBCLASS, self.sub), (SUBPROPERTY, self.subp),
                           (DOMAIN, self.domains), (RANGE, self.ranges)):
            for quad in view.quads(None, ox.NamedNode(prop), None):
                into.setdefault(quad.subject, set()).add(quad.object)
        for kind, into in ((FUNCTIONAL, self.functional), (SYMMETRIC, self.symmetric)):
            into |= {q.subject for q in view.quads(None, TYPE, ox.NamedNode(kind))}

    @classmethod
    def of(cls, store: ox.Store, project: Project) -> Vocabulary:
        """The tables of a store's asserted graphs (all but not_asserted)."""
        return cls(View(store, not_asserted(project)))

    def after(self, view: View, changed: Iterable[ox.Quad]) -> Vocabulary:
        """The tables of `view` once `changed` is applied to it: these same tables unless
        the change types something with a term of RDF, RDFS or OWL (say, a property
        made functional). Every other change that could alter them (a sub-class,
        domain... triple, a schema graph) takes the full path (infer_delta)."""
        if any(q.predicate == TYPE and q.object.value.startswith((RDF_NS, RDFS_NS, OWL_NS))
               for q in changed if _named(q) not in view.skip):
            return Vocabulary(view)
        return self


class Schema:
    """The vocabulary as the local rules see it: class and property hierarchies, domains
    and ranges (a Vocabulary), and which classes and properties are *simple* (no axiom
    that an OWL 2 RL rule beyond sub-class, sub-property, domain, range, symmetry and
    functionality reads, and not named by a restriction, a list, an inverse, an
    equivalence...), asked lazily of the store `view` reads."""

    def __init__(self, view: View, memo: dict | None, tables: Vocabulary):
        self.superclasses: dict[ox.NamedNode, set] = {}
        self.superproperties: dict[ox.NamedNode, set] = {}
        self.domains, self.ranges = tables.domains, tables.ranges
        self.functional, self.symmetric = tables.functional, tables.symmetric
        self.view = view
        self._sub, self._subp = tables.sub, tables.subp
        self._simple: dict = {} if memo is None else memo

    @staticmethod
    def _closure(start, edges: dict) -> set:
        seen, todo = {start}, [start]
        while todo:
            for up in edges.get(todo.pop(), ()):
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        return seen

    def supers(self, cls) -> set:
        if cls not in self.superclasses:
            self.superclasses[cls] = self._closure(cls, self._sub)
        return self.superclasses[cls]

    def superprops(self, prop) -> set:
        if prop not in self.superproperties:
            self.superproperties[prop] = self._closure(prop, self._subp)
        return self.superproperties[prop]

    def _vocabulary(self, predicate: str) -> bool:
        return predicate.startswith((RDF_NS, RDFS_NS, OWL_NS))

    def simple_property(self, prop) -> bool:
        """Whether `prop` and every super-property are simple properties."""
        return all(self._simple_term(p, "property") for p in self.superprops(prop))

    def simple_class(self, cls) -> bool:
        return all(self._simple_term(c, "class") for c in self.supers(cls))

    def _simple_term(self, term, kind: str) -> bool:
        key = (term, kind)
        if key not in self._simple:
            self._simple[key] = isinstance(term, ox.NamedNode) and self._check(term, kind)
        return self._simple[key]

    def _check(self, term: ox.NamedNode, kind: str) -> bool:
        if kind == "property":
            allowed_types = DECLARATIONS | {FUNCTIONAL, SYMMETRIC}
            allowed = {DOMAIN, RANGE, SUBPROPERTY}
            as_object = {RDF_NS + "predicate", SUBPROPERTY}
        else:
            allowed_types = CLASSES
            allowed = {SUBCLASS, DISJOINT}
            as_object = {RDF_NS + "type", SUBCLASS, DOMAIN, RANGE, DISJOINT}
        for quad in self.view.quads(term, None, None):
            p = quad.predicate.value
            if not self._vocabulary(p) or p in DESCRIPTIVE:
                continue
            if p == TYPE.value:
                if quad.object.value not in allowed_types:
                    return False
            elif p not in allowed or not isinstance(quad.object, ox.NamedNode):
                return False
        # named by another vocabulary axiom (a restriction, a list, an inverse...)? Asked
        # of the store, not read in Python: a class is the object of all its instances
        allowed_objects = ", ".join(f"<{p}>" for p in sorted(as_object))
        skipped = ", ".join(f"<{g}>" for g in sorted(self.view.skip)) or "<urn:x-kg:none>"
        named = ("ASK { { GRAPH ?g { ?s ?p $term } FILTER (?g NOT IN (" + skipped + ")) } "
                 "UNION { ?s ?p $term } "
                 f"FILTER ((STRSTARTS(STR(?p), '{RDF_NS}') || STRSTARTS(STR(?p), '{RDFS_NS}') "
                 f"|| STRSTARTS(STR(?p), '{OWL_NS}')) && ?p NOT IN ({allowed_objects})) }}")
        return not self.view.store.query(named, substitutions={ox.Variable("term"): term})


def _interesting(triple: ox.Triple) -> bool:
    from .reason import _interesting as keep

    return keep(*(term_to_rdflib(t) for t in triple))


def local_closure(schema: Schema, node, triples: set[ox.Triple]) -> set[ox.Triple] | None:
    """The consequences with subject `node` of `triples` (every asserted triple that names
    `node`) under the local rules, or None when another rule could fire on them."""
    facts = set(triples)
    todo = list(triples)
    while todo:
        t = todo.pop()
        s, p, o = t.subject, t.predicate, t.object
        new: list[ox.Triple] = []
        if p == TYPE:
            if s != node or not schema.simple_class(o):
                if s == node:
                    return None
                continue
            new += [ox.Triple(s, TYPE, c) for c in schema.supers(o)]
        else:
            if not schema.simple_property(p):
                return None
            for q in schema.superprops(p):
                new.append(ox.Triple(s, q, o))
                new += [ox.Triple(s, TYPE, c) for c in schema.domains.get(q, ())]
                if not isinstance(o, ox.Literal):
                    new += [ox.Triple(o, TYPE, c) for c in schema.ranges.get(q, ())]
                if q in schema.symmetric and not isinstance(o, ox.Literal):
                    new.append(ox.Triple(o, q, s))
        for fact in new:
            if fact not in facts and node in (fact.subject, fact.object):
                facts.add(fact)
                todo.append(fact)
    out = {t for t in facts if t.subject == node}
    for prop in {t.predicate for t in out} & schema.functional:
        if len({t.object for t in out if t.predicate == prop}) > 1:
            return None  # two values of a functional property: owl:sameAs would follow
    return out


def _views_of(store: ox.Store, node, skip_all: set[str]) -> tuple[set, set, set]:
    """The asserted triples naming `node`: the verified view V (every asserted graph and
    the verified derived triples), the unverified derived triples U, and V ∪ U."""
    def naming(quads_for):
        return {q.triple for q in quads_for(node, None, None)} | {
            q.triple for q in quads_for(None, None, node)}

    view = View(store, skip_all)
    verified = naming(view.quads) | naming(
        lambda s, p, o: store.quads_for_pattern(s, p, o, VERIFIED))
    unverified = naming(lambda s, p, o: store.quads_for_pattern(s, p, o, UNVERIFIED))
    return verified, unverified, verified | unverified


def expected_inferences(schema: Schema, store: ox.Store, node, skip_all: set[str]
                        ) -> dict[ox.NamedNode, set[ox.Triple]] | None:
    """What the inferred graphs hold about `node` (as subject) by the rules of
    kg.pipeline.reason.materialise_views, or None when the local rules cannot tell."""
    verified, unverified, both = _views_of(store, node, skip_all)
    if any(t.predicate == SAME_AS for t in both):
        return None
    on_verified = local_closure(schema, node, verified)
    everything = local_closure(schema, node, both)
    if on_verified is None or everything is None:
        return None
    inferred = {t for t in on_verified - verified - unverified if _interesting(t)}
    only_unverified = {t for t in everything - both - on_verified if _interesting(t)}
    return {INFERRED: inferred, UNVERIFIED_INFERRED: only_unverified}


def stored_inferences(store: ox.Store, node) -> dict[ox.NamedNode, set[ox.Triple]]:
    return {g: {q.triple for q in store.quads_for_pattern(node, None, None, g)}
            for g in INFERENCES}


def touched(changed: Iterable[ox.Quad]) -> set:
    """The IRIs and blank nodes of the changed triples' subjects and objects."""
    return {t for q in changed for t in (q.subject, q.object)
            if isinstance(t, ox.NamedNode | ox.BlankNode)}


_SIMPLE: dict[str, dict] = {}  # schema stamp -> which terms are simple (see forget)


def forget() -> None:
    """Drop what is known of the vocabulary and the shapes compiled against it (after a
    change on the full path, which may add vocabulary triples to data graphs)."""
    _SIMPLE.clear()
    _CHECKS.clear()


def local_rules_apply(changed: set[ox.Quad], schema_names: set[str]) -> bool:
    """Whether the local rules may account for `changed`: a small change that writes no
    schema graph and no vocabulary triple (but rdf:type and a statement's parts)."""
    if not changed or len(changed) > SMALL:
        return False
    if any(_named(q) in schema_names for q in changed):
        return False
    if any(q.predicate.value.startswith((RDF_NS, OWL_NS)) and q.predicate != TYPE
           and q.predicate.value not in STATEMENT_PARTS for q in changed):
        return False
    return not any(q.predicate.value.startswith(RDFS_NS)
                   and q.predicate.value not in DESCRIPTIVE for q in changed)


def infer_delta(before: ox.Store, after: ox.Store, changed: set[ox.Quad],
                skip_all: set[str], schema_names: set[str], stamp: str,
                tables: tuple[Vocabulary, Vocabulary]) -> Delta | None:
    """The change of the inferred graphs that the asserted change `changed` (data and
    derived quads) implies, by the local rules; None when the full closure is needed.
    `skip_all` names the graphs that are not asserted (schema graphs are asserted but
    must not change); `tables` are the Vocabulary of `before` and of `after` over them."""
    if not local_rules_apply(changed, schema_names):
        return None
    old_schema = Schema(View(before, skip_all), _SIMPLE.setdefault(stamp, {}), tables[0])
    new_schema = Schema(View(after, skip_all), _SIMPLE[stamp], tables[1])
    out = Delta()
    nodes = {q.subject for q in changed} | {q.object for q in changed if q.predicate != TYPE
                                            and not isinstance(q.object, ox.Literal)}
    for node in nodes:
        was = expected_inferences(old_schema, before, node, skip_all)
        if was is None or was != stored_inferences(before, node):
            return None  # the stored inferences have a reason the local rules miss
        now = expected_inferences(new_schema, after, node, skip_all)
        if now is None:
            return None
        for graph in INFERENCES:
            for triple in was[graph] - now[graph]:
                out.remove(ox.Quad(*triple, graph))
            for triple in now[graph] - was[graph]:
                out.add(ox.Quad(*triple, graph))
    return out


# ------------------------------------------------------------------ the full path
def rdflib_graph(quads: Iterable[ox.Quad]) -> Graph:
    graph = Graph()
    for quad in quads:
        graph.add(tuple(term_to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
    return graph


def _as_quads(graph: Graph, name: ox.NamedNode) -> set[ox.Quad]:
    return {ox.Quad(term_from_rdflib(s), term_from_rdflib(p), term_from_rdflib(o), name)
            for s, p, o in graph}


def rebuild(store: ox.Store, project: Project) -> Delta:
    """The change of the derived and inferred graphs that recomputing them over the
    whole dataset gives (what `kg build` computes from the same asserted triples)."""
    from .reason import materialise_views

    schema = schema_graphs(project)
    shapes = shapes_graph(project)
    data = View(store, SYSTEM | schema)
    derived = evidence.derive_triples(rdflib_graph(data.quads()))
    wanted: dict[ox.NamedNode, set[ox.Quad]] = {
        VERIFIED: _as_quads(derived[evidence.VERIFIED_GRAPH], VERIFIED),
        UNVERIFIED: _as_quads(derived[evidence.UNVERIFIED_GRAPH], UNVERIFIED)}
    verified = rdflib_graph(View(store, SYSTEM | {shapes}).quads())
    verified += derived[evidence.VERIFIED_GRAPH]
    ontology = rdflib_graph(q for g in schema - {shapes}
                            for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    inferred, only_unverified = materialise_views(
        verified, derived[evidence.UNVERIFIED_GRAPH], ontology=ontology)
    wanted[INFERRED] = _as_quads(inferred, INFERRED)
    wanted[UNVERIFIED_INFERRED] = _as_quads(only_unverified, UNVERIFIED_INFERRED)
    out = Delta()
    for graph, quads in wanted.items():
        have = set(store.quads_for_pattern(None, None, None, graph))
        for quad in have - quads:
            out.remove(quad)
        for quad in quads - have:
            out.add(quad)
    return out


def not_validated(project: Project) -> set[str]:
    """Graphs SHACL does not read: the shapes, the inferences, metadata and history (the
    derived triples are validated, as at build time)."""
    return {shapes_graph(project), *(g.value for g in INFERENCES), str(META_GRAPH),
            str(HISTORY_GRAPH)}


def validated_graphs(store: ox.Store, project: Project) -> list[str | ox.DefaultGraph]:
    """The graphs SHACL reads: the default graph and every named graph but those of
    not_validated."""
    skip = not_validated(project)
    return [ox.DefaultGraph(), *sorted(g.value for g in store.named_graphs()
                                       if isinstance(g, ox.NamedNode) and g.value not in skip)]


def curated_files(project: Project) -> list[tuple[str, str]]:
    """(graph IRI, file name) of the ontology and data files: where a violation is."""
    return [(str(GRAPH[project.relative(p)]), project.relative(p))
            for p in project.ontology_files() + project.data_files()]


def validate_all(store: ox.Store, project: Project, shapes: Graph,
                 merged: Merged | None = None) -> ValidationReport:
    """SHACL-validate the asserted and derived triples of the whole dataset, in the
    store (as `kg build` validates); with `merged` (in step with `store`), the checks
    read the merged copy (a fifth of the time over the curated data's 28 graphs)."""
    return validate_store(store, shapes, graphs=validated_graphs(store, project),
                          files=curated_files(project),
                          run=None if merged is None else runner(merged.store, None))


# ------------------------------------------------------------------ validation
_CHECKS: dict[str, tuple[Graph, FocusChecks]] = {}  # schema stamp -> compiled shapes


def focus_nodes(store: ox.Store, changed: set[ox.Quad], skip: set[str]) -> set:
    """The nodes whose SHACL results an asserted change can alter: the subjects and
    objects of the changed triples, and the nodes that link to them (a value's class or
    kind may have changed). `skip` names graphs that are not validated."""
    view = View(store, skip)
    focus = touched(changed)
    return focus | {q.subject for n in list(focus) for q in view.quads(None, None, n)}


MANY_GRAPHS = 8  # validated graphs past which a small update validates over a Merged copy


class Merged:
    """The graphs SHACL reads, merged into the default graph of an in-memory store: a
    query over a dataset of many named graphs looks up each triple pattern in each
    graph (the curated data has 28: the focus checks of a one-label update take about
    8 times longer than over one graph). The SPARQL default graph of such a dataset is
    the merge of its graphs, so the merged copy answers the same. `follow` keeps it in
    step with the store's changes."""

    def __init__(self, store: ox.Store, project: Project):
        self.skip = frozenset(not_validated(project))
        self.store = ox.Store()
        self.store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object)
                               for q in View(store, self.skip).quads())

    @classmethod
    def worth_it(cls, store: ox.Store, project: Project) -> Merged | None:
        """A merged copy when the store has more than MANY_GRAPHS validated graphs."""
        if len(validated_graphs(store, project)) <= MANY_GRAPHS:
            return None
        return cls(store, project)

    def follow(self, store: ox.Store, delta: Delta) -> None:
        """Take in `delta`, already applied to `store`: a removed triple stays while
        another validated graph of the store still holds it."""
        view = View(store, self.skip)
        for quad in delta.removed:
            if _named(quad) not in self.skip and not view.has(*quad.triple):
                self.store.remove(ox.Quad(quad.subject, quad.predicate, quad.object))
        self.store.extend(ox.Quad(q.subject, q.predicate, q.object) for q in delta.added
                          if _named(q) not in self.skip)


def focus_checks(store: ox.Store, project: Project, shapes: Graph, stamp: str) -> FocusChecks:
    """The shapes compiled for focus nodes, kept per schema stamp (the service's writer
    compiles them before its first write: update.prepare)."""
    held = _CHECKS.get(stamp)
    if held is None or held[0] is not shapes:
        _CHECKS.clear()
        run = runner(store, validated_graphs(store, project))
        held = _CHECKS[stamp] = (shapes, FocusChecks.compile(run, shapes))
    return held[1]


# Predicates whose change alters what the compiled checks mean (classes and properties
# are expanded when compiling): a change that writes one of them runs every check.
HIERARCHY = frozenset({SUBCLASS, SUBPROPERTY, OWL_NS + "equivalentClass",
                       OWL_NS + "equivalentProperty", OWL_NS + "inverseOf"})


def validate_touched(store: ox.Store, changed: set[ox.Quad], project: Project,
                     shapes: Graph, stamp: str,
                     merged: Merged | None = None) -> ValidationReport:
    """SHACL results for the focus nodes of a change (focus_nodes), evaluated over the
    whole store by the SPARQL-compiled shapes with the focus nodes as VALUES: the
    results `validate_all` gives about them, without reading the other nodes. The
    dataset before the change conformed (every stored version does), so a check that
    reads none of the predicates the change wrote finds nothing and is skipped. A blank
    focus node cannot be named in a query: then the whole store is validated. With
    `merged` (in step with `store`), the checks read the merged copy."""
    skip = not_validated(project)
    focus = focus_nodes(store, changed, skip)
    if any(isinstance(n, ox.BlankNode) for n in focus):
        return validate_all(store, project, shapes, merged)
    predicates = {q.predicate.value for q in changed if _named(q) not in skip}
    return validate_store(store, shapes, graphs=validated_graphs(store, project),
                          files=curated_files(project), focus=focus,
                          checks=focus_checks(store, project, shapes, stamp),
                          run=None if merged is None else runner(merged.store, None),
                          changed=None if predicates & HIERARCHY else predicates)
