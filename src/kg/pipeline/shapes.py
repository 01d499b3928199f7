"""SHACL validation with reports a researcher can act on: each violation names the file
the focus node is defined in, the focus node, the path, the constraint and the message."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox
import pyshacl
from rdflib import Graph, Literal
from rdflib.namespace import RDF
from rdflib.term import Node

from ..namespaces import SH, WF, shorten
from ..query.queries import where_group_start
from .load import SourceFile
from .store import term_from_rdflib, term_to_rdflib

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


def _show(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, Literal):
        return node.n3()
    return shorten(str(node))


@dataclass(frozen=True)
class _Result:
    focus: Node
    path: Node | None
    value: Node | None
    component: Node
    message: str
    severity: Node


def _core_results(data: Graph, shapes: Graph, *, inplace: bool = False) -> list[_Result]:
    """Every constraint but SPARQL-based ones, by pySHACL (`inplace`: without copying
    `data` first)."""
    _, results, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        inplace=inplace)
    out = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        path = results.value(result, SH.resultPath)
        inverse = results.value(path, SH.inversePath) if path is not None else None
        out.append(_Result(
            focus=results.value(result, SH.focusNode),
            path=path if inverse is None else None,
            value=results.value(result, SH.value),
            component=results.value(result, SH.sourceConstraintComponent),
            message=messages[0] if messages else "constraint not met",
            severity=results.value(result, SH.resultSeverity) or SH.Violation))
    return out


def _prefix_block(shapes: Graph, constraint: Node) -> str:
    lines = []
    for holder in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(holder, SH.declare):
            prefix, namespace = shapes.value(decl, SH.prefix), shapes.value(decl, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines)


def _sparql_results(data: Graph, shapes: Graph) -> list[_Result]:
    """SPARQL-based constraints (SHACL section 5), each evaluated once for all focus
    nodes of its shape with pyoxigraph instead of once per focus node (pySHACL's way,
    about 30 times slower here): the focus nodes are bound to ?this by a pattern put at
    the start of the WHERE group, which gives the solutions of the pre-bound $this."""
    store = ox.Store()
    store.extend(ox.Quad(*(term_from_rdflib(t) for t in triple)) for triple in data)
    out = []
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
                 f"{select[:at]} {' UNION '.join(targets)}\n{select[at:]}")
        template = str(shapes.value(constraint, SH.message)
                       or shapes.value(shape, SH.message) or "SPARQL constraint not met")
        severity = shapes.value(shape, SH.severity) or SH.Violation
        for solution in store.query(query):
            bound = {v: solution[v] for v in ("this", "path", "value")}
            message = re.sub(r"\{[?$](\w+)\}",
                             lambda m, s=solution: _term_text(s[m.group(1)]), template)
            out.append(_Result(
                focus=term_to_rdflib(bound["this"]), path=term_to_rdflib(bound["path"]),
                value=term_to_rdflib(bound["value"]) if bound["value"] is not None
                else term_to_rdflib(bound["this"]),
                component=SH.SPARQLConstraintComponent, message=message, severity=severity))
    return out


def _strip_prefixes(select: str) -> str:
    return re.sub(r"(?im)^\s*PREFIX\s+\S*:\s*<[^>]*>\s*$", "", select)


def _term_text(term) -> str:
    if term is None:
        return "?"
    if isinstance(term, ox.Literal):
        return term.value
    return shorten(term.value) if isinstance(term, ox.NamedNode) else str(term)


def validate_graph(data: Graph, shapes: Graph, *, files: Iterable[SourceFile] = (),
                   focus: Iterable[Node] | None = None) -> ValidationReport:
    """Validate `data` (ontology + data + derived triples) against `shapes`. `files`
    are the parsed inputs, used to name the file each violation comes from. With
    `focus`, only the results about those nodes are kept (see kg.pipeline.delta)."""
    core_shapes = Graph()
    core_shapes += shapes
    core_shapes.remove((None, SH.sparql, None))
    results = (_core_results(data, core_shapes, inplace=focus is not None)
               + _sparql_results(data, shapes))
    if focus is not None:
        keep = set(focus)
        results = [r for r in results if r.focus in keep]
    files = list(files)
    origins = origins_of(files)
    report = ValidationReport(conforms=True)
    for result in results:
        focus, value = result.focus, result.value
        statement = None
        if focus is not None and (focus, RDF.type, WF.Statement) in data:
            statement = " ".join(_show(data.value(focus, p)) or "?"
                                 for p in (RDF.subject, RDF.predicate, RDF.object))
        violation = Violation(
            file=_locate(files, origins, focus, result.path, value),
            focus=_show(focus) or "?",
            path=_show(result.path),
            constraint=_show(result.component) or "?",
            message=_shorten_text(result.message),
            value=None if value == focus else _show(value),
            severity=(_show(result.severity) or "sh:Violation").split(":")[-1],
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


def _locate(files: list[SourceFile], origins: dict[Node, str], focus: Node | None,
            path: Node | None, value: Node | None) -> str | None:
    """The file holding the offending triple if there is one, else the file that
    defines the focus node."""
    if focus is None:
        return None
    if path is not None and value is not None:
        for source in files:
            if (focus, path, value) in source.graph:
                return source.name
    return origins.get(focus)


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
