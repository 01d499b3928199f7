"""Reasoning: OWL 2 RL materialisation for the `inferred` graph, and OWL DL consistency
checking with HermiT (owlready2).

Materialisation runs `reasonable` (a Rust OWL 2 RL reasoner) over the data and owlrl
over the ontology alone, for the schema rules (scm-*) that `reasonable` leaves out:
together they give exactly owlrl's inferred graph (tests/test_reason.py checks it on the
curated and the fixture data) in a fraction of the time. Without the ontology given
apart, or without `reasonable`, owlrl runs over everything."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import owlrl
import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from ..namespaces import BASE, shorten
from .store import term_from_rdflib

# What owlrl adds that tells a reader nothing about the domain.
_TRIVIAL_PREDICATES = {OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty}
_TRIVIAL_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.Class, RDFS.Class, OWL.NamedIndividual,
                    RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty,
                    OWL.AnnotationProperty, RDFS.Datatype, RDFS.Literal}


_TYPE, _SAME_AS = RDF.type, OWL.sameAs  # looked up once: these run once per triple
_HIERARCHY = (RDFS.subClassOf, RDFS.subPropertyOf)


def _interesting(s, p, o) -> bool:
    # keep inferences about our own resources; drop the closure of standard vocabularies
    if not isinstance(s, URIRef) or not s.startswith(BASE) or p in _TRIVIAL_PREDICATES:
        return False
    if p == _TYPE:
        return o not in _TRIVIAL_OBJECTS
    return not (p in _HIERARCHY and (s == o or o in _TRIVIAL_OBJECTS))


def _owlrl_closure(graph: Graph) -> Graph:
    closure = Graph()
    closure += graph
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(closure)
    return closure


def _plain(term):
    """rdflib reads "x" as a plain literal; `reasonable` returns it typed xsd:string."""
    if isinstance(term, Literal) and term.datatype == XSD.string and not term.language:
        return Literal(str(term))
    return term


def _reasonable_closure(asserted: Graph, ontology: Graph) -> list[tuple] | None:
    try:
        import reasonable
    except ImportError:  # pragma: no cover - an install without the wheel
        return None
    reasoner = reasonable.PyReasoner()
    reasoner.from_graph(asserted)
    triples = [(s, p, _plain(o)) for s, p, o in reasoner.reason()]
    triples += schema_closure(ontology)  # the schema rules
    return triples


def materialise(asserted: Graph, *, ontology: Graph | None = None,
                engine: str = "auto") -> Graph:
    """The OWL 2 RL consequences of `asserted` that it does not already contain.
    `ontology` (the ontology's triples, also in `asserted`) lets the fast engine run;
    `engine` is "auto", "reasonable" or "owlrl"."""
    closure = None
    if engine != "owlrl" and ontology is not None:
        closure = _reasonable_closure(asserted, ontology)
    if closure is None:
        closure = _owlrl_closure(asserted)
    inferred = Graph()
    for s, p, o in closure:
        if (s, p, o) not in asserted and _interesting(s, p, o):
            inferred.add((s, p, o))
    return inferred


def materialise_views(verified: Graph, unverified: Graph, *,
                      ontology: Graph | None = None) -> tuple[Graph, Graph]:
    """The consequences of `verified`, and those that only adding `unverified` yields
    (see `materialise` for `ontology`)."""
    on_verified = materialise(verified, ontology=ontology)
    both = Graph()
    both += verified
    both += unverified
    everything = materialise(both, ontology=ontology)
    only_unverified = Graph()
    for triple in everything:
        if triple not in on_verified:
            only_unverified.add(triple)
    for triple in list(on_verified):
        if triple in unverified:
            on_verified.remove(triple)
    return on_verified, only_unverified


# Ontology predicates that only describe a term: a data triple whose predicate the
# ontology mentions only through these cannot fire an OWL 2 RL rule.
_DESCRIBING = {RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo,
               URIRef("http://www.w3.org/2004/02/skos/core#definition")}
_DECLARING = {OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property}


def active_predicates(ontology: Graph) -> set[str]:
    """The predicates through which data triples can take part in an OWL 2 RL rule: those
    the ontology says something about beyond a label or a declaration (domain, range,
    super-properties, characteristics, restrictions, keys, chains...), rdf:type and
    owl:sameAs. The other data triples (labels, definitions, titles...) only get the
    trivial conclusions that materialisation drops (x owl:sameAs x)."""
    active = {str(RDF.type), str(OWL.sameAs)}
    for s, p, o in ontology:
        if p in _DESCRIBING or (p == RDF.type and o in _DECLARING):
            continue
        for term in (s, o):
            if isinstance(term, URIRef):
                active.add(str(term))
    return active


def _write_parts(store: ox.Store, graphs: list[str], restrict: str, parts: int,
                 folder: Path, tag: str) -> list[Path]:
    """The union of `graphs` (only the triples `restrict` lets through) as N-Triples files
    (which `reasonable` reads as Turtle), `parts` of them, each triple in the part its
    subject hashes to: one pass over the store, no Python object per triple."""
    paths = [folder / f"{tag}-{i}.ttl" for i in range(parts)]
    if not graphs:
        for path in paths:
            path.write_bytes(b"")
        return paths
    text = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {restrict} ?s ?p ?o }}",
                       default_graph=[ox.NamedNode(g) for g in graphs]).serialize(
        format=ox.RdfFormat.N_TRIPLES)
    if parts == 1:
        paths[0].write_bytes(text)
        return paths
    lines: list[list[bytes]] = [[] for _ in range(parts)]
    for line in text.splitlines(keepends=True):
        lines[zlib.crc32(line[:line.index(b" ")]) % parts].append(line)
    del text
    for path, part in zip(paths, lines, strict=True):
        path.write_bytes(b"".join(part))
    return paths


def schema_closure(ontology: Graph, cache: Path | None = None) -> list[tuple]:
    """The interesting part of owlrl's closure of the ontology alone (the schema rules
    `reasonable` leaves out), kept in `cache` (a folder) by a hash of the ontology's
    triples and owlrl's version: the ontology rarely changes between builds. Also kept
    in this process (an update's full path and each evidence view ask it again)."""
    lines = sorted(f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in ontology)
    digest = hashlib.sha256(f"owlrl {owlrl.__version__}\n".encode())
    digest.update("\n".join(lines).encode())
    key = digest.hexdigest()[:32]
    if key in _SCHEMA_CLOSURES:
        return _SCHEMA_CLOSURES[key]
    path = cache / f"schema-{key}.nt" if cache is not None else None
    if path is not None and path.is_file():
        found = list(Graph().parse(path, format="nt"))
    else:
        closure = Graph()
        for triple in _owlrl_closure(ontology):
            if _interesting(*triple):
                closure.add(triple)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            closure.serialize(partial, format="nt", encoding="utf-8")
            partial.replace(path)
        found = list(closure)
    if len(_SCHEMA_CLOSURES) >= 4:
        _SCHEMA_CLOSURES.clear()
    _SCHEMA_CLOSURES[key] = found
    return found


_SCHEMA_CLOSURES: dict[str, list[tuple]] = {}  # schema_closure's answers, by their key


def materialise_store(store: ox.Store, *, verified: list[str], unverified: list[str],
                      ontology: Graph, schema_graphs: list[str], cache: Path | None = None,
                      workers: int | None = None
                      ) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """`materialise_views` over graphs of a store, with `reasonable` over the whole data
    (owlrl only over `ontology`, for the schema rules, see schema_closure; `cache` is
    where its result is kept): the consequences of the
    `verified` graphs, and those that adding the `unverified` graphs yields. The
    reasoner continues from the verified closure rather than starting again, and only
    inferences that no asserted graph holds are kept. Parts of the data are reasoned
    over by up to `workers` processes at once (default: one per CPU)."""
    asserted = {ox.NamedNode(g) for g in verified + unverified}
    lines = _Lines()
    schema = "".join(lines(s, p, o) for s, p, o in schema_closure(ontology, cache)
                     if _interesting(s, p, o)).encode()

    def new(text: bytes) -> Iterator[ox.Triple]:
        for quad in ox.parse(text, format=ox.RdfFormat.N_TRIPLES):
            triple = ox.Triple(quad.subject, quad.predicate, quad.object)
            if not any(q.graph_name in asserted for q in store.quads_for_pattern(
                    triple.subject, triple.predicate, triple.object, None)):
                yield triple

    def run(active: set[str] | None, parts: int
            ) -> tuple[set[ox.Triple], set[ox.Triple]] | None:
        on_verified: set[ox.Triple] = set(new(schema))
        only_unverified: set[ox.Triple] = set()
        values = "" if active is None else \
            f"VALUES ?p {{ {' '.join(f'<{p}>' for p in sorted(active))} }}"
        data = [g for g in verified if g not in schema_graphs]
        with tempfile.TemporaryDirectory(prefix="kg-reason-") as tmp:
            folder = Path(tmp)
            [schema_file] = _write_parts(store, schema_graphs, "", 1, folder, "schema")
            firsts = _write_parts(store, data, values, parts, folder, "v")
            seconds = _write_parts(store, unverified, values, parts, folder, "u")
            jobs = [(str(schema_file), str(first), str(second), active is not None)
                    for first, second in zip(firsts, seconds, strict=True)]
            with contextlib.closing(_each_part(jobs, workers, folder)) as results:
                for found in results:
                    if found is None:
                        return None
                    here, added = found
                    on_verified |= set(new(here))
                    only_unverified |= set(new(added))
        return on_verified, only_unverified - on_verified

    # only the triples that can fire a rule, in parts by subject where the ontology lets
    # no rule join two data triples of different subjects; unless two resources turn out
    # the same (then every triple of one holds of the other: the reasoner gets it all)
    data_graphs = [g for g in verified + unverified if g not in schema_graphs]
    found = run(active_predicates(ontology), _parts(store, ontology, data_graphs)) \
        or run(None, 1)
    assert found is not None
    on_verified, only_unverified = found
    return sorted(on_verified, key=str), sorted(only_unverified, key=str)


def _reason_part(schema_file: str, first_file: str, second_file: str, check: bool
                 ) -> tuple[bytes, bytes] | None:
    """`reasonable` over the schema and one part of the verified data, then continuing
    with the same part of the unverified data: the interesting triples of the first
    closure, and those that only the second adds, as N-Triples, less the input lines
    (the caller tells the rest apart from triples asserted elsewhere). None when `check`
    and a closure says two resources are the same. Runs in a child process
    (_reason_child.py) when there are several parts and CPUs."""
    import reasonable

    inputs = [Path(f).read_text(encoding="utf-8").splitlines(keepends=True)
              for f in (schema_file, first_file, second_file)]
    reasoner = reasonable.PyReasoner()
    reasoner.load_file(schema_file)
    reasoner.load_file(first_file)
    first = reasoner.reason()
    if check and _equates(first):
        return None
    lines = _Lines()
    here = {lines(s, p, o) for s, p, o in first if _interesting(s, p, o)}
    del first
    reasoner.load_file(second_file)  # continues from the verified closure
    both = reasoner.reason()
    if check and _equates(both):
        return None
    added = {lines(s, p, o) for s, p, o in both if _interesting(s, p, o)}
    del both, reasoner
    added -= here
    here = here.difference(inputs[0], inputs[1])
    added = added.difference(*inputs)
    return "".join(here).encode(), "".join(added).encode()


class _Lines:
    """Triples of rdflib terms as N-Triples lines, in the store's terms (what
    _write_parts writes), with the text of each IRI made once."""

    def __init__(self) -> None:
        self.iris: dict[URIRef, str] = {}

    def term(self, term) -> str:
        if isinstance(term, URIRef):
            text = self.iris.get(term)
            if text is None:
                text = self.iris[term] = str(term_from_rdflib(term))
            return text
        return str(term_from_rdflib(_plain(term)))

    def __call__(self, s, p, o) -> str:
        return f"{self.term(s)} {self.term(p)} {self.term(o)} .\n"


CHILD = Path(__file__).with_name("_reason_child.py")
CHILD_PARTS = 4  # fewer parts are reasoned over here: children would not pay their start


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _each_part(jobs: list[tuple[str, str, str, bool]], workers: int | None,
               folder: Path) -> Iterator[tuple[bytes, bytes] | None]:
    """_reason_part of each job, in order: here when there are few jobs (CHILD_PARTS) or
    one CPU, else in `workers` child processes (default: one per CPU), each given every
    workers-th job, writing its answers into `folder`. Children still running when the
    caller stops early are stopped."""
    if workers is None:  # a child takes about as long to start as two parts
        workers = _cpus() if len(jobs) >= CHILD_PARTS else 1
    workers = min(len(jobs), workers)
    if workers <= 1:
        for job in jobs:
            yield _reason_part(*job)
        return
    children = []
    try:
        for k in range(workers):
            mine = [[*job[:3], str(folder / f"out-{i}")]
                    for i, job in enumerate(jobs) if i % workers == k]
            log = open(folder / f"child-{k}.log", "wb")  # noqa: SIM115 - closed below
            child = subprocess.Popen(
                [sys.executable, "-I", str(CHILD), str(Path(__file__).parents[2]),
                 "1" if jobs[0][3] else "0"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
            children.append((child, log))
            assert child.stdin is not None
            # a child that died at its start closes the pipe: its answer (below) says why
            with contextlib.suppress(BrokenPipeError):
                child.stdin.write(json.dumps(mine).encode())
            with contextlib.suppress(BrokenPipeError):
                child.stdin.close()
        for i in range(len(jobs)):
            child, log = children[i % workers]
            assert child.stdout is not None
            answer = child.stdout.readline().strip()
            if answer == b"same":
                yield None
                return
            if answer != str(i).encode():
                child.wait()
                log.flush()
                problem = (folder / f"child-{i % workers}.log").read_text(errors="replace")
                raise RuntimeError(f"reasoning over part {i} of the data failed (exit "
                                   f"{child.returncode}): {problem.strip()[-2000:]}")
            out = folder / f"out-{i}"
            yield (out.with_suffix(".here").read_bytes(), out.with_suffix(".added").read_bytes())
    finally:
        for child, log in children:
            if child.poll() is None:
                child.kill()
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
            log.close()


# Data triples per reasoner run: its time and memory grow faster than its input (at a
# million triples, parts of 40,000 take 44 CPU s, of 10,000 26 s, of 5,000 30 s).
CHUNK = 10_000
# OWL 2 RL constructs whose rules join data triples of different subjects, or make the
# data define schema: with any of them in the ontology the data is reasoned over at once.
_JOINING = {OWL.TransitiveProperty, OWL.InverseFunctionalProperty, OWL.propertyChainAxiom,
            OWL.onProperty, OWL.hasKey, OWL.intersectionOf, OWL.unionOf, OWL.complementOf,
            OWL.oneOf, OWL.sameAs, OWL.differentFrom, OWL.AllDifferent}
_SCHEMA_IN_DATA = f"""
ASK {{
  ?s ?p ?o
  FILTER (STRSTARTS(STR(?p), "{OWL}")
          || (STRSTARTS(STR(?p), "{RDFS}") && ?p NOT IN (<{RDFS.label}>, <{RDFS.comment}>,
                                                         <{RDFS.seeAlso}>, <{RDFS.isDefinedBy}>))
          || (?p = <{RDF.type}> && isIRI(?o)
              && (STRSTARTS(STR(?o), "{OWL}") || STRSTARTS(STR(?o), "{RDFS}"))))
}}"""


def _parts(store: ox.Store, ontology: Graph, data_graphs: list[str]) -> int:
    """In how many parts, by subject, the data can be reasoned over with the same
    closure, each of about CHUNK triples: more than one only where each rule the
    ontology can fire reads one data triple (domain, range, subclass, subproperty,
    symmetry) or several of one subject (a functional property that no symmetry or
    inverse feeds), and the data itself defines no schema."""
    named = [ox.NamedNode(g) for g in data_graphs]
    if not named:
        return 1
    count = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                                  default_graph=named)))["n"]
    parts = -(-int(count.value) // CHUNK)
    if parts <= 1 or any(t in _JOINING for triple in ontology for t in triple):
        return 1
    functional = set(ontology.subjects(RDF.type, OWL.FunctionalProperty))
    fed = set(ontology.subjects(RDF.type, OWL.SymmetricProperty)) | {
        t for s, o in ontology.subject_objects(OWL.inverseOf) for t in (s, o)} | {
        t for s, o in ontology.subject_objects(OWL.equivalentProperty) for t in (s, o)}
    if functional & fed or store.query(_SCHEMA_IN_DATA, default_graph=named):
        return 1
    return parts


def _equates(closure) -> bool:
    """Whether the closure says two distinct resources are the same."""
    return any(p == _SAME_AS and s != o for s, p, o in closure)


@dataclass
class Clash:
    individual: str
    classes: list[str]

    def __str__(self) -> str:
        return f"{self.individual} is in disjoint classes {' and '.join(self.classes)}"


@dataclass
class ConsistencyReport:
    consistent: bool
    unsatisfiable_classes: list[str] = field(default_factory=list)
    clashes: list[Clash] = field(default_factory=list)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.consistent and not self.unsatisfiable_classes


_CLASH_QUERY = """
SELECT DISTINCT ?x ?c1 ?c2 WHERE {
    ?x a ?c1 , ?c2 .
    { ?c1 owl:disjointWith ?c2 } UNION { ?c2 owl:disjointWith ?c1 }
    UNION { ?list ^owl:members/a owl:AllDisjointClasses ; rdf:rest*/rdf:first ?c1 , ?c2 . }
    FILTER (STR(?c1) < STR(?c2))
}"""


def find_clashes(graph: Graph) -> list[Clash]:
    """Individuals typed (after RL inference) with two disjoint classes."""
    closure = Graph()
    closure += graph
    closure += materialise(graph)
    rows = closure.query(_CLASH_QUERY, initNs={"owl": OWL, "rdf": RDF})
    return sorted((Clash(shorten(str(x)), [shorten(str(c1)), shorten(str(c2))])
                   for x, c1, c2 in rows), key=lambda c: (c.individual, c.classes))


# Datatypes outside the OWL 2 datatype map (HermiT rejects them); their values carry no
# DL meaning here, so HermiT sees them as strings.
_NON_OWL_DATATYPES = {XSD.date, XSD.gYear, XSD.gYearMonth, XSD.time, XSD.duration}


def _dl_view(graph: Graph) -> Graph:
    """What HermiT should see: the graph without RDF reification (statement nodes are
    records about facts, not OWL individuals), dates as plain strings."""
    view = Graph()
    skip = {RDF.subject, RDF.predicate, RDF.object}
    for s, p, o in graph:
        if p in skip:
            continue
        if isinstance(o, Literal) and o.datatype in _NON_OWL_DATATYPES:
            o = Literal(str(o))
        view.add((s, p, o))
    return view


def _java_error(err: Exception) -> str:
    """The first meaningful line of a Java exception, not the whole trace."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    useful = [line for line in lines if "Exception" in line or "Error" in line]
    return (useful or lines or ["unknown error"])[-1 if not useful else 0][:300]


def check_consistency(graph: Graph) -> ConsistencyReport:
    """Run HermiT over `graph` (ontology + data). Needs Java."""
    import owlready2  # imported here: it starts slowly and is only needed for `kg check`

    world = owlready2.World()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kg.nt"
        _dl_view(graph).serialize(path, format="nt", encoding="utf-8")
        world.get_ontology(path.as_uri()).load()
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            clashes = find_clashes(graph)
            message = ("HermiT: the ontology and data are inconsistent"
                       + ("" if clashes else "; no individual in two disjoint classes was "
                          "found, so the cause is another axiom (functional property, ...)"))
            return ConsistencyReport(consistent=False, clashes=clashes, message=message)
        except owlready2.base.OwlReadyJavaError as err:
            return ConsistencyReport(consistent=False, message=f"HermiT failed: {_java_error(err)}")
        unsat = sorted(shorten(c.iri) for c in world.inconsistent_classes()
                       if isinstance(getattr(c, "iri", None), str)
                       and c.iri != str(OWL.Nothing))
    return ConsistencyReport(consistent=True, unsatisfiable_classes=unsat,
                             message="consistent" if not unsat else "unsatisfiable classes")


__all__ = ["Clash", "ConsistencyReport", "check_consistency", "find_clashes", "materialise",
           "materialise_store"]
