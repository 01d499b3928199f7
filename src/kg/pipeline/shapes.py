"""SHACL validation with reports a researcher can act on: each violation names the file
the focus node is defined in, the focus node, the path, the constraint and the message."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.paths import NegatedPath, Path
from rdflib.term import Node, Variable

from ..namespaces import SH, WF, shorten
from ..query.queries import where_group_start
from .constraints import Query, Result, compile_queries, evaluate, subclass_reader
from .load import SourceFile
from .store import term_from_rdflib, term_to_rdflib

Term = ox.NamedNode | ox.BlankNode | ox.Literal
_IRI = re.compile(r"<?(https?://[^\s<>\"{}|^`]+)>?")


def _shorten_text(text: str) -> str:
    return _IRI.sub(lambda m: shorten(m.group(1)), text)


@dataclass(frozen=True)
class Violation:
    """One SHACL result."""

    file: str | None
    focus: str
    path: str | None
    constraint: str
    message: str
    value: str | None = None
    severity: str = "Violation"
    statement: str | None = None  # "s p o" when the focus is a statement node

    def __str__(self) -> str:
        where = self.file or "(unknown file)"
        focus = self.focus + (f" [{self.statement}]" if self.statement else "")
        path = f" path {self.path}" if self.path else ""
        value = f" value {self.value}" if self.value is not None else ""
        return f"{where}: {focus}{path}{value}: {self.message} ({self.constraint})"


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"conforms": self.conforms, "files": self.files,
                "violations": [asdict(v) for v in self.violations],
                "warnings": [asdict(v) for v in self.warnings]}


def _show(term: Term | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        return str(term)  # N-Triples: "text"@en, "5"^^<...#integer>
    if isinstance(term, ox.BlankNode):
        return term.value
    return shorten(term.value)


def _reference_results(data: Graph, shapes: Graph) -> list[Result]:
    """Every constraint but SPARQL-based ones, by pySHACL: the reference that the
    SPARQL evaluation (kg.pipeline.constraints) is tested against, and a benchmark baseline."""
    import pyshacl  # imported here: it takes a second to import and builds do not use it
    _, results, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        inplace=True)
    out = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        out.append(Result(
            focus=term_from_rdflib(results.value(result, SH.focusNode)),
            path=term_from_rdflib(path) if isinstance(path, URIRef) else None,
            value=term_from_rdflib(value) if value is not None else None,
            component=str(results.value(result, SH.sourceConstraintComponent)),
            message=messages[0] if messages else "constraint not met",
            severity=str(results.value(result, SH.resultSeverity) or SH.Violation)))
    return out


def _prefix_block(shapes: Graph, constraint: Node) -> str:
    lines = []
    for holder in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(holder, SH.declare):
            prefix, namespace = shapes.value(decl, SH.prefix), shapes.value(decl, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines)


Run = Callable[[str], Iterable]


def _sparql_queries(shapes: Graph, focus: str | None = None) -> list[tuple[str, str, str]]:
    """SPARQL-based constraints (SHACL section 5) as (query, message template, severity),
    each to be evaluated once for all focus nodes of its shape instead of once per focus
    node (pySHACL's way, about 30 times slower here): the focus nodes are bound to ?this
    by a pattern put at the start of the WHERE group, which gives the solutions of the
    pre-bound $this. `focus` is a VALUES list of the only nodes to validate."""
    out = []
    restrict = f"VALUES ?this {{ {focus} }} " if focus is not None else ""
    for shape, constraint in shapes.subject_objects(SH.sparql):
        if shapes.value(constraint, SH.deactivated) == Literal(True):
            continue
        classes = list(shapes.objects(shape, SH.targetClass))
        nodes = list(shapes.objects(shape, SH.targetNode))
        if not classes and not nodes:
            raise ValueError(f"{shape}: SPARQL constraints need sh:targetClass or sh:targetNode")
        targets = [f"{{ ?this rdf:type/rdfs:subClassOf* <{c}> }}" for c in classes]
        targets += [f"{{ BIND (<{n}> AS ?this) }}" for n in nodes]
        select = _strip_prefixes(str(shapes.value(constraint, SH.select)).replace("$this", "?this"))
        at = where_group_start(select)
        if at is None:
            raise ValueError(f"{constraint}: the SELECT needs a 'WHERE {{' group")
        # bind ?this to the focus nodes first, so the rest sees it bound as SHACL requires
        query = (f"{_prefix_block(shapes, constraint)}\n"
                 "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"
                 "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                 f"{select[:at]} {restrict}{' UNION '.join(targets)}\n{select[at:]}")
        template = str(shapes.value(constraint, SH.message)
                       or shapes.value(shape, SH.message) or "SPARQL constraint not met")
        severity = str(shapes.value(shape, SH.severity) or SH.Violation)
        out.append((query, template, severity))
    return out


def _sparql_results(run: Run, queries: Iterable[tuple[str, str, str]]) -> list[Result]:
    """The results of the SPARQL-based constraints compiled by _sparql_queries."""
    out = []
    for query, template, severity in queries:
        for solution in run(query):
            bound = {v: solution[v] for v in ("this", "path", "value")}
            message = re.sub(r"\{[?$](\w+)\}",
                             lambda m, s=solution: _term_text(s[m.group(1)]), template)
            out.append(Result(
                focus=bound["this"], path=bound["path"],
                value=bound["value"] if bound["value"] is not None else bound["this"],
                component=str(SH.SPARQLConstraintComponent), message=message,
                severity=severity))
    return out


def _strip_prefixes(select: str) -> str:
    return re.sub(r"(?im)^\s*PREFIX\s+\S*:\s*<[^>]*>\s*$", "", select)


def _term_text(term) -> str:
    if term is None:
        return "?"
    if isinstance(term, ox.Literal):
        return term.value
    return shorten(term.value) if isinstance(term, ox.NamedNode) else str(term)


def _core_shapes(shapes: Graph) -> Graph:
    core = Graph()
    core += shapes
    core.remove((None, SH.sparql, None))
    return core


# Where a violation comes from: (focus, path, value) -> the file to name, or None.
Locate = Callable[[Term, Term | None, Term | None], str | None]


def results_of(run: Run, shapes: Graph, *,
               focus: Iterable[Term] | None = None) -> list[Result]:
    """Every SHACL result of the data that `run` queries (SPARQL over pyoxigraph, core
    and SPARQL-based constraints), only about the `focus` nodes if given."""
    keep = None if focus is None else set(focus)
    values = None if keep is None else " ".join(
        str(n) for n in keep if not isinstance(n, ox.BlankNode))
    queries = compile_queries(shapes, subclass_reader(run), focus=keep)
    results = evaluate(run, queries) + _sparql_results(run, _sparql_queries(shapes, values))
    if keep is not None:
        results = [r for r in results if r.focus in keep]
    return results


# Where the focus nodes go in FocusChecks' queries (an IRI no data uses).
_SLOT = ox.NamedNode("urn:x-kg:focus-nodes")


class _AnyPredicate(Exception):
    pass


@functools.lru_cache(maxsize=1024)
def predicates_read(query: str) -> frozenset[str] | None:
    """A superset of the predicates whose triples can change the answer of a SELECT
    `query`: every IRI in rdflib's algebra of it (its triple patterns and property paths
    in every group, EXISTS and subquery, and constants besides) and rdf:type, or None if
    it may read any predicate (a variable or a negated property set) or rdflib cannot
    read it. About 15 ms a query: used for the SPARQL-based constraints (the core ones
    know theirs, constraints.shape_reads), kept per process."""
    # rdflib's SPARQL parser takes a tenth of a second to import: only the writer needs it
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    found = {str(RDF.type)}

    def pattern(terms) -> None:  # a flat s p o s p o ... list
        if any(isinstance(p, Variable) for p in list(terms)[1::3]):
            raise _AnyPredicate

    def walk(node) -> None:
        if isinstance(node, URIRef):
            found.add(str(node))
        elif isinstance(node, NegatedPath):
            raise _AnyPredicate
        elif isinstance(node, Path):
            walk(list(vars(node).values()))
        elif isinstance(node, CompValue):
            if node.name in ("BGP", "TriplesBlock"):
                for terms in node.get("triples") or ():
                    pattern(terms)
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple | set | frozenset):
            for value in node:
                walk(value)

    try:
        walk(prepareQuery(query).algebra)
    except Exception:  # _AnyPredicate, or a text rdflib cannot read: run it always
        return None
    return frozenset(found)


def _untouched(reads: frozenset[str] | None, severity: str, changed: set[str] | None) -> bool:
    """Whether a check can be skipped: it reports violations, and the change wrote no
    triple of a predicate it reads, so (the dataset conformed before) it finds none."""
    return (changed is not None and reads is not None and not reads & changed
            and severity == str(SH.Violation))


@dataclass(frozen=True)
class FocusChecks:
    """The shapes compiled once to SPARQL (core and SPARQL-based constraints) with a
    place for the focus nodes: a writer checks many small updates against the same
    shapes, and compiling them costs more than running them on a few nodes. The class
    hierarchy of the data is read when compiling, so compile anew when it changes.
    `sparql_reads` are the predicates each SPARQL-based constraint reads (the core
    queries carry theirs)."""

    core: list[Query]
    sparql: list[tuple[str, str, str]]
    sparql_reads: list[frozenset[str] | None]

    @classmethod
    def compile(cls, run: Run, shapes: Graph) -> FocusChecks:
        sparql = _sparql_queries(shapes, str(_SLOT))
        return cls(compile_queries(shapes, subclass_reader(run), focus=[_SLOT]), sparql,
                   [predicates_read(q) for q, _, _ in sparql])

    def results(self, run: Run, focus: Iterable[Term],
                changed: set[str] | None = None) -> list[Result]:
        """The results about the `focus` nodes (IRIs; blank nodes cannot be named in a
        query and are left out). Each shape's targets are asked first, and only the
        shapes that target a focus node run their constraints, on those nodes. With
        `changed`, the predicates of the triples a change wrote into a dataset that
        conformed before it, the checks that read none of them are skipped."""
        keep = set(focus)
        values = " ".join(str(n) for n in keep if isinstance(n, ox.NamedNode))
        slot = str(_SLOT)
        live = [q for q in self.core if not _untouched(q.reads, q.severity, changed)]
        # a shape's targets -> the focus nodes among them, as a VALUES list; all targets
        # asked in one query (a query costs more to start than to run on a few nodes)
        targets = sorted({q.target for q in live})
        hits: dict[str, list[str]] = {target: [] for target in targets}
        if targets:
            union = " UNION ".join(f"{{ {target.replace(slot, values)} BIND ({i} AS ?i) }}"
                                   for i, target in enumerate(targets))
            for row in run(f"SELECT DISTINCT ?i ?this WHERE {{ {union} }}"):
                hits[targets[int(row["i"].value)]].append(str(row["this"]))
        hits = {target: " ".join(sorted(nodes)) for target, nodes in hits.items()}
        core = [replace(q, sparql=q.sparql.replace(slot, hits[q.target]))
                for q in live if hits[q.target]]
        sparql = [(q.replace(slot, values), t, s)
                  for (q, t, s), reads in zip(self.sparql, self.sparql_reads, strict=True)
                  if not _untouched(reads, s, changed)]
        return [r for r in evaluate(run, core) + _sparql_results(run, sparql)
                if r.focus in keep]


Graphs = Sequence[str | ox.DefaultGraph]


def validate_store(store: ox.Store, shapes: Graph, *, graphs: Graphs | None = None,
                   files: Sequence[tuple[str, str]] = (),
                   focus: Iterable[Term] | None = None,
                   checks: FocusChecks | None = None,
                   run: Run | None = None,
                   changed: set[str] | None = None) -> ValidationReport:
    """Validate the union of the named `graphs` of `store` (all graphs if None; the
    default graph where named) against `shapes`, in the store itself: nothing is
    copied. `files` are (graph IRI, file name) pairs, in the order that decides which
    file a violation is reported in; `focus` restricts the validation to those nodes
    (kg.pipeline.delta), with the shapes compiled in `checks` if given, skipping the
    checks that read none of the `changed` predicates (FocusChecks.results). `run` asks
    another store holding the same union (kg.pipeline.delta.Merged)."""
    run = run or runner(store, graphs)
    if focus is not None and checks is not None:
        results = checks.results(run, focus, changed)
    else:
        results = results_of(run, shapes, focus=focus)
    names = [(ox.NamedNode(iri), name) for iri, name in files]

    def locate(focus: Term, path: Term | None, value: Term | None) -> str | None:
        if path is not None and value is not None and not isinstance(focus, ox.Literal):
            for graph, name in names:
                if ox.Quad(focus, path, value, graph) in store:
                    return name
        if isinstance(focus, ox.Literal):
            return None
        for predicate in (_RDF_TYPE, None):
            for graph, name in names:
                if next(iter(store.quads_for_pattern(focus, predicate, None, graph)), None):
                    return name
        return None

    report = _report(results, store, locate)
    report.files = [name for _, name in files]
    return report


def runner(store: ox.Store, graphs: Graphs | None) -> Run:
    """Queries over the union of `graphs` of `store` (all graphs if None)."""
    if graphs is None:
        return lambda q: store.query(q, use_default_graph_as_union=True)
    default = [g if isinstance(g, ox.DefaultGraph) else ox.NamedNode(g) for g in graphs]
    return lambda q: store.query(q, default_graph=default)


def validate_graph(data: Graph, shapes: Graph, *, files: Iterable[SourceFile] = (),
                   focus: Iterable[Node] | None = None,
                   engine: str = "sparql") -> ValidationReport:
    """Validate `data` (ontology + data + derived triples) against `shapes`. `files`
    are the parsed inputs, used to name the file each violation comes from. With
    `focus`, only the results about those nodes are kept (see kg.pipeline.delta). `engine`
    "pyshacl" evaluates the core constraints with pySHACL instead (the reference)."""
    store = ox.Store()
    store.bulk_extend(ox.Quad(*(term_from_rdflib(t) for t in triple)) for triple in data)
    run = runner(store, None)
    keep = None if focus is None else {term_from_rdflib(n) for n in focus}
    if engine == "pyshacl":
        results = (_reference_results(data, _core_shapes(shapes))
                   + _sparql_results(run, _sparql_queries(shapes)))
        if keep is not None:
            results = [r for r in results if r.focus in keep]
    else:
        results = results_of(run, shapes, focus=keep)
    files = list(files)
    origins = origins_of(files)

    def locate(focus: Term, path: Term | None, value: Term | None) -> str | None:
        focus_, path_, value_ = (term_to_rdflib(t) if t is not None else None
                                 for t in (focus, path, value))
        if path_ is not None and value_ is not None:
            for source in files:
                if (focus_, path_, value_) in source.graph:
                    return source.name
        return origins.get(focus_)

    return _report(results, store, locate)


_RDF_TYPE = ox.NamedNode(str(RDF.type))
_STATEMENT = ox.NamedNode(str(WF.Statement))
_PARTS = [ox.NamedNode(str(p)) for p in (RDF.subject, RDF.predicate, RDF.object)]


def _report(results: list[Result], store: ox.Store, locate: Locate) -> ValidationReport:
    report = ValidationReport(conforms=True)
    for result in results:
        focus, value = result.focus, result.value
        statement = None
        if not isinstance(focus, ox.Literal) and next(iter(
                store.quads_for_pattern(focus, _RDF_TYPE, _STATEMENT, None)), None):
            statement = " ".join(  # the least value of each where there are several
                min((_show(q.object) for q in store.quads_for_pattern(focus, p, None, None)),
                    default="?") for p in _PARTS)
        violation = Violation(
            file=locate(focus, result.path, value),
            focus=_show(focus) or "?",
            path=_show(result.path),
            constraint=_show(ox.NamedNode(result.component)) or "?",
            message=_shorten_text(result.message),
            value=None if value == focus else _show(value),
            severity=result.severity.rsplit("#", 1)[-1],
            statement=statement,
        )
        (report.violations if violation.severity == "Violation" else report.warnings
         ).append(violation)
    report.violations = sorted(set(report.violations),
                               key=lambda v: (v.file or "", v.focus, v.path or "", v.message))
    report.warnings = sorted(set(report.warnings),
                             key=lambda v: (v.file or "", v.focus, v.path or "", v.message))
    report.conforms = not report.violations
    return report


def origins_of(files: Iterable[SourceFile]) -> dict[Node, str]:
    """Map every subject to the file that defines it (its rdf:type, else any triple)."""
    typed: dict[Node, str] = {}
    mentioned: dict[Node, str] = {}
    for source in files:
        for s, p, _ in source.graph:
            if p == RDF.type:
                typed.setdefault(s, source.name)
            mentioned.setdefault(s, source.name)
    return {**mentioned, **typed}


def union(files: Iterable[SourceFile]) -> Graph:
    graph = Graph()
    for source in files:
        graph += source.graph
    return graph
