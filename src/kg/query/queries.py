"""Named queries: `queries/*.rq`, each with a header of SPARQL comments that the CLI, the
HTTP API and the tests all read from this one registry.

Header grammar (every line stays a SPARQL comment)::

    #+ title: Case studies by technology
    #+ description: Which case studies use a technology, with backend and scale (CQ2).
    #+ param: tech: iri = wfr:temporal -- the technology
    #+ param: limit: integer optional -- at most this many rows
    #+ example: kg query cases-by-technology --param tech=wfr:temporal

A parameter with neither a default nor `optional` is required. Types: iri, string,
integer, decimal, boolean, date. Values are bound as RDF terms, never spliced into text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from ..errors import ParameterError, QueryError, QueryNotFound
from ..namespaces import expand

XSD = "http://www.w3.org/2001/XMLSchema#"
PARAM_TYPES = ("iri", "string", "integer", "decimal", "boolean", "date")
_HEADER = re.compile(r"^#\+\s*(\w+)\s*:\s*(.*)$")
_PARAM = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<type>\w+)"
    r"(?:\s*=\s*(?P<default>\S+))?(?P<optional>\s+optional)?\s*(?:--\s*(?P<doc>.*))?$")


_CONCAT = re.compile(r'GROUP_CONCAT\((?:[^()]|\([^()]*(?:\([^()]*\)[^()]*)*\))*?;\s*'
                     r'separator\s*=\s*"(?P<sep>[^"]*)"\s*\)\s*AS\s*\?(?P<var>\w+)',
                     re.IGNORECASE)
Resolver = Callable[[str, str], ox.NamedNode]  # (text, parameter name) -> the resource


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None = None
    optional: bool = False
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional

    def to_term(self, raw: str, resolve: Resolver | None = None) -> ox.NamedNode | ox.Literal:
        """Convert a user's text to an RDF term of this parameter's type. With `resolve`
        (see kg.query.terms.resolve), an IRI may be given as a label or a local name."""
        if self.type != "string" and not raw.strip():
            raise ParameterError(f"parameter {self.name!r} expects {self.type}, got nothing")
        try:
            if self.type == "iri":
                if resolve is not None:
                    return resolve(raw, self.name)
                return ox.NamedNode(expand(raw))
            if self.type == "string":
                return ox.Literal(raw)
            if self.type == "integer":
                return ox.Literal(str(int(raw)), datatype=ox.NamedNode(XSD + "integer"))
            if self.type == "decimal":
                return ox.Literal(str(Decimal(raw)), datatype=ox.NamedNode(XSD + "decimal"))
            if self.type == "boolean":
                if raw.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(raw)
                value = "true" if raw.lower() in ("true", "1") else "false"
                return ox.Literal(value, datatype=ox.NamedNode(XSD + "boolean"))
            if self.type == "date":
                return ox.Literal(date.fromisoformat(raw).isoformat(),
                                  datatype=ox.NamedNode(XSD + "date"))
        except (ValueError, InvalidOperation) as err:
            raise ParameterError(
                f"parameter {self.name!r} expects {self.type}, got {raw!r}") from err
        raise ParameterError(f"parameter {self.name!r} has unknown type {self.type!r}")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    title: str
    description: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    examples: tuple[str, ...] = field(default_factory=tuple)

    def tidy(self, result):
        """The answer with each GROUP_CONCAT cell's items sorted, so that a table is the
        same on every store and every run (QueryResult.sorted_lists)."""
        return result.sorted_lists(concatenated(self.text))

    @property
    def form(self) -> str:
        """SELECT, ASK, CONSTRUCT or DESCRIBE."""
        body = "\n".join(line for line in self.text.splitlines()
                         if not line.lstrip().startswith("#"))
        body = re.sub(r"(?is)^\s*((PREFIX|BASE)\s+[^\n]*\n\s*)*", "", body)
        match = re.match(r"\s*(\w+)", body)
        return match.group(1).upper() if match else "SELECT"

    def bindings(self, values: dict[str, str], resolve: Resolver | None = None
                 ) -> dict[str, ox.NamedNode | ox.Literal]:
        """Check `values` against the declared parameters and convert them to terms."""
        declared = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise unknown_parameters(f"query {self.name!r}", unknown, list(declared))
        out = {}
        for param in self.parameters:
            raw = values.get(param.name, param.default)
            if raw is None:
                if param.required:
                    raise ParameterError(
                        f"query {self.name!r} needs parameter {param.name!r} ({param.type})")
                continue
            out[param.name] = param.to_term(raw, resolve)
        return out


def unknown_parameters(owner: str, unknown: Iterable[str], known: list[str]
                       ) -> ParameterError:
    """The error for parameters `owner` does not take (a named query, an HTTP route),
    each with the closest one it does: a misspelt one is otherwise easy to miss."""
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        parts.append(repr(name) + (f" (did you mean {close[0]!r}?)" if close else ""))
    return ParameterError(f"{owner} has no parameter {', '.join(parts)}; it takes: "
                          f"{', '.join(known) or 'none'}")


def concatenated(sparql: str) -> dict[str, str]:
    """The columns a query fills with GROUP_CONCAT, with their separators."""
    return {m.group("var"): m.group("sep") for m in _CONCAT.finditer(sparql)}


def parse_header(name: str, path: Path, text: str) -> NamedQuery:
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if match:
            fields.setdefault(match.group(1).lower(), []).append(match.group(2).strip())
    if "title" not in fields:
        raise QueryError(f"{path}: the header has no '#+ title:' line")
    params = []
    for spec in fields.get("param", []):
        match = _PARAM.match(spec)
        if not match or match.group("type") not in PARAM_TYPES:
            raise QueryError(f"{path}: cannot read parameter {spec!r} "
                             f"(expected 'name: type [= default] [optional] -- text', "
                             f"type one of {', '.join(PARAM_TYPES)})")
        params.append(Parameter(match.group("name"), match.group("type"),
                                match.group("default"), bool(match.group("optional")),
                                (match.group("doc") or "").strip()))
    return NamedQuery(name=name, path=path, text=text, title=fields["title"][0],
                      description=" ".join(fields.get("description", [])),
                      parameters=tuple(params), examples=tuple(fields.get("example", [])))


class QueryRegistry:
    """All named queries of a folder, by name (the file name without `.rq`)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._queries = {}
        for path in sorted(folder.glob("*.rq")):
            query = parse_header(path.stem, path, path.read_text(encoding="utf-8"))
            self._queries[query.name] = query

    def __iter__(self):
        return iter(self._queries.values())

    def __len__(self) -> int:
        return len(self._queries)

    def get(self, name: str) -> NamedQuery:
        try:
            return self._queries[name]
        except KeyError:
            close = [n for n in self._queries if name in n or n in name]
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise QueryNotFound(f"no named query {name!r}{hint} (see `kg queries`)") from None


