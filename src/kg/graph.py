"""The Python API: one object that does what the CLI does, for scripts and notebooks.

>>> from kg import KnowledgeGraph
>>> graph = KnowledgeGraph()                      # doctest: +SKIP
>>> graph.build()                                 # doctest: +SKIP
>>> graph.query("unverified").rows()              # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox

from . import build as build_module
from .build import BuildResult, Progress
from .namespaces import META_GRAPH, shorten
from .project import Project, find_project
from .queries import NamedQuery, QueryRegistry
from .reason import ConsistencyReport, check_consistency
from .results import GRAPH_FORMATS, QueryResult
from .shapes import ValidationReport, union
from .store import EmbeddedStore

EXPORT_FORMATS = ("ttl", "nt", "nq", "trig", "jsonld")


@dataclass
class Stats:
    """Counts per class (instances, inferred types included) and per named graph."""

    classes: dict[str, int]
    graphs: dict[str, int]
    info: dict


class KnowledgeGraph:
    """A Workflow KG project and its store."""

    def __init__(self, project: str | os.PathLike[str] | None = None, *,
                 store: str | os.PathLike[str] | None = None):
        self.project: Project = find_project(project, store)

    # ------------------------------------------------------------- inputs
    @cached_property
    def queries(self) -> QueryRegistry:
        return QueryRegistry(self.project.queries_dir)

    def validate(self, paths: Sequence[str | os.PathLike[str]] | None = None, *,
                 progress: Progress | None = None) -> ValidationReport:
        """SHACL-validate files or folders (default: ontology/ and data/)."""
        resolved = [Path(p).resolve() for p in paths] if paths else None
        return build_module.validate(self.project, resolved, progress=progress)

    def build(self, *, force: bool = False, progress: Progress | None = None) -> BuildResult:
        """Compile ontology/ and data/ into the store; see kg.build.build."""
        result = build_module.build(self.project, force=force, progress=progress)
        self.__dict__.pop("store", None)
        return result

    def check(self, paths: Sequence[str | os.PathLike[str]] | None = None, *,
              progress: Progress | None = None) -> ConsistencyReport:
        """OWL DL consistency of the ontology and data with HermiT."""
        resolved = [Path(p).resolve() for p in paths] if paths else None
        compiled = build_module.compile_inputs(self.project, resolved, progress=progress)
        if progress:
            progress("running HermiT")
        return check_consistency(union(compiled.ontology + compiled.data))

    # ------------------------------------------------------------- the store
    @cached_property
    def store(self) -> EmbeddedStore:
        return EmbeddedStore(self.project.store_dir)

    def sparql(self, text: str, *, bindings: Mapping[str, object] | None = None
               ) -> QueryResult:
        """Run SPARQL text against the store (all graphs as the default graph)."""
        return self.store.query(text, bindings=bindings)

    def named(self, name: str) -> NamedQuery:
        return self.queries.get(name)

    def query(self, name: str, params: Mapping[str, str] | None = None) -> QueryResult:
        """Run a named query with parameters given as text (converted to RDF terms)."""
        named = self.queries.get(name)
        return self.store.query(named.text, bindings=named.bindings(dict(params or {})))

    def stats(self) -> Stats:
        classes = self.sparql(
            "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } "
            "GROUP BY ?class ORDER BY DESC(?n) ?class")
        graphs = self.store.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
            default_graph=[])
        return Stats(
            classes={shorten(r["class"].value): int(r["n"].value) for r in classes.rows()},
            graphs={r["g"].value: int(r["n"].value) for r in graphs.rows()
                    if r["g"].value != str(META_GRAPH)},
            info=self.store.info)

    def export(self, fmt: str = "ttl") -> bytes:
        """The whole dataset: triple formats merge all graphs, quad formats keep them."""
        if fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {fmt!r}; choose one of "
                             f"{', '.join(EXPORT_FORMATS)}")
        quads = list(self.store.quads())
        rdf_format = GRAPH_FORMATS[fmt]
        if rdf_format.supports_datasets:
            return ox.serialize(quads, format=rdf_format) or b""
        triples = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
        from .namespaces import PREFIXES

        prefixes = dict(PREFIXES) if fmt == "ttl" else None
        ordered = sorted(triples, key=str)
        return ox.serialize(ordered, format=rdf_format, prefixes=prefixes) or b""
