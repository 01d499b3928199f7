"""Validated, transactional updates of the embedded store (SPARQL 1.1 Update and Graph
Store Protocol writes, as the HTTP service accepts them with the update token).

An update is applied to a copy of the live dataset in memory, the result is validated
against the project's SHACL shapes (the same check as `kg build`), the OWL 2 RL
inferences are recomputed, and a new store is written and swapped in atomically under
the build lock, exactly like a build. A rejected update changes nothing.

What an update without GRAPH writes to: the store's default graph, which holds only
triples that earlier updates wrote there (each curated file has a named graph of its own,
`<https://w3id.org/workflow-kg/graph/data/FILE>`). `INSERT DATA { ... }` adds to it, and a
`DELETE` or `WHERE` without GRAPH reads only it, so changing curated triples needs
`GRAPH <...>` (queries, by contrast, see the union of all graphs). The answer counts the
triples added and removed, so an update that matched nothing says so, and publishes no
new store.

Updates that empty whole graphs (DROP ALL, CLEAR NAMED, DELETE WHERE { GRAPH ?g ... })
are refused unless confirmed with `confirm="drop"`; a graph of a curated file may never be
emptied (a validation failure, like deleting its labels).

Each accepted update is a new store version, with a PROV record of who, when, what and how
many triples in the graph `<https://w3id.org/workflow-kg/graph/history>` (see
kg.pipeline.history). Updates write the store, not the files in data/: `kg export` keeps them;
`kg build` refuses to discard them unless forced. Statement nodes added by an update are
stored as given (the plain triple is not derived as at build time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from ..errors import (
    NeedsConfirmation,
    QueryError,
    SparqlSyntaxError,
    StoreNotBuilt,
    StoreWriteFailed,
    ValidationFailed,
)
from ..namespaces import BASE, GRAPH, HISTORY_GRAPH, INFERRED_GRAPH, META_GRAPH, PREFIXES, WF
from ..query.guard import Policy, check_update, tokens
from ..query.syntax import explain
from . import delta
from .intake import read_graph
from .load import parse_files
from .project import Project
from .reason import materialise
from .shapes import ValidationReport, Violation, validate_graph
from .store import StoreLayout, term_from_rdflib, term_to_rdflib


@dataclass
class UpdateResult:
    """What an update did: the triples it added and removed (inferences not counted) and
    the store version it published (None when it changed nothing)."""

    store_path: Path | None
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI -> triples after
    added: int = 0
    removed: int = 0
    seconds: float = 0.0

    @property
    def change(self) -> int:
        return self.added - self.removed

    @property
    def version(self) -> str | None:
        return self.store_path.name if self.store_path else None


def with_using(sparql: str, graphs: list[str], named: list[str]) -> str:
    """The update with the protocol's `using-graph-uri` / `using-named-graph-uri` as
    USING / USING NAMED clauses before the WHERE of each DELETE/INSERT operation (SPARQL
    1.1 Protocol, section 2.2.3). An update that names its own dataset (USING, WITH)
    as well is an error."""
    if not graphs and not named:
        return sparql
    clause = "".join(f"USING {ox.NamedNode(g)} " for g in graphs) + "".join(
        f"USING NAMED {ox.NamedNode(g)} " for g in named)
    depth, previous, at = 0, None, []
    for tok in tokens(sparql):
        if tok.kind == "punct" and tok.text in "{}":
            depth += 1 if tok.text == "{" else -1
        elif depth == 0 and tok.kind == "word" and tok.text.upper() in ("USING", "WITH"):
            raise QueryError(f"the update has a {tok.text.upper()} clause and the request "
                             "using-graph-uri / using-named-graph-uri: give the dataset once")
        elif (depth == 0 and tok.kind == "word" and tok.text.upper() == "WHERE"
              and previous is not None and previous.text == "}"):
            at.append(tok.start)
        previous = tok
    for start in reversed(at):
        sparql = sparql[:start] + clause + sparql[start:]
    return sparql


def apply_update(project: Project, sparql: str, *, policy: Policy | None = None,
                 confirm: str | None = None, agent: str = "update-token",
                 base_iri: str | None = None, using: list[str] | None = None,
                 using_named: list[str] | None = None, remote=None) -> UpdateResult:
    """Run a SPARQL 1.1 Update (refused: LOAD, SERVICE outside the allow-list).
    Relative IRIs resolve against `base_iri` (the service gives its endpoint's URL);
    `using` / `using_named` are the protocol's dataset for the WHERE clauses. With
    `remote` (a kg.pipeline.remote.RemoteStore), the remote dataset is the one updated."""
    policy = policy or Policy()
    check_update(sparql, policy)
    sparql = with_using(sparql, using or [], using_named or [])
    if policy.allow_drop:
        confirm = "drop"

    def change(store: ox.Store) -> None:
        try:
            store.update(sparql, prefixes=PREFIXES, base_iri=base_iri)
        except SyntaxError as err:
            raise SparqlSyntaxError(explain(sparql, str(err))) from err
        except RuntimeError as err:  # CLEAR/DROP of a graph that does not exist
            raise QueryError(f"the update failed: {err} (add SILENT to ignore a "
                             "missing graph)") from err
        except OSError as err:
            raise SparqlSyntaxError(f"the update failed: {err}") from err

    return _apply(project, change, what=sparql, confirm=confirm, agent=agent, remote=remote)


def write_graph(project: Project, graph: str | None, data: bytes, media_type: str, *,
                replace: bool, policy: Policy | None = None, confirm: str | None = None,
                agent: str = "update-token", remote=None) -> UpdateResult:
    """Graph Store Protocol PUT (`replace`) or POST (merge) of RDF into one graph
    (None: the default graph). The body is read in a child process under memory, time
    and expansion limits (kg.pipeline.intake)."""
    target = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    triples = read_graph(data, media_type, policy or Policy())

    def change(store: ox.Store) -> None:
        if replace:
            store.remove_graph(target) if graph is not None else store.clear_graph(target)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, target) for t in triples)

    if policy is not None and policy.allow_drop:
        confirm = "drop"
    verb = "PUT" if replace else "POST"
    return _apply(project, change, what=f"Graph Store {verb} {graph or 'default graph'}",
                  confirm=confirm, agent=agent, remote=remote)


def delete_graph(project: Project, graph: str | None, *, confirm: str | None = None,
                 agent: str = "update-token", remote=None) -> UpdateResult:
    """Graph Store Protocol DELETE of one graph (None: empty the default graph)."""
    target = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)

    def change(store: ox.Store) -> None:
        if graph is None:
            store.clear_graph(target)
        else:
            store.remove_graph(target)

    return _apply(project, change, what=f"Graph Store DELETE {graph or 'default graph'}",
                  confirm=confirm, agent=agent, remote=remote)


def _graph_of(store: ox.Store, names: set[str]) -> Graph:
    """An rdflib graph of the triples of every graph except `names` (the default too)."""
    graph = Graph()
    for quad in store.quads_for_pattern(None, None, None, None):
        name = quad.graph_name
        if isinstance(name, ox.NamedNode) and name.value in names:
            continue
        graph.add(tuple(term_to_rdflib(t) for t in (quad.subject, quad.predicate, quad.object)))
    return graph


NOT_DATA = (str(INFERRED_GRAPH), str(META_GRAPH), str(HISTORY_GRAPH))


def validate_store(project: Project, store: ox.Store) -> ValidationReport:
    """SHACL-validate the asserted triples of a dataset (all graphs but the shapes, the
    inferences, the build metadata and the history) against the project's shapes."""
    shapes = parse_files([project.shapes_file], display=project.relative)[0]
    data = _graph_of(store, {shapes.graph_iri, *NOT_DATA})
    return validate_graph(data, shapes.graph)


def _count(store: ox.Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for quad in store.quads_for_pattern(None, None, None, None):
        name = quad.graph_name
        key = name.value if isinstance(name, ox.NamedNode) else "default"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _asserted(store: ox.Store) -> set[ox.Quad]:
    skip = {str(INFERRED_GRAPH), str(HISTORY_GRAPH)}
    return {q for q in store.quads_for_pattern(None, None, None, None)
            if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in skip)}


def _emptied(before: set[ox.Quad], after: set[ox.Quad]) -> dict[str, int]:
    """Named graphs that held triples before and hold none after -> triples they held."""
    def sizes(quads: set[ox.Quad]) -> dict[str, int]:
        out: dict[str, int] = {}
        for q in quads:
            if isinstance(q.graph_name, ox.NamedNode):
                out[q.graph_name.value] = out.get(q.graph_name.value, 0) + 1
        return out

    now = sizes(after)
    return {g: n for g, n in sizes(before).items() if g not in now}


def curated_graphs(project: Project) -> dict[str, str]:
    """The named graph of each input file (ontology, shapes, data) -> the file's name."""
    return {str(GRAPH[project.relative(p)]): project.relative(p)
            for p in project.input_files()}


def _removals_checked(project: Project, emptied: dict[str, int], confirm: str | None
                      ) -> None:
    if not emptied:
        return
    if confirm != "drop":
        listed = ", ".join(f"<{g}> ({n} triples)" for g, n in sorted(emptied.items()))
        raise NeedsConfirmation(
            f"this update removes {len(emptied)} whole graph(s): {listed}; nothing was "
            "changed. Send it again with confirm=drop to remove them")
    curated = curated_graphs(project)
    lost = [Violation(file=curated[g], focus=f"<{g}>", path=None,
                      constraint="curated graph kept",
                      message=f"the graph of {curated[g]} would be removed ({emptied[g]} "
                              "triples); change its triples, or edit the file and rebuild")
            for g in sorted(emptied) if g in curated]
    if lost:
        raise ValidationFailed(ValidationReport(False, lost, files=sorted(curated.values())))


def _history(working: ox.Store, *, version: str, previous: str | None, what: str,
             agent: str, started: datetime, added: int, removed: int) -> None:
    """Add the PROV record of one update to the history graph."""
    prov = "http://www.w3.org/ns/prov#"
    g = ox.NamedNode(str(HISTORY_GRAPH))
    activity = ox.NamedNode(f"{BASE}history/{version}")
    who = ox.NamedNode(f"{BASE}agent/{agent}")
    stamp = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    a = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    triples = [
        (activity, a, ox.NamedNode(prov + "Activity")),
        (activity, ox.NamedNode(prov + "wasAssociatedWith"), who),
        (who, a, ox.NamedNode(prov + "Agent")),
        (who, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal(agent)),
        (activity, ox.NamedNode(prov + "startedAtTime"),
         ox.Literal(started.isoformat(timespec="seconds"), datatype=stamp)),
        (activity, ox.NamedNode(prov + "endedAtTime"), ox.Literal(now, datatype=stamp)),
        (activity, ox.NamedNode(str(WF.updateText)), ox.Literal(what)),
        (activity, ox.NamedNode(str(WF.triplesAdded)), ox.Literal(str(added), datatype=integer)),
        (activity, ox.NamedNode(str(WF.triplesRemoved)),
         ox.Literal(str(removed), datatype=integer)),
        (activity, ox.NamedNode(prov + "generated"), ox.NamedNode(f"{BASE}version/{version}")),
    ]
    if previous:
        triples.append((activity, ox.NamedNode(prov + "used"),
                        ox.NamedNode(f"{BASE}version/{previous}")))
    working.extend(ox.Quad(s, p, o, g) for s, p, o in triples)


_SCHEMA_CACHE: dict[tuple, tuple[Graph, Graph]] = {}


def _schema(project: Project, store: ox.Store, ontology_graphs: set[str]
            ) -> tuple[Graph, Graph]:
    """The shapes and the ontology as rdflib graphs, kept while they do not change (a
    long-running service validates many small updates against the same schema)."""
    quads = frozenset(q for g in ontology_graphs
                      for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    shapes_file = project.shapes_file
    key = (str(shapes_file), shapes_file.stat().st_mtime_ns, hash(quads), len(quads))
    if key not in _SCHEMA_CACHE:
        ontology = Graph()
        for quad in quads:
            ontology.add(tuple(term_to_rdflib(t)
                               for t in (quad.subject, quad.predicate, quad.object)))
        shapes = parse_files([shapes_file], display=project.relative)[0].graph
        _SCHEMA_CACHE.clear()
        _SCHEMA_CACHE[key] = (shapes, ontology)
    return _SCHEMA_CACHE[key]


def apply_in_memory(project: Project, working: ox.Store, change: Callable[[ox.Store], None],
                    *, what: str, confirm: str | None, agent: str, version: str,
                    previous: str | None, started_at: datetime | None = None) -> UpdateResult:
    """Apply `change` to the in-memory dataset `working` and check it as every update is
    checked (whole graphs removed only when confirmed, never a curated one; the shapes;
    inferences recomputed when the schema or a typed node changed; the PROV record of
    version `version` added). Raises and leaves nothing to publish when the result is
    refused; `store_path` of the answer is None."""
    started = time.monotonic()
    started_at = started_at or datetime.now(UTC)
    inferred_name = ox.NamedNode(str(INFERRED_GRAPH))
    before = _asserted(working)
    change(working)
    after = _asserted(working)
    added, removed = len(after - before), len(before - after)
    if not added and not removed:
        return UpdateResult(None, _count(working), seconds=time.monotonic() - started)
    _removals_checked(project, _emptied(before, after), confirm)
    shapes_iri = str(GRAPH[project.relative(project.shapes_file)])
    schema = delta.schema_graphs(project)
    small = delta.inert(working, after - before, before - after, schema)
    if small:  # inferences unchanged; validate what the update touches
        shapes, ontology = _schema(project, working, schema - {shapes_iri})
        report = delta.validate_touched(project, working, after ^ before, shapes,
                                        ontology, {shapes_iri, *NOT_DATA})
    else:
        report = validate_store(project, working)
    if not report.conforms:
        raise ValidationFailed(report)
    if not small:
        asserted = _graph_of(working, {shapes_iri, *NOT_DATA})
        working.remove_graph(inferred_name)
        working.extend(ox.Quad(term_from_rdflib(s), term_from_rdflib(p),
                               term_from_rdflib(o), inferred_name)
                       for s, p, o in materialise(asserted))
    _history(working, version=version, previous=previous, what=what, agent=agent,
             started=started_at, added=added, removed=removed)
    return UpdateResult(None, _count(working), added=added, removed=removed,
                        seconds=time.monotonic() - started)


def _apply(project: Project, change: Callable[[ox.Store], None], *, what: str,
           confirm: str | None, agent: str, remote=None) -> UpdateResult:
    if remote is not None:  # a kg.pipeline.remote.RemoteStore: checked here, published there
        return remote.apply(project, change, what=what, confirm=confirm, agent=agent)
    started = time.monotonic()
    started_at = datetime.now(UTC)
    layout = StoreLayout(project.store_dir)
    with layout.locked():
        live = layout.live()
        if live is None:
            raise StoreNotBuilt(f"no store in {project.store_dir}: run `kg build` first")
        working = ox.Store()  # in memory: the copy the update is applied to
        working.extend(ox.Store.read_only(str(live)).quads_for_pattern(None, None, None, None))
        partial = layout.new_partial()
        version = partial.name.removeprefix("partial-")
        try:
            checked = apply_in_memory(project, working, change, what=what, confirm=confirm,
                                      agent=agent, version=version, previous=live.name,
                                      started_at=started_at)
        except BaseException:
            layout.discard(partial)
            raise
        if not checked.added and not checked.removed:
            layout.discard(partial)
            return checked
        added, removed, graphs = checked.added, checked.removed, checked.graphs
        try:
            store = ox.Store(str(partial))
            store.bulk_extend(working.quads_for_pattern(None, None, None, None))
            store.flush()
            del store
            info = dict(layout.info())
            info.update(graphs=graphs, updated_at=time.time(), updates=info.get("updates", 0) + 1,
                        kind="update", agent=agent, added=added, removed=removed,
                        previous=live.name, what=what[:500])
            final = layout.publish(partial, info)
        except OSError as err:  # a full disk, say: leave nothing half-written behind
            layout.discard(partial)
            raise StoreWriteFailed(f"could not write the new store: {err.strerror or err}; "
                                   "the live store is unchanged") from err
        layout.clean()
    return UpdateResult(final, graphs, added=added, removed=removed,
                        seconds=time.monotonic() - started)
