"""Parse the project's RDF files, one rdflib graph per file or straight into a
pyoxigraph store (one named graph per file: how a build reads them, with no rdflib copy),
with syntax errors that name the file and line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from ..errors import RdfSyntaxError, SyntaxProblem
from ..namespaces import GRAPH, PREFIXES
from .project import RDF_SUFFIXES

_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
               "nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
               "json-ld": ox.RdfFormat.JSON_LD, "xml": ox.RdfFormat.RDF_XML}


@dataclass
class SourceFile:
    """One parsed input file and the named graph it is loaded into."""

    path: Path
    name: str  # as shown to users, e.g. data/cases.ttl
    graph: Graph | None  # None when the file was loaded into a store (load_into)

    @property
    def graph_iri(self) -> str:
        return str(GRAPH[self.name])


def parse_file(path: Path, name: str | None = None) -> SourceFile:
    """Parse one RDF file; raise RdfSyntaxError naming the file and line."""
    name = name or str(path)
    fmt = RDF_SUFFIXES.get(path.suffix)
    if fmt is None:
        raise RdfSyntaxError(SyntaxProblem(name, None, f"unknown RDF file type {path.suffix!r}"))
    try:
        data = path.read_bytes()
    except OSError as err:
        raise RdfSyntaxError(SyntaxProblem(name, None, f"cannot read: {err.strerror}")) from err
    try:
        # pyoxigraph's parser reports exact, 1-based positions; rdflib's do not.
        for _ in ox.parse(data, format=_OX_FORMATS[fmt], base_iri=path.resolve().as_uri()):
            pass
    except SyntaxError as err:
        message = str(err.msg if hasattr(err, "msg") else err)
        message = message.split(f" ({err.filename}", 1)[0] if err.filename else message
        raise RdfSyntaxError(SyntaxProblem(name, err.lineno, message)) from err
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    try:
        graph.parse(data=data, format=fmt, publicID=path.resolve().as_uri())
    except Exception as err:  # rdflib raises many types; each is a syntax problem here
        line = getattr(err, "lines", None)
        raise RdfSyntaxError(SyntaxProblem(name, line + 1 if line is not None else None,
                                           str(getattr(err, "_why", err)))) from err
    return SourceFile(path=path, name=name, graph=graph)


def parse_files(paths: Iterable[Path], *, display: Callable[[Path], str] = str,
                progress: Callable[[str], None] | None = None) -> list[SourceFile]:
    """Parse every file; stop at the first syntax error."""
    files = []
    for path in paths:
        if progress:
            progress(f"parsing {display(path)}")
        files.append(parse_file(path, display(path)))
    return files


def load_into(store: ox.Store, paths: Iterable[Path], *, display: Callable[[Path], str] = str,
              progress: Callable[[str], None] | None = None) -> list[SourceFile]:
    """Load every file into `store`, each into its own named graph (SourceFile.graph_iri),
    with pyoxigraph's parser; stop at the first syntax error (RdfSyntaxError naming the
    file and line). The returned files carry no rdflib graph."""
    files = []
    for path in paths:
        name = display(path)
        if progress:
            progress(f"parsing {name}")
        fmt = RDF_SUFFIXES.get(path.suffix)
        source = SourceFile(path=path, name=name, graph=None)
        try:
            data = path.read_bytes()
            store.load(data, format=_OX_FORMATS[fmt], base_iri=path.resolve().as_uri(),
                       to_graph=ox.NamedNode(source.graph_iri))
        except (KeyError, OSError, SyntaxError):
            parse_file(path, name)  # raises the error, worded as for any parse
            raise
        files.append(source)
    return files
