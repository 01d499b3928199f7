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

from .errors import ProjectError, QueryError
from .evidence.paths import LinkGraph
from .evidence.paths import Path as LinkPath
from .evidence.views import in_view
from .namespaces import META_GRAPH, expand, shorten
from .paper.bibimport import ImportReport, import_library
from .paper.cite import (
    DatasetRecord,
    Entry,
    dataset_record,
    entries_for,
    entries_for_answer,
    entries_for_facts,
    keep_verified,
    render,
)
from .pipeline import build as build_module
from .pipeline.build import BuildResult, Progress
from .pipeline.evidence import EVIDENCE_VIEWS, verified_view
from .pipeline.project import Project, find_project
from .pipeline.reason import ConsistencyReport, check_consistency
from .pipeline.remote import PushPlan, RemoteStore
from .pipeline.shapes import ValidationReport
from .pipeline.store import EmbeddedStore, StoreLayout
from .query.queries import NamedQuery, QueryRegistry
from .query.results import GRAPH_FORMATS, QueryResult, prefixes_for
from .query.terms import resolve_all

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
                 store: str | os.PathLike[str] | None = None,
                 endpoint: str | None = None, update_endpoint: str | None = None,
                 store_endpoint: str | None = None, store_kind: str = "auto"):
        self.project: Project = find_project(project, store)
        # With an endpoint, queries, stats and export run on that SPARQL server.
        self.remote: RemoteStore | None = (
            RemoteStore(endpoint, update_endpoint=update_endpoint,
                        store_endpoint=store_endpoint, kind=store_kind) if endpoint else None)

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
        """Compile ontology/ and data/ into the store; see kg.pipeline.build.build."""
        result = build_module.build(self.project, force=force, progress=progress)
        self.reopen()
        return result

    def check(self, paths: Sequence[str | os.PathLike[str]] | None = None, *,
              progress: Progress | None = None) -> ConsistencyReport:
        """OWL DL consistency of the ontology and data with HermiT."""
        resolved = [Path(p).resolve() for p in paths] if paths else None
        compiled = build_module.compile_inputs(self.project, resolved, progress=progress)
        if progress:
            progress("running HermiT")
        return check_consistency(compiled.asserted())

    # ------------------------------------------------------------- the store
    @cached_property
    def store(self) -> EmbeddedStore | RemoteStore:
        if self.remote is not None:
            return self.remote
        return EmbeddedStore(self.project.store_dir)

    def reopen(self) -> None:
        """Reopen the embedded store if a build or update swapped in a new one since it
        was opened (a long-running process, such as the HTTP service, calls this)."""
        opened = self.__dict__.get("store")
        if isinstance(opened, EmbeddedStore) and (
                opened.path != StoreLayout(self.project.store_dir).live()):
            del self.__dict__["store"]

    def push(self, *, dry_run: bool = False, progress: Progress | None = None) -> PushPlan:
        """Send the built embedded dataset to the remote store: the named graphs whose
        content changed since the last push, all or none; see
        kg.pipeline.remote.RemoteStore.push."""
        if self.remote is None:
            raise ProjectError("no remote endpoint: give --endpoint or set KG_ENDPOINT")
        return self.remote.push(EmbeddedStore(self.project.store_dir).quads(),
                                dry_run=dry_run, progress=progress)

    def view(self, evidence: str = "all") -> list[str] | None:
        """The default graph of an evidence view: None (every graph) for "all"; for
        "verified", every named graph but those holding facts only Unverified statements
        state (see kg.pipeline.evidence)."""
        if evidence not in EVIDENCE_VIEWS:
            raise QueryError(f"unknown evidence view {evidence!r}; choose "
                             f"{' or '.join(EVIDENCE_VIEWS)}")
        if evidence == "all":
            return None
        return verified_view(self.store.named_graphs())

    def sparql(self, text: str, *, bindings: Mapping[str, object] | None = None,
               evidence: str = "all", labels: str | None = None,
               time_limit: float | None = None) -> QueryResult:
        """Run SPARQL text against the store (all graphs as the default graph, or the
        verified view with evidence="verified"). With `labels` (a language tag such as
        "en" or "zh"), each IRI column gets a label column in that language (see
        QueryResult.with_labels). In the verified view, a row that rests on a fact no
        source verifies is left out too (counted in `withheld`; see kg.evidence.views).
        With `time_limit` (seconds), the query runs in a worker process that is stopped
        at the limit, as `kg serve` runs it (without the service's row limit)."""
        if time_limit is None:
            result = self.store.query(text, bindings=bindings,
                                      default_graph=self.view(evidence))
        else:
            result = self._time_limited(text, bindings, time_limit, self.view(evidence))
        result = in_view(self.store, result, evidence)
        return self.labelled(result, labels) if labels else result

    def _time_limited(self, text: str, bindings: Mapping[str, object] | None,
                      seconds: float, default_graph: list[str] | None) -> QueryResult:
        from .query.guard import Policy
        from .workers import QueryRunner

        runner = QueryRunner(self, Policy(time_limit=seconds, max_rows=10**9,
                                          max_result_bytes=10**12), workers=1)
        try:
            return runner.query(text, bindings=bindings, default_graph=default_graph)
        finally:
            runner.close()

    def query_input(self, name_or_file: str | None = None, expression: str | None = None,
                    params: Mapping[str, str] | None = None) -> tuple[str, dict, bool]:
        """What `kg query` runs: the SPARQL text and bindings of a named query, a .rq
        file (its header's parameters, if it has one) or inline text, and whether to warn
        about unknown terms (inline and file queries; the named queries are tested)."""
        params = dict(params or {})
        if expression is not None:
            if name_or_file:
                raise QueryError("give a query name/file or -e, not both")
            return expression, {}, True
        if not name_or_file:
            raise QueryError("give a named query (see `kg queries`), a .rq file, or -e SPARQL")
        path = Path(name_or_file)
        if path.is_file():
            from .query.queries import parse_header

            text = path.read_text(encoding="utf-8")
            try:
                bindings = parse_header(path.stem, path, text).bindings(params, self.resolve)
            except QueryError:
                if params:
                    raise
                bindings = {}
            return text, bindings, True
        if path.suffix == ".rq" or "/" in name_or_file:
            raise QueryError(f"file not found: {name_or_file}")
        named = self.named(name_or_file)
        return named.text, named.bindings(params, self.resolve), False
    def labelled(self, result: QueryResult, language: str) -> QueryResult:
        """`result` with label columns in `language` (else English, else any label)."""
        iris = sorted({t.value for row in result.rows() for t in row.values()
                       if isinstance(t, ox.NamedNode)})
        if not iris:
            return result
        values = " ".join(str(ox.NamedNode(iri)) for iri in iris)  # a VALUES block of terms
        rows = self.store.query(
            f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x rdfs:label ?l }}").rows()
        best: dict[str, tuple[int, str]] = {}
        for row in rows:
            tag = row["l"].language or ""
            rank = 0 if tag == language else 1 if tag == "en" else 2
            iri = row["x"].value
            if iri not in best or (rank, row["l"].value) < best[iri]:
                best[iri] = (rank, row["l"].value)
        return result.with_labels({iri: label for iri, (_, label) in best.items()})

    def named(self, name: str) -> NamedQuery:
        return self.queries.get(name)

    def query(self, name: str, params: Mapping[str, str] | None = None, *,
              evidence: str = "all", labels: str | None = None) -> QueryResult:
        """Run a named query with parameters given as text (converted to RDF terms); in
        the verified view, rows that rest on unverified facts are left out (kg.views).
        `labels` (e.g. "zh") adds a label column in that language after each IRI column."""
        named = self.queries.get(name)
        result = self.store.query(named.text,
                                  bindings=named.bindings(dict(params or {}), self.resolve),
                                  default_graph=self.view(evidence))
        result = named.tidy(in_view(self.store, result, evidence))
        return self.labelled(result, labels) if labels else result

    def resolve(self, text: str, parameter: str = "value") -> ox.NamedNode:
        """The resource a label, local name, prefixed name or IRI names (case-insensitive
        labels in any language); ParameterError with candidates otherwise. See kg.query.terms."""
        from .query.terms import resolve

        return resolve(self.store, text, parameter=parameter)

    def warnings(self, sparql: str) -> list[str]:
        """Terms of the project's namespaces in `sparql` that the graph does not know."""
        from .query.terms import undeclared

        return undeclared(self.store, sparql)

    def stats(self) -> Stats:
        classes = self.sparql(
            "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } "
            "GROUP BY ?class ORDER BY DESC(?n) ?class")
        graphs = self.store.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
            default_graph=[], named_graphs=self.store.named_graphs())
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
        return ox.serialize(sorted(triples, key=str), format=rdf_format,
                            prefixes=prefixes_for(fmt)) or b""

    # ------------------------------------------------------------- citing and paths
    def citations(self, names: Sequence[str] = (), *, query: str | None = None,
                  params: Mapping[str, str] | None = None, dataset: bool = False,
                  evidence: str = "all", path: tuple[str, str] | None = None,
                  path_limit: int = 1) -> list[Entry]:
        """The sources behind resources (`wfr:temporal`, full IRIs, ...) and/or behind
        exactly the facts a named query's answer rests on, or the facts of the shortest
        path(s) between two resources (`path=(a, b)`), each marked as supporting or
        disputing; with `dataset`, the built dataset's own entry first. An unknown
        resource raises ResourceNotFound with suggestions. With evidence="verified" the
        query runs on the verified view and only sources of Verified facts count."""
        self.view(evidence)  # rejects an unknown view
        iris = resolve_all(self.store, names) if names else []
        entries = {e.key: e for e in entries_for(self.store, iris)} if names else {}
        found: list[Entry] = []
        if query is not None:
            answer = self.query(query, params, evidence=evidence)
            found += entries_for_answer(self.store, answer)
        if path is not None:
            a, b = resolve_all(self.store, list(path))
            facts = {f for p in self.links(evidence).paths(a, b, limit=path_limit)
                     for f in p.facts}
            found += entries_for_facts(self.store, facts)
        for entry in found:
            if entry.key in entries:
                entry = entries[entry.key].merged(entry)
            entries[entry.key] = entry
        found = sorted(entries.values(), key=lambda e: e.key)
        if evidence == "verified":
            found = keep_verified(self.store, found)
        return [Entry(self.dataset().reference), *found] if dataset else found

    def dataset(self) -> DatasetRecord:
        """The built dataset's own record (version, build date, input hash, IRI)."""
        return dataset_record(self.store)

    def cite(self, names: Sequence[str] = (), *, query: str | None = None,
             params: Mapping[str, str] | None = None, dataset: bool = False,
             fmt: str = "biblatex", style: str = "apa", evidence: str = "all",
             path: tuple[str, str] | None = None) -> str:
        """The sources behind resources, a query answer or a path (and, with `dataset`,
        the dataset itself) as BibTeX (biblatex or classic), CSL-JSON, RIS or a formatted
        list (see kg.paper.cite)."""
        entries = self.citations(names, query=query, params=params, dataset=dataset,
                                 evidence=evidence, path=path)
        return render(entries, fmt, style=style)

    def import_library(self, library: str | os.PathLike[str], *, update: bool = False,
                       target: str | None = None) -> ImportReport:
        """Import a Zotero / Better BibTeX export (.bib, CSL .json, .ris) as source
        records in data/ (see kg.paper.bibimport); run build afterwards."""
        return import_library(self.project.root, library, update=update, target=target,
                              validate=self.validate)

    def paths(self, a: str, b: str, *, limit: int = 3, evidence: str = "all"
              ) -> list[LinkPath]:
        """Shortest explained paths between two resources; with evidence="verified",
        only through facts a cited source states."""
        return self.links(evidence).paths(expand(a), expand(b), limit=limit)

    def links(self, evidence: str = "all") -> LinkGraph:
        """The link graph that paths walk, in an evidence view."""
        return LinkGraph(self.store, default_graph=self.view(evidence))
