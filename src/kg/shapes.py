"""SHACL validation with reports a researcher can act on: each violation names the file
the focus node is defined in, the focus node, the path, the constraint and the message."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import pyshacl
from rdflib import Graph, Literal
from rdflib.namespace import RDF
from rdflib.term import Node

from .load import SourceFile
from .namespaces import SH, WF, shorten

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


def _path(shapes: Graph, path: Node | None) -> str | None:
    if path is None:
        return None
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + (_show(inverse) or "")
    return _show(path)


def validate_graph(data: Graph, shapes: Graph, *, files: Iterable[SourceFile] = ()
                   ) -> ValidationReport:
    """Validate `data` (ontology + data + derived triples) against `shapes`. `files`
    are the parsed inputs, used to name the file each violation comes from."""
    conforms, results, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True)
    files = list(files)
    origins = origins_of(files)
    report = ValidationReport(conforms=bool(conforms))
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        severity = results.value(result, SH.resultSeverity)
        component = results.value(result, SH.sourceConstraintComponent)
        messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
        value = results.value(result, SH.value)
        statement = None
        if focus is not None and (focus, RDF.type, WF.Statement) in data:
            statement = " ".join(_show(data.value(focus, p)) or "?"
                                 for p in (RDF.subject, RDF.predicate, RDF.object))
        path = results.value(result, SH.resultPath)
        violation = Violation(
            file=_locate(files, origins, focus, path, value),
            focus=_show(focus) or "?",
            path=_path(results, path),
            constraint=(_show(component) or "?").replace("sh:", "sh:", 1),
            message=_shorten_text(messages[0]) if messages else "constraint not met",
            value=None if value == focus else _show(value),
            severity=(_show(severity) or "sh:Violation").split(":")[-1],
            statement=statement,
        )
        (report.violations if violation.severity == "Violation" else report.warnings
         ).append(violation)
    report.violations.sort(key=lambda v: (v.file or "", v.focus, v.path or "", v.message))
    report.warnings.sort(key=lambda v: (v.file or "", v.focus, v.path or "", v.message))
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