def where_group_start(sparql: str) -> int | None:
    """Index just after the `{` opening the outermost WHERE group, skipping comments,
    strings and IRIs; None if the query has no `WHERE {`."""
    i, n = 0, len(sparql)
    while i < n:
        c = sparql[i]
        if c == "#":
            i = sparql.find("\n", i)
            if i < 0:
                return None
        elif c in "\"'":
            quote = sparql[i:i + 3] if sparql[i:i + 3] in ('"""', "'''") else c
            i += len(quote)
            while i < n and not sparql.startswith(quote, i):
                i += 2 if sparql[i] == "\\" else 1
            i += len(quote) - 1
        elif c == "<" and re.match(r"<[^\s<>\"{}|^`\\]*>", sparql[i:]):
            i = sparql.index(">", i)
        elif (c in "wW" and sparql[i:i + 5].upper() == "WHERE"
              and (i == 0 or not (sparql[i - 1].isalnum() or sparql[i - 1] in "_?$:"))):
            match = re.compile(r"\s*\{").match(sparql, i + 5)
            if match:
                return match.end()
        i += 1
    return None


def values_block(terms: Iterable[ox.NamedNode | ox.Literal]) -> str:
    """A VALUES block body from RDF terms (their N-Triples form, never spliced text)."""
    return " ".join(str(t) for t in terms)


def with_values(sparql: str, bindings: dict[str, ox.NamedNode | ox.Literal]) -> str:
    """Bind variables by a VALUES block at the top of the outermost WHERE group. The block
    is written from RDF terms (their N-Triples form), never from user text."""
    if not bindings:
        return sparql
    at = where_group_start(sparql)
    if at is None:
        raise QueryError("a query with parameters needs a 'WHERE {' group")
    block = " ".join(f"VALUES ?{name} {{ {term} }}" for name, term in sorted(bindings.items())
                     if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name))
    return f"{sparql[:at]}\n  {block}\n{sparql[at:]}"
