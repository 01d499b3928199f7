"""Validated, transactional updates of the embedded store (SPARQL 1.1 Update and Graph
Store Protocol writes, as the HTTP service accepts them with the update token).

An update is applied to a copy of the live dataset in memory, the result is validated
against the project's SHACL shapes (the same check as `kg build`), the OWL 2 RL
inferences are recomputed, and a new store is written and swapped in atomically under
the build lock, exactly like a build. A rejected update changes nothing.

Updates write the store, not the files in data/: `kg export` keeps them; a `kg build`
after the input files change starts again from the files. Statement nodes added by an
update are stored as given (the plain triple is not derived as at build time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from .errors import SparqlSyntaxError, StoreNotBuilt, UnsupportedInput, ValidationFailed
from .guard import Policy, check_update
from .load import parse_files
from .namespaces import GRAPH, INFERRED_GRAPH, META_GRAPH, PREFIXES
from .project import Project
from .reason import materialise
from .shapes import ValidationReport, validate_graph
from .store import StoreLayout, term_from_rdflib, term_to_rdflib


@dataclass
class UpdateResult:
    """What an accepted update did."""

    store_path: Path
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI -> triples after
    change: int = 0  # asserted triples after minus before
    seconds: float = 0.0


def apply_update(project: Project, sparql: str, *, policy: Policy | None = None
                 ) -> UpdateResult:
    """Run a SPARQL 1.1 Update (refused: LOAD, SERVICE outside the allow-list)."""
    check_update(sparql, policy)

    def change(store: ox.Store) -> None:
        try:
            store.update(sparql, prefixes=PREFIXES)
        except SyntaxError as err:
            raise SparqlSyntaxError(str(err)) from err
        except OSError as err:
            raise SparqlSyntaxError(f"the update failed: {err}") from err

    return _apply(project, change)


def write_graph(project: Project, graph: str | None, data: bytes, media_type: str, *,
                replace: bool) -> UpdateResult:
    """Graph Store Protocol PUT (`replace`) or POST (merge) of RDF into one graph
    (None: the default graph)."""
    rdf_format = ox.RdfFormat.from_media_type(media_type.split(";")[0].strip())
    if rdf_format is None or rdf_format.supports_datasets:
        raise UnsupportedInput(f"cannot read {media_type!r} as a graph; send Turtle, "
                               "N-Triples, JSON-LD or RDF/XML")
    target = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    try:
        triples = [q.triple for q in ox.parse(data, format=rdf_format)]
    except SyntaxError as err:
        raise UnsupportedInput(f"the body is not valid {media_type}: {err}") from err

    def change(store: ox.Store) -> None:
        if replace:
            store.remove_graph(target) if graph is not None else store.clear_graph(target)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, target) for t in triples)

    return _apply(project, change)


def delete_graph(project: Project, graph: str | None) -> UpdateResult:
    """Graph Store Protocol DELETE of one graph (None: empty the default graph)."""
    target = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)

    def change(store: ox.Store) -> None:
        if graph is None:
            store.clear_graph(target)
        else:
            store.remove_graph(target)

    return _apply(project, change)


def _graph_of(store: ox.Store, names: set[str]) -> Graph:
    """An rdflib graph of the triples of every graph except `names` (the default too)."""
    graph = Graph()
    for quad in store.quads_for_pattern(None, None, None, None):
        name = quad.graph_name
        if isinstance(name, ox.NamedNode) and name.value in names:
            continue
        graph.add(tuple(term_to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
    return graph


def validate_store(project: Project, store: ox.Store) -> ValidationReport:
    """SHACL-validate the asserted triples of a dataset (all graphs but the shapes, the
    inferences and the build metadata) against the project's shapes."""
    shapes = parse_files([project.shapes_file], display=project.relative)[0]
    data = _graph_of(store, {shapes.graph_iri, str(INFERRED_GRAPH), str(META_GRAPH)})
    return validate_graph(data, shapes.graph)


def _count(store: ox.Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        name = quad.graph_name
        key = name.value if isinstance(name, ox.NamedNode) else "default"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _apply(project: Project, change: Callable[[ox.Store], None]) -> UpdateResult:
    started = time.monotonic()
    layout = StoreLayout(project.store_dir)
    with layout.locked():
        live = layout.live()
        if live is None:
            raise StoreNotBuilt(f"no store in {project.store_dir}: run `kg build` first")
        working = ox.Store()  # in memory: the copy the update is applied to
        working.extend(ox.Store.read_only(str(live)).quads_for_pattern(None, None, None, None))
        inferred_name = ox.NamedNode(str(INFERRED_GRAPH))

        def asserted_size() -> int:
            return len(working) - sum(
                1 for _ in working.quads_for_pattern(None, None, None, inferred_name))

        before = asserted_size()
        change(working)
        after = asserted_size()
        report = validate_store(project, working)
        if not report.conforms:
            raise ValidationFailed(report)
        shapes_iri = str(GRAPH[project.relative(project.shapes_file)])
        asserted = _graph_of(working, {shapes_iri, str(INFERRED_GRAPH), str(META_GRAPH)})
        working.remove_graph(inferred_name)
        working.extend(ox.Quad(term_from_rdflib(s), term_from_rdflib(p), term_from_rdflib(o),
                               inferred_name) for s, p, o in materialise(asserted))
        partial = layout.new_partial()
        store = ox.Store(str(partial))
        store.bulk_extend(working.quads_for_pattern(None, None, None, None))
        store.flush()
        del store
        graphs = _count(working)
        info = dict(layout.info())
        info.update(graphs=graphs, updated_at=time.time(), updates=info.get("updates", 0) + 1)
        final = layout.publish(partial, info)
        layout.clean()
    return UpdateResult(final, graphs, change=after - before,
                        seconds=time.monotonic() - started)
