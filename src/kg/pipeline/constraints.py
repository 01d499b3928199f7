"""SHACL Core constraints as SPARQL, evaluated by pyoxigraph over the whole dataset: one
query per constraint for all the focus nodes of a shape, instead of a walk of an rdflib
graph node by node (pySHACL's way, which at a million triples neither fits in memory nor
ends in minutes). SPARQL-based constraints (SHACL section 5) are in kg.pipeline.shapes.

What is compiled: targets (class, with subclasses, node, subjects-of, objects-of); on
property shapes any SHACL path; the value constraints datatype (well-formedness
included for the XSD types SPARQL can cast to), class, nodeKind, in, pattern, languageIn,
min/maxInclusive and Exclusive, min/maxLength, hasValue, and, or, not, xone, node; the
cardinalities minCount, maxCount and qualified value shapes; the pair constraints
equals, disjoint, lessThan, lessThanOrEquals; uniqueLang. A shape using anything else
is refused with its name rather than silently not checked. tests/test_validate.py checks
that the results are pySHACL's, on the curated data and on every seeded-bad fixture."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from ..namespaces import SH
from .store import term_from_rdflib

_RDF_TYPE = f"<{RDF.type}>"
# Datatypes whose lexical forms SPARQL can check by casting (an ill-formed value fails).
_CASTABLE = {XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.boolean, XSD.dateTime,
             XSD.date}
# Predicates of a shape that say nothing to check, or are checked elsewhere.
_QUIET = {RDF.type, RDFS.label, RDFS.comment, SH.message, SH.severity, SH.name,
          SH.description, SH.order, SH.group, SH.defaultValue, SH.deactivated, SH.targetClass,
          SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.sparql, SH.path,
          SH.property, SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount,
          SH.qualifiedValueShapesDisjoint, SH.minCount, SH.maxCount, SH.flags, SH.declare,
          SH.prefixes, SH.select, SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals,
          SH.uniqueLang}
_VALUE = (SH.datatype, SH["class"], SH.nodeKind, SH["in"], SH.pattern, SH.languageIn,
          SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive, SH.minLength,
          SH.maxLength, SH.hasValue, SH["and"], SH["or"], SH["not"], SH.xone, SH.node)
_COMPONENT = {SH.datatype: "Datatype", SH["class"]: "Class", SH.nodeKind: "NodeKind",
              SH["in"]: "In", SH.pattern: "Pattern", SH.languageIn: "LanguageIn",
              SH.minInclusive: "MinInclusive", SH.maxInclusive: "MaxInclusive",
              SH.minExclusive: "MinExclusive", SH.maxExclusive: "MaxExclusive",
              SH.minLength: "MinLength", SH.maxLength: "MaxLength", SH.hasValue: "HasValue",
              SH["and"]: "And", SH["or"]: "Or", SH["not"]: "Not", SH.xone: "Xone",
              SH.node: "Node", SH.minCount: "MinCount", SH.maxCount: "MaxCount",
              SH.equals: "Equals", SH.disjoint: "Disjoint", SH.lessThan: "LessThan",
              SH.lessThanOrEquals: "LessThanOrEquals", SH.uniqueLang: "UniqueLang",
              SH.qualifiedMinCount: "QualifiedMinCount",
              SH.qualifiedMaxCount: "QualifiedMaxCount"}
_NODE_KINDS = {SH.IRI: "isIRI({x})", SH.BlankNode: "isBlank({x})", SH.Literal: "isLiteral({x})",
               SH.BlankNodeOrIRI: "!isLiteral({x})", SH.BlankNodeOrLiteral: "!isIRI({x})",
               SH.IRIOrLiteral: "!isBlank({x})"}
_COMPARE = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">",
            SH.maxExclusive: "<"}


class UnsupportedShape(ValueError):
    """A shape uses a SHACL feature that this evaluator does not compile."""


@dataclass(frozen=True)
class Result:
    """One validation result, in pyoxigraph terms."""

    focus: ox.NamedNode | ox.BlankNode | ox.Literal
    path: ox.NamedNode | None
    value: ox.NamedNode | ox.BlankNode | ox.Literal | None
    component: str  # the constraint component's IRI
    message: str
    severity: str  # sh:Violation, sh:Warning or sh:Info (IRI)


def component_iri(predicate: Node) -> str:
    return f"{SH}{_COMPONENT[predicate]}ConstraintComponent"


def _term(node: Node) -> str:
    """A shapes-graph term written in SPARQL (N-Triples syntax)."""
    return str(term_from_rdflib(node))


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class _Compiler:
    """Compiles shapes to SPARQL over one store; `subclasses(C)` is C and its subclasses
    in the data."""

    def __init__(self, shapes: Graph, subclasses: Callable[[Node], list[str]]):
        self.g = shapes
        self.subclasses = subclasses
        self.n = 0
        self._owner: Node | None = None  # the shape whose sh:flags go with its sh:pattern

    def var(self) -> str:
        self.n += 1
        return f"?_{self.n}"

    def items(self, node: Node) -> list[Node]:
        return list(Collection(self.g, node))

    # ------------------------------------------------------------ paths
    def path(self, path: Node) -> str:
        if isinstance(path, URIRef):
            return f"<{path}>"
        g = self.g
        if (path, RDF.first, None) in g:
            return "(" + "/".join(self.path(p) for p in self.items(path)) + ")"
        for predicate, form in ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"),
                                (SH.oneOrMorePath, "{}+"), (SH.zeroOrOnePath, "{}?")):
            inner = g.value(path, predicate)
            if inner is not None:
                return "(" + form.format(self.path(inner)) + ")"
        alternatives = g.value(path, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p) for p in self.items(alternatives)) + ")"
        raise UnsupportedShape(f"unknown SHACL path {path}")

    # ------------------------------------------------------------ value constraints
    def is_a(self, x: str, cls: Node) -> str:
        t = self.var()
        classes = " ".join(self.subclasses(cls))
        return f"EXISTS {{ {x} {_RDF_TYPE} {t} . VALUES {t} {{ {classes} }} }}"

    def value_constraint(self, predicate: Node, arg: Node, x: str) -> str:
        """The SPARQL condition under which the value `x` meets one value constraint."""
        if predicate == SH.datatype:
            check = f"(isLiteral({x}) && datatype({x}) = <{arg}>"
            if arg in _CASTABLE:  # ill-formed lexical forms fail the cast
                check += f" && COALESCE(isLiteral(<{arg}>(STR({x}))), false)"
            return check + ")"
        if predicate == SH["class"]:
            return self.is_a(x, arg)
        if predicate == SH.nodeKind:
            return _NODE_KINDS[arg].format(x=x)
        if predicate == SH["in"]:
            return "(" + (" || ".join(f"sameTerm({x}, {_term(t)})" for t in self.items(arg))
                          or "false") + ")"
        if predicate == SH.pattern:
            flags = self.g.value(self._owner, SH.flags)
            extra = f", {_string(str(flags))}" if flags is not None else ""
            return f"(!isBlank({x}) && REGEX(STR({x}), {_string(str(arg))}{extra}))"
        if predicate == SH.languageIn:
            tags = " || ".join(f"langMatches(lang({x}), {_string(str(t))})"
                               for t in self.items(arg))
            return f"(isLiteral({x}) && ({tags or 'false'}))"
        if predicate in _COMPARE:
            return f"COALESCE({x} {_COMPARE[predicate]} {_term(arg)}, false)"
        if predicate in (SH.minLength, SH.maxLength):
            op = ">=" if predicate == SH.minLength else "<="
            return f"(!isBlank({x}) && STRLEN(STR({x})) {op} {int(arg)})"
        if predicate == SH.hasValue:
            return f"sameTerm({x}, {_term(arg)})"
        if predicate in (SH["and"], SH["or"]):
            joiner = " && " if predicate == SH["and"] else " || "
            return "(" + joiner.join(self.conforms(s, x) for s in self.items(arg)) + ")"
        if predicate == SH.xone:
            ones = " + ".join(f"IF({self.conforms(s, x)}, 1, 0)" for s in self.items(arg))
            return f"({ones} = 1)"
        if predicate == SH["not"]:
            return f"!({self.conforms(arg, x)})"
        if predicate == SH.node:
            return self.conforms(arg, x)
        raise UnsupportedShape(f"unknown constraint {predicate}")  # pragma: no cover

    def value_constraints(self, shape: Node) -> Iterator[tuple[Node, Node]]:
        for predicate, arg in self.g.predicate_objects(shape):
            if predicate in _VALUE:
                yield predicate, arg
            elif predicate not in _QUIET and str(predicate).startswith(str(SH)):
                raise UnsupportedShape(f"{shape}: {predicate} is not supported")

    def conforms(self, shape: Node, x: str) -> str:
        """The SPARQL condition under which the node `x` conforms to `shape` (used inside
        or/and/not/xone/node and qualified value shapes)."""
        if self.g.value(shape, SH.deactivated) == Literal(True):
            return "true"
        parts = []
        saved, self._owner = self._owner, shape
        path = self.g.value(shape, SH.path)
        if path is not None:
            parts.append(self.property_holds(shape, path, x))
        else:
            parts += [self.value_constraint(p, a, x) for p, a in self.value_constraints(shape)]
        for prop in self.g.objects(shape, SH.property):
            parts.append(self.property_holds(prop, self.g.value(prop, SH.path), x))
        if (shape, SH.sparql, None) in self.g:
            raise UnsupportedShape(f"{shape}: SPARQL constraints inside a nested shape")
        self._owner = saved
        return "(" + (" && ".join(parts) or "true") + ")"

    def property_holds(self, prop: Node, path: Node, x: str) -> str:
        """`x` meets every constraint of the property shape `prop`."""
        g, pe, parts = self.g, self.path(path), []
        saved, self._owner = self._owner, prop
        low, high = g.value(prop, SH.minCount), g.value(prop, SH.maxCount)
        for count, exists in ((low, "EXISTS"), (None if high is None else int(high) + 1,
                                                 "NOT EXISTS")):
            if count is None or int(count) == 0:
                if exists == "NOT EXISTS" and count is not None:
                    parts.append(f"NOT EXISTS {{ {x} {pe} [] }}")
                continue
            if int(count) > 3:
                raise UnsupportedShape(f"{prop}: a count above 3 inside a nested shape")
            names = [self.var() for _ in range(int(count))]
            distinct = " && ".join(f"!sameTerm({a}, {b})" for i, a in enumerate(names)
                                   for b in names[i + 1:]) or "true"
            parts.append(f"{exists} {{ {x} {pe} {', '.join(names)} FILTER ({distinct}) }}")
        for predicate, arg in self.value_constraints(prop):
            if predicate == SH.hasValue:
                parts.append(f"EXISTS {{ {x} {pe} {_term(arg)} }}")
                continue
            v = self.var()
            parts.append(f"NOT EXISTS {{ {x} {pe} {v} "
                         f"FILTER (!({self.value_constraint(predicate, arg, v)})) }}")
        if any(p in (SH.qualifiedValueShape, SH.equals, SH.disjoint, SH.lessThan,
                     SH.lessThanOrEquals, SH.uniqueLang, SH.property)
               for p in g.predicates(prop)):
            raise UnsupportedShape(f"{prop}: pair, qualified or nested property constraints "
                                   "inside a nested shape")
        self._owner = saved
        return "(" + (" && ".join(parts) or "true") + ")"


@dataclass(frozen=True)
class Query:
    """One constraint of one shape: a SELECT of ?this (and ?value) per result."""

    sparql: str
    component: str
    path: Node | None
    message: str
    severity: str
    target: str = ""  # the shape's focus nodes, the group that `sparql` starts with
    reads: frozenset[str] | None = None  # the predicates it can read (shape_reads)


def _message(shapes: Graph, shape: Node, component: str) -> str:
    messages = sorted(str(m) for m in shapes.objects(shape, SH.message))
    if messages:
        return messages[0]
    return f"{component.removeprefix(str(SH)).removesuffix('ConstraintComponent')} " \
           "constraint not met"


def shape_reads(shapes: Graph, shape: Node) -> frozenset[str]:
    """A superset of the predicates whose triples a shape's compiled constraints read:
    rdf:type (class targets, sh:class) and every IRI its description reaches in the
    shapes graph (paths, target properties, nested and named shapes, lists). The class
    hierarchy is read when compiling, not by the queries."""
    found, seen, todo = {str(RDF.type)}, set(), [shape]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for _, value in shapes.predicate_objects(node):
            if isinstance(value, URIRef):
                found.add(str(value))
            if not isinstance(value, Literal):
                todo.append(value)
    return frozenset(found)


def compile_queries(shapes: Graph, subclasses: Callable[[Node], list[str]],
                    focus: Iterable[ox.NamedNode | ox.BlankNode] | None = None) -> list[Query]:
    """Every core constraint of every active shape with targets, as one query each.
    With `focus`, only those nodes are validated."""
    c = _Compiler(shapes, subclasses)
    values = None
    if focus is not None:
        values = " ".join(str(n) for n in focus if not isinstance(n, ox.BlankNode))
    out: list[Query] = []
    targeted = {s for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
                            SH.targetObjectsOf) for s in shapes.subjects(p, None)}
    marks: list[tuple[int, frozenset[str]]] = []  # (start in `out`, what those read)
    for shape in sorted(targeted, key=str):
        if shapes.value(shape, SH.deactivated) == Literal(True):
            continue
        marks.append((len(out), shape_reads(shapes, shape)))
        target = _target(shapes, shape, c, values)
        severity = str(shapes.value(shape, SH.severity) or SH.Violation)
        path = shapes.value(shape, SH.path)
        if path is not None:  # a property shape with its own targets
            out += _property_queries(c, shapes, shape, shape, path, target, severity)
            continue
        c._owner = shape
        for predicate, arg in c.value_constraints(shape):
            component = component_iri(predicate)
            cond = c.value_constraint(predicate, arg, "?this")
            out.append(Query(f"SELECT ?this (?this AS ?value) WHERE {{ {target} "
                             f"FILTER (!({cond})) }}", component, None,
                             _message(shapes, shape, component), severity, target))
        targets = frozenset({str(RDF.type)} | {str(p) for key in (
            SH.targetSubjectsOf, SH.targetObjectsOf) for p in shapes.objects(shape, key)})
        for prop in shapes.objects(shape, SH.property):
            if shapes.value(prop, SH.deactivated) == Literal(True):
                continue
            prop_severity = str(shapes.value(prop, SH.severity) or SH.Violation)
            marks.append((len(out), targets | shape_reads(shapes, prop)))
            out += _property_queries(c, shapes, prop, prop, shapes.value(prop, SH.path),
                                     target, prop_severity)
    for i, (start, reads) in enumerate(marks):  # each mark runs to the next one
        end = marks[i + 1][0] if i + 1 < len(marks) else len(out)
        out[start:end] = [replace(q, reads=reads) for q in out[start:end]]
    return out


def _target(shapes: Graph, shape: Node, c: _Compiler, values: str | None) -> str:
    parts = []
    for cls in shapes.objects(shape, SH.targetClass):
        t, classes = c.var(), " ".join(c.subclasses(cls))
        parts.append(f"{{ ?this {_RDF_TYPE} {t} . VALUES {t} {{ {classes} }} }}")
    nodes = [_term(n) for n in shapes.objects(shape, SH.targetNode)]
    if nodes:
        parts.append(f"{{ VALUES ?this {{ {' '.join(nodes)} }} }}")
    for prop in shapes.objects(shape, SH.targetSubjectsOf):
        parts.append(f"{{ ?this <{prop}> [] }}")
    for prop in shapes.objects(shape, SH.targetObjectsOf):
        parts.append(f"{{ [] <{prop}> ?this }}")
    restrict = f"VALUES ?this {{ {values} }} " if values is not None else ""
    return f"{{ SELECT DISTINCT ?this WHERE {{ {restrict}{' UNION '.join(parts)} }} }}"


def _property_queries(c: _Compiler, shapes: Graph, prop: Node, owner: Node, path: Node,
                      target: str, severity: str) -> list[Query]:
    pe = c.path(path)
    shown = path if isinstance(path, URIRef) else None
    out = []

    def add(sparql: str, predicate: Node) -> None:
        component = component_iri(predicate)
        out.append(Query(sparql, component, shown, _message(shapes, owner, component),
                         severity, target))

    low, high = shapes.value(prop, SH.minCount), shapes.value(prop, SH.maxCount)
    if low is not None and int(low) == 1:
        add(f"SELECT ?this WHERE {{ {target} FILTER NOT EXISTS {{ ?this {pe} [] }} }}",
            SH.minCount)
    elif low is not None and int(low) > 1:
        add(f"SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {pe} ?v }} }} GROUP BY ?this "
            f"HAVING (COUNT(DISTINCT ?v) < {int(low)})", SH.minCount)
    if high is not None:
        add(f"SELECT ?this WHERE {{ {target} ?this {pe} ?v }} GROUP BY ?this "
            f"HAVING (COUNT(DISTINCT ?v) > {int(high)})", SH.maxCount)
    c._owner = prop
    for predicate, arg in c.value_constraints(prop):
        if predicate == SH.hasValue:
            add(f"SELECT ?this WHERE {{ {target} FILTER NOT EXISTS "
                f"{{ ?this {pe} {_term(arg)} }} }}", predicate)
            continue
        c._owner = prop
        cond = c.value_constraint(predicate, arg, "?value")
        add(f"SELECT ?this ?value WHERE {{ {target} ?this {pe} ?value FILTER (!({cond})) }}",
            predicate)
    qualified = shapes.value(prop, SH.qualifiedValueShape)
    if qualified is not None:
        if shapes.value(prop, SH.qualifiedValueShapesDisjoint) == Literal(True):
            raise UnsupportedShape(f"{prop}: sh:qualifiedValueShapesDisjoint")
        cond = c.conforms(qualified, "?v")
        qmin, qmax = (shapes.value(prop, SH.qualifiedMinCount),
                      shapes.value(prop, SH.qualifiedMaxCount))
        if qmin is not None:
            add(f"SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {pe} ?v FILTER ({cond}) }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {int(qmin)})",
                SH.qualifiedMinCount)
        if qmax is not None:
            add(f"SELECT ?this WHERE {{ {target} ?this {pe} ?v FILTER ({cond}) }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {int(qmax)})",
                SH.qualifiedMaxCount)
    for predicate, op in ((SH.lessThan, "<"), (SH.lessThanOrEquals, "<=")):
        for other in shapes.objects(prop, predicate):
            add(f"SELECT ?this ?value WHERE {{ {target} ?this {pe} ?value . "
                f"?this <{other}> ?w FILTER (!COALESCE(?value {op} ?w, false)) }}", predicate)
    for other in shapes.objects(prop, SH.equals):
        add(f"SELECT ?this ?value WHERE {{ {target} {{ ?this {pe} ?value FILTER NOT EXISTS "
            f"{{ ?this <{other}> ?value }} }} UNION {{ ?this <{other}> ?value "
            f"FILTER NOT EXISTS {{ ?this {pe} ?value }} }} }}", SH.equals)
    for other in shapes.objects(prop, SH.disjoint):
        add(f"SELECT ?this ?value WHERE {{ {target} ?this {pe} ?value . "
            f"?this <{other}> ?value }}", SH.disjoint)
    if shapes.value(prop, SH.uniqueLang) == Literal(True):
        add(f"SELECT DISTINCT ?this WHERE {{ {target} ?this {pe} ?a , ?b "
            "FILTER (!sameTerm(?a, ?b) && lang(?a) != \"\" && lang(?a) = lang(?b)) }",
            SH.uniqueLang)
    for nested in shapes.objects(prop, SH.property):
        raise UnsupportedShape(f"{prop}: a property shape inside a property shape ({nested})")
    return out


def evaluate(run: Callable[[str], Iterable], queries: Iterable[Query]) -> list[Result]:
    """Run each query (with `run`, over the data graph) and gather its results."""
    out = []
    for q in queries:
        for solution in run(q.sparql):
            this = solution["this"]
            try:
                value = solution["value"]
            except KeyError:
                value = None
            out.append(Result(this, ox.NamedNode(str(q.path)) if q.path is not None else None,
                              value, q.component, q.message, q.severity))
    return out


def subclass_reader(run: Callable[[str], Iterable]) -> Callable[[Node], list[str]]:
    """C and its subclasses (rdfs:subClassOf*, in the data), cached per class."""
    cache: dict[Node, list[str]] = {}

    def subclasses(cls: Node) -> list[str]:
        if cls not in cache:
            found = {str(s["c"]) for s in run(
                f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* {_term(cls)} }}")}
            cache[cls] = sorted(found | {_term(cls)})
        return cache[cls]

    return subclasses


__all__ = ["Query", "Result", "UnsupportedShape", "compile_queries", "evaluate", "subclass_reader"]
