"""Validated, transactional updates of the embedded store (SPARQL 1.1 Update and Graph
Store Protocol writes, as the HTTP service accepts them with the update token).

An update prepares the next store version beside the live one, which readers go on
reading: a checkpoint of the live store (its table files hard-linked) is opened, the update is
applied to it operation by operation, recording exactly which quads it adds and
removes; then the derived triples, the OWL 2 RL inferences and the SHACL validation
follow from that change (kg.pipeline.delta: from the change alone when it allows, else over the
whole dataset), and the new version is swapped in atomically under the build lock,
exactly like a build. A rejected update changes nothing. The HTTP service runs all of
this in a process of its own (kg.pipeline.writer), under a time limit.

What an update without GRAPH writes to: the store's default graph, which holds only
triples that earlier updates wrote there (each curated file has a named graph of its own,
`<https://w3id.org/workflow-kg/graph/data/FILE>`). `INSERT DATA { ... }` adds to it, and a
`DELETE` or `WHERE` without GRAPH reads only it, so changing curated triples needs
`GRAPH <...>` (queries, by contrast, see the union of all graphs). The answer counts the
triples added and removed, so an update that matched nothing says so, and publishes no
new store.

Only data graphs are writable: the shapes, the derived and inferred graphs, the build
metadata and the history are the system's, and a write that changes them is refused
(kg.errors.Refused). Derived triples follow from statements: a statement an update adds,
removes or re-grades changes the derived graphs as a build would.

Updates that empty whole graphs (DROP ALL, CLEAR NAMED, DELETE WHERE { GRAPH ?g ... }), or
remove at least half of a graph's triples, are refused unless confirmed with
`confirm="drop"`; a graph of a curated file may never be emptied (a validation failure,
like deleting its labels). The version before a confirmed removal is pinned: it is kept
until removed by hand (kg.pipeline.store.StoreLayout.clean). DROP ALL, CLEAR NAMED and
GRAPH ?g reach the data graphs only: the system's graphs are not the user's dataset.

Each accepted update is a new store version, with a PROV record of who, when, what and how
many triples in the graph `<https://w3id.org/workflow-kg/graph/history>`; the record holds
the start of the update's text, and the whole text is kept once, in `texts/` of the store
folder, named by its SHA-256. Updates write the store, not the files in data/: `kg export`
keeps them; `kg build` refuses to discard them unless forced. Statement nodes added by an
update keep the names they are given (blank nodes are not renamed as at build time)."""

from __future__ import annotations

import hashlib
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
    Refused,
    SparqlSyntaxError,
    StoreNotBuilt,
    StoreWriteFailed,
    ValidationFailed,
)
from ..namespaces import BASE, GRAPH, HISTORY_GRAPH, PREFIXES, WF
from ..query.guard import Policy, Token, check_update, tokens
from ..query.syntax import explain
from . import delta as deltas
from .delta import Delta
from .intake import read_graph
from .load import parse_files
from .project import Project
from .shapes import ValidationReport, Violation
from .store import StoreLayout, checkpoint, sync_log

MAX_CHAIN = 2000  # operators (||, &&, UNION, /, +, =...) in a group and those around it
CONFIRM_SHARE = 0.5  # removing this share of a graph's triples needs confirm=drop...
CONFIRM_MIN = 10  # ...when that is more than this many triples
TEXT_IN_RECORD = 4000  # characters of an update's text kept in its history record
# What a chain of operators is made of (each a token of the guard's tokenizer).
_OPERATORS = set("|&/+-*=<>!")
_CHAIN_WORDS = {"UNION", "MINUS"}


@dataclass
class UpdateResult:
    """What an update did: the triples it added and removed (derived and inferred
    triples not counted), the store version it published (None when it changed
    nothing), the graphs whose triples changed (derived, inferred and history graphs
    included), and notes for the user (a version kept on purpose)."""

    store_path: Path | None
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI -> triples after
    changed: frozenset[str] = frozenset()  # graph IRIs ("default": the default graph)
    added: int = 0
    removed: int = 0
    seconds: float = 0.0
    path: str = "unchanged"  # "local" (checked by what it touches), "full" or "unchanged"
    notes: list[str] = field(default_factory=list)

    @property
    def change(self) -> int:
        return self.added - self.removed

    @property
    def version(self) -> str | None:
        return self.store_path.name if self.store_path else None


def check_chains(text: str) -> None:
    """Refuse a request with more than MAX_CHAIN operators in a group and the groups
    around it (`1||1||...`, `{} UNION {} ...`): a parser reads such a chain recursively
    and runs out of stack. Brackets are bounded by the guard (kg.query.guard.MAX_NESTING)."""
    counts = [0]
    for tok in tokens(text):
        if tok.kind == "punct" and tok.text in "{([":
            counts.append(0)
        elif tok.kind == "punct" and tok.text in "})]":
            if len(counts) > 1:
                counts.pop()
        elif (tok.kind == "punct" and tok.text in _OPERATORS) or (
                tok.kind == "word" and tok.text.upper() in _CHAIN_WORDS):
            counts[-1] += 1
            if sum(counts) > MAX_CHAIN:
                raise Refused(f"the request chains more than {MAX_CHAIN} operators in "
                              f"groups inside each other (at character {tok.start}): "
                              "split it into smaller requests")


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


# ------------------------------------------------------------------ operations
@dataclass
class Operation:
    """One operation of an update request, with the prologue in force for it."""

    prologue: str  # PREFIX / BASE declarations of the earlier operations
    text: str  # the operation (with its own declarations)
    toks: list[Token]  # its tokens, prologue excluded
    offset: int = 0  # where `text` starts in the request (token positions are the request's)

    @property
    def kind(self) -> str:
        words = [t.text.upper() for t in self.toks[:2] if t.kind == "word"]
        if words[:2] in (["INSERT", "DATA"], ["DELETE", "DATA"]):
            return words[0].lower() + "-data"
        return words[0].lower() if words else "empty"


def operations(sparql: str) -> list[Operation]:
    """The request split at its top-level ';' into operations."""
    toks = list(tokens(sparql))
    out: list[Operation] = []
    declared: list[str] = []
    depth, start, i = 0, 0, 0
    body: list[Token] = []
    own: list[str] = []

    def close(end: int) -> None:
        out.append(Operation("\n".join(declared), sparql[start:end], list(body), start))
        declared.extend(own)

    while i < len(toks):
        tok = toks[i]
        upper = tok.text.upper() if tok.kind == "word" else ""
        if depth == 0 and upper in ("PREFIX", "BASE") and not body:
            n = 3 if upper == "PREFIX" else 2
            span = toks[i:i + n]
            if len(span) == n:
                tail = span[-1]
                own.append(sparql[tok.start:tail.start + len(tail.text)])
            i += n
            continue
        if tok.kind == "punct" and tok.text in "{([":
            depth += 1
        elif tok.kind == "punct" and tok.text in "})]":
            depth -= 1
        if depth == 0 and tok.kind == "punct" and tok.text == ";":
            close(tok.start)
            start, body, own = tok.start + 1, [], []
        else:
            body.append(tok)
        i += 1
    close(len(sparql))
    return [op for op in out if op.toks]


def _declared(op: Operation) -> dict[str, str]:
    prefixes = dict(PREFIXES)
    for text in (op.prologue, op.text):
        toks = list(tokens(text))
        for i, tok in enumerate(toks[:-2]):
            if (tok.kind == "word" and tok.text.upper() == "PREFIX"
                    and toks[i + 1].kind == "pname" and toks[i + 2].kind == "iri"):
                prefixes[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
    return prefixes


def _graphs_named(op: Operation) -> set[ox.NamedNode | ox.DefaultGraph] | None:
    """Every graph an operation other than INSERT/DELETE DATA could change: the default
    graph and each IRI it writes (a superset), or None when it may change any graph
    (GRAPH ?g, NAMED, ALL, a relative IRI)."""
    prefixes = _declared(op)
    out: set[ox.NamedNode | ox.DefaultGraph] = {ox.DefaultGraph()}
    for i, tok in enumerate(op.toks):
        upper = tok.text.upper() if tok.kind == "word" else ""
        if upper in ("NAMED", "ALL") and op.kind in ("clear", "drop"):
            return None
        if upper == "GRAPH" and i + 1 < len(op.toks) and op.toks[i + 1].kind == "var":
            return None
        if tok.kind == "iri":
            iri = tok.text[1:-1]
            if ":" not in iri:
                return None
            out.add(ox.NamedNode(iri))
        elif tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            if prefix in prefixes:
                try:
                    out.add(ox.NamedNode(prefixes[prefix] + local))
                except ValueError:
                    return None
    return out


def _quads_of(store: ox.Store, graphs) -> set[ox.Quad]:
    if graphs is None:
        return set(store.quads_for_pattern(None, None, None, None))
    return {q for g in graphs for q in store.quads_for_pattern(None, None, None, g)}


def _run(store: ox.Store, text: str, base_iri: str | None) -> None:
    try:
        store.update(text, prefixes=PREFIXES, base_iri=base_iri)
    except SyntaxError as err:
        raise SparqlSyntaxError(explain(text, str(err))) from err
    except RuntimeError as err:  # CLEAR/DROP of a graph that does not exist
        raise QueryError(f"the update failed: {err} (add SILENT to ignore a "
                         "missing graph)") from err
    except OSError as err:
        raise SparqlSyntaxError(f"the update failed: {err}") from err


def run_update(store: ox.Store, sparql: str, base_iri: str | None = None, *,
               system: Callable[[str | None], bool] | None = None) -> Delta:
    """Apply a SPARQL 1.1 Update to `store` and return exactly what it added and removed.
    INSERT DATA and DELETE DATA are read without touching the store (on an empty one),
    so their change costs what they write; other operations are diffed over the graphs
    they can change. An operation over graphs it does not name (ALL, NAMED, GRAPH ?g)
    leaves the graphs `system` says are the system's as they were: they are not the
    user's dataset (a write that names one is refused by the caller)."""
    try:  # the whole request first: a syntax error anywhere changes nothing
        ox.Store().update(sparql, prefixes=PREFIXES, base_iri=base_iri)
    except SyntaxError as err:
        raise SparqlSyntaxError(explain(sparql, str(err))) from err
    except (RuntimeError, OSError):
        pass  # needs the data: the real run reports it
    change = Delta()
    for op in operations(sparql):
        if op.kind in ("insert-data", "delete-data"):
            text = op.text
            if op.kind == "delete-data":
                at = op.toks[0].start - op.offset
                text = text[:at] + "INSERT" + text[at + len("DELETE"):]
            scratch = ox.Store()
            _run(scratch, f"{op.prologue}\n{text}", base_iri)
            for quad in scratch.quads_for_pattern(None, None, None, None):
                if op.kind == "insert-data" and quad not in store:
                    store.add(quad)
                    change.add(quad)
                elif op.kind == "delete-data" and quad in store:
                    store.remove(quad)
                    change.remove(quad)
            continue
        graphs = _graphs_named(op)
        before = _quads_of(store, graphs)
        _run(store, f"{op.prologue}\n{op.text}", base_iri)
        after = _quads_of(store, graphs)
        for quad in before - after:
            if graphs is None and system is not None and system(deltas._named(quad)):
                store.add(quad)  # the system's, not named: as it was
            else:
                change.remove(quad)
        for quad in after - before:
            if graphs is None and system is not None and system(deltas._named(quad)):
                store.remove(quad)
            else:
                change.add(quad)
    return change


# ------------------------------------------------------------------ the public writes
def apply_update(project: Project, sparql: str, *, policy: Policy | None = None,
                 confirm: str | None = None, agent: str = "update-token",
                 base_iri: str | None = None, using: list[str] | None = None,
                 using_named: list[str] | None = None,
                 on_publish: Callable[[], None] | None = None) -> UpdateResult:
    """Run a SPARQL 1.1 Update (refused: LOAD, SERVICE outside the allow-list).
    Relative IRIs resolve against `base_iri` (the service gives its endpoint's URL);
    `using` / `using_named` are the protocol's dataset for the WHERE clauses.
    `on_publish` is called just before the new version is swapped in."""
    policy = policy or Policy()
    check_chains(sparql)
    check_update(sparql, policy)
    sparql = with_using(sparql, using or [], using_named or [])
    if policy.allow_drop:
        confirm = "drop"
    def change(store: ox.Store) -> Delta:
        return run_update(store, sparql, base_iri,
                          system=lambda name: _is_system(project, name))

    return _apply(project, change, what=sparql,
                  confirm=confirm, agent=agent, on_publish=on_publish)


def write_graph(project: Project, graph: str | None, data: bytes, media_type: str, *,
                replace: bool, policy: Policy | None = None, confirm: str | None = None,
                agent: str = "update-token",
                on_publish: Callable[[], None] | None = None) -> UpdateResult:
    """Graph Store Protocol PUT (`replace`) or POST (merge) of RDF into one graph
    (None: the default graph). The body is read in a child process under memory, time
    and expansion limits (kg.pipeline.intake)."""
    target = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    refuse_system_target(project, graph)
    triples = read_graph(data, media_type, policy or Policy())

    def change(store: ox.Store) -> Delta:
        out = Delta()
        new = {ox.Quad(t.subject, t.predicate, t.object, target) for t in triples}
        if replace:
            for quad in set(store.quads_for_pattern(None, None, None, target)) - new:
                store.remove(quad)
                out.remove(quad)
        for quad in new:
            if quad not in store:
                store.add(quad)
                out.add(quad)
        return out

    if policy is not None and policy.allow_drop:
        confirm = "drop"
    verb = "PUT" if replace else "POST"
    return _apply(project, change, what=f"Graph Store {verb} {graph or 'default graph'}",
                  confirm=confirm, agent=agent, on_publish=on_publish)


def delete_graph(project: Project, graph: str | None, *, confirm: str | None = None,
                 agent: str = "update-token",
                 on_publish: Callable[[], None] | None = None) -> UpdateResult:
    """Graph Store Protocol DELETE of one graph (None: empty the default graph)."""
    target = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
    refuse_system_target(project, graph)

    def change(store: ox.Store) -> Delta:
        out = Delta()
        for quad in list(store.quads_for_pattern(None, None, None, target)):
            store.remove(quad)
            out.remove(quad)
        return out

    return _apply(project, change, what=f"Graph Store DELETE {graph or 'default graph'}",
                  confirm=confirm, agent=agent, on_publish=on_publish)


# ------------------------------------------------------------------ checks
def protected_graphs(project: Project) -> str:
    return (f"the shapes <{deltas.shapes_graph(project)}>, the derived graphs "
            f"<{GRAPH['derived/']}...>, the inferred graphs <{GRAPH['inferred']}...>, "
            f"the build metadata <{GRAPH['meta']}> and the history <{HISTORY_GRAPH}>")


def _is_system(project: Project, name: str | None) -> bool:
    return name is not None and (deltas.system_graph(name)
                                 or name == deltas.shapes_graph(project))


def refuse_system_target(project: Project, graph: str | None) -> None:
    if _is_system(project, graph):
        raise Refused(f"<{graph}> is written only by the build and update pipeline "
                      f"({protected_graphs(project)} are the system's): write to a data "
                      "graph; derived and inferred triples follow from the data")


def _refuse_system(project: Project, change: Delta) -> None:
    hit = sorted({g for g in change.graphs() if _is_system(project, g)})
    if hit:
        listed = ", ".join(f"<{g}>" for g in hit)
        raise Refused(f"the update would change {listed}, which only the build and update "
                      f"pipeline writes ({protected_graphs(project)} are the system's); "
                      "nothing was changed. Name the data graphs to write (GRAPH <...>), "
                      "or leave the system's graphs out of GRAPH ?g (FILTER)")


def curated_graphs(project: Project) -> dict[str, str]:
    """The named graph of each input file (ontology, shapes, data) -> the file's name."""
    return {str(GRAPH[project.relative(p)]): project.relative(p)
            for p in project.input_files()}


def _key(quad: ox.Quad) -> str:
    return quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else "default"


def _counts_after(before: dict[str, int], change: Delta) -> dict[str, int]:
    counts = dict(before)
    for quad in change.added:
        counts[_key(quad)] = counts.get(_key(quad), 0) + 1
    for quad in change.removed:
        counts[_key(quad)] = counts.get(_key(quad), 0) - 1
    return {g: n for g, n in counts.items() if n > 0}


def _removals_checked(project: Project, before: dict[str, int], change: Delta,
                      confirm: str | None) -> bool:
    """Refuse an unconfirmed removal of whole graphs or of most of a graph, and any
    removal of a curated graph; True when a large removal was confirmed."""
    removed: dict[str, int] = {}
    for quad in change.removed:
        removed[_key(quad)] = removed.get(_key(quad), 0) + 1
    after = _counts_after(before, change)
    emptied = {g: n for g, n in removed.items() if g != "default" and g not in after}
    large = {g: n for g, n in removed.items() if g not in emptied and n > CONFIRM_MIN
             and n >= CONFIRM_SHARE * before.get(g, n)}
    if not emptied and not large:
        return False
    if confirm != "drop":
        parts = [f"<{g}> ({n} triples, the whole graph)" for g, n in sorted(emptied.items())]
        parts += [f"<{g}> ({n} of {before.get(g, n)} triples, "
                  f"{100 * n / max(before.get(g, n), 1):.0f}%)" for g, n in sorted(large.items())]
        raise NeedsConfirmation(
            f"this update removes {', '.join(parts)}; nothing was changed. Send it again "
            "with confirm=drop to remove them (the version before is then kept for "
            "`kg rollback`)")
    curated = curated_graphs(project)
    lost = [Violation(file=curated[g], focus=f"<{g}>", path=None,
                      constraint="curated graph kept",
                      message=f"the graph of {curated[g]} would be removed ({emptied[g]} "
                              "triples); change its triples, or edit the file and rebuild")
            for g in sorted(emptied) if g in curated]
    if lost:
        raise ValidationFailed(ValidationReport(False, lost, files=sorted(curated.values())))
    return True


# ------------------------------------------------------------------ history
def keep_text(project: Project, text: str) -> str:
    """Store an update's text once, in texts/ of the store folder; its SHA-256."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    folder = project.store_dir / "texts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.rq"
    if not path.exists():
        partial = path.with_suffix(f".{time.time_ns()}.tmp")
        partial.write_text(text)
        partial.replace(path)
    return digest


def _history(working: ox.Store, *, version: str, previous: str | None, what: str,
             digest: str, agent: str, started: datetime, added: int, removed: int) -> int:
    """Add the PROV record of one update to the history graph; the number of triples
    it adds (the agent's triples are there once for all its updates)."""
    prov = "http://www.w3.org/ns/prov#"
    g = ox.NamedNode(str(HISTORY_GRAPH))
    activity = ox.NamedNode(f"{BASE}history/{version}")
    who = ox.NamedNode(f"{BASE}agent/{agent}")
    stamp = ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime")
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    a = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    text = what if len(what) <= TEXT_IN_RECORD else (
        what[:TEXT_IN_RECORD] + f"… ({len(what)} characters; the whole text is "
                                f"texts/{digest}.rq in the store folder)")
    triples = [
        (activity, a, ox.NamedNode(prov + "Activity")),
        (activity, ox.NamedNode(prov + "wasAssociatedWith"), who),
        (who, a, ox.NamedNode(prov + "Agent")),
        (who, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal(agent)),
        (activity, ox.NamedNode(prov + "startedAtTime"),
         ox.Literal(started.isoformat(timespec="seconds"), datatype=stamp)),
        (activity, ox.NamedNode(prov + "endedAtTime"), ox.Literal(now, datatype=stamp)),
        (activity, ox.NamedNode(str(WF.updateText)), ox.Literal(text)),
        (activity, ox.NamedNode(str(WF.triplesAdded)), ox.Literal(str(added), datatype=integer)),
        (activity, ox.NamedNode(str(WF.triplesRemoved)),
         ox.Literal(str(removed), datatype=integer)),
        (activity, ox.NamedNode(prov + "generated"), ox.NamedNode(f"{BASE}version/{version}")),
    ]
    if previous:
        triples.append((activity, ox.NamedNode(prov + "used"),
                        ox.NamedNode(f"{BASE}version/{previous}")))
    new = [q for q in (ox.Quad(s, p, o, g) for s, p, o in triples) if q not in working]
    working.extend(new)
    return len(new)


# ------------------------------------------------------------------ the pipeline
_SHAPES: dict[tuple, Graph] = {}


def _shapes(project: Project, stamp: str) -> Graph:
    """The shapes as an rdflib graph, kept while they do not change (a long-running
    writer validates many small updates against the same shapes). `stamp` names the
    schema's state (see _schema_stamp)."""
    shapes_file = project.shapes_file
    key = (str(shapes_file), shapes_file.stat().st_mtime_ns, stamp)
    if key not in _SHAPES:
        _SHAPES.clear()
        _SHAPES[key] = parse_files([shapes_file], display=project.relative)[0].graph
    return _SHAPES[key]


def _schema_stamp(project: Project, store: ox.Store, info: dict) -> str:
    """A hash of the ontology graphs, carried from version to version while no update
    changes them (computed once after a build)."""
    if info.get("schema_hash"):
        return info["schema_hash"]
    digest = hashlib.sha256()
    for line in sorted(str(q) for g in deltas.schema_graphs(project)
                       for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g))):
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


@dataclass
class Carried:
    """What one write leaves the next write from the version it published: the merged
    copy SHACL reads (kept in step by the write: the graphs it leaves out, inferences and
    history, are the only ones a write changes besides those it follows), and the
    vocabulary tables of the local rules (kept while no change can alter them)."""

    merged: deltas.Merged | None = None
    vocabulary: deltas.Vocabulary | None = None


def pipeline(project: Project, before: ox.Store, store: ox.Store, change: Delta, *,
             stamp: str, force_full: bool = False,
             carried: Carried | None = None) -> tuple[Delta, ValidationReport, str]:
    """What follows from a data change already applied to `store` (`before` is the
    dataset without it): the derived and inferred graphs are brought up to date in
    `store` and the SHACL report returned, with "local" or "full" for the path taken.
    `carried` is what is known of `before` (Carried); it is brought in step with `store`."""
    carried = carried or Carried()
    schema = deltas.schema_graphs(project)
    asserted_graphs = deltas.not_asserted(project)
    derived = deltas.derive_delta(before, store, change, deltas.SYSTEM | schema)
    deltas.apply_delta(store, derived)
    asserted = change.changed | derived.changed
    shapes = _shapes(project, stamp)
    inferred = None
    if not force_full and deltas.local_rules_apply(asserted, schema):
        vocabulary = carried.vocabulary or deltas.Vocabulary.of(before, project)
        carried.vocabulary = vocabulary.after(deltas.View(store, asserted_graphs), asserted)
        inferred = deltas.infer_delta(before, store, asserted, asserted_graphs, schema,
                                      stamp, (vocabulary, carried.vocabulary))
    merged = carried.merged
    if merged is not None:
        merged.follow(store, change)
        merged.follow(store, derived)
    if inferred is not None:
        report = deltas.validate_touched(store, asserted, project, shapes, stamp, merged)
        path = "local"
    else:
        carried.vocabulary = None
        report = deltas.validate_all(store, project, shapes, merged)
        inferred = deltas.rebuild(store, project)
        deltas.forget()
        path = "full"
    deltas.apply_delta(store, inferred)
    everything = Delta(set(change.added), set(change.removed))
    for quad in derived.added | inferred.added:
        everything.add(quad)
    for quad in derived.removed | inferred.removed:
        everything.remove(quad)
    return everything, report, path


@dataclass
class _NextVersion:
    """The next store version, opened beside the live one: `store`, a checkpoint of
    `live` (hard links, no copy) open for writing, `before`, the live one read-only,
    and the graphs SHACL reads merged (kg.pipeline.delta.Merged) when there are many."""

    live: Path
    partial: Path
    before: ox.Store
    store: ox.Store
    carried: Carried


_PREPARED: list[_NextVersion] = []  # at most one, opened by `prepare`
# What this process's last write left of the version it published (Carried): the next
# write from that version takes it rather than merging every graph again (about a
# quarter of a small write's time) and reading the vocabulary again.
_CARRIED: dict[Path, Carried] = {}


def _open_next(project: Project, live: Path, partial: Path) -> _NextVersion:
    checkpoint(live, partial)
    before = ox.Store.read_only(str(live))
    carried = _CARRIED.pop(live, None)
    _CARRIED.clear()  # what is known of another version is of no use
    if carried is None:
        carried = Carried(deltas.Merged.worth_it(before, project))
    return _NextVersion(live, partial, before, ox.Store(str(partial)), carried)


def prepare(project: Project) -> None:
    """Open the next store version ahead of the next write, so that the write does not
    wait for the stores to open (about half of a small update's time): the writer
    process calls this between writes. It takes no lock (a build or rollback started
    meanwhile is not refused): a version prepared from a store that is no longer live
    when the write comes, or that a build's clean removed, is thrown away then."""
    layout = StoreLayout(project.store_dir)
    forget_prepared(layout)
    live = layout.live()
    if live is None:
        return
    partial = layout.new_partial()
    try:
        _PREPARED.append(_open_next(project, live, partial))
    except BaseException:
        layout.discard(partial)
        raise
    before, carried = _PREPARED[0].before, _PREPARED[0].carried
    stamp = _schema_stamp(project, before, dict(layout.info()))
    deltas.focus_checks(before, project, _shapes(project, stamp), stamp)
    if carried.vocabulary is None:
        carried.vocabulary = deltas.Vocabulary.of(before, project)


def forget_prepared(layout: StoreLayout) -> None:
    """Close and remove the prepared version, if any."""
    while _PREPARED:
        stale = _PREPARED.pop()
        partial = stale.partial
        del stale
        layout.discard(partial)


def _take_prepared(layout: StoreLayout, live: Path) -> _NextVersion | None:
    """The prepared next version if it was made from `live` and is still whole (a
    build's clean removes partial stores), else None (a stale one is removed)."""
    if _PREPARED and _PREPARED[0].live == live and _PREPARED[0].partial.is_dir() \
            and _PREPARED[0].partial.parent == layout.stores:
        return _PREPARED.pop()
    forget_prepared(layout)
    return None


def _apply(project: Project, change_of: Callable[[ox.Store], Delta], *, what: str,
           confirm: str | None, agent: str,
           on_publish: Callable[[], None] | None = None) -> UpdateResult:
    started = time.monotonic()
    started_at = datetime.now(UTC)
    layout = StoreLayout(project.store_dir)
    with layout.locked():
        live = layout.live()
        if live is None:
            raise StoreNotBuilt("no store yet: run `kg build` first")
        info = dict(layout.info())
        counts = dict(info.get("graphs", {}))
        next_version = _take_prepared(layout, live)
        partial = next_version.partial if next_version else layout.new_partial()
        try:
            next_version = next_version or _open_next(project, live, partial)
            before, store = next_version.before, next_version.store
            carried = next_version.carried
            del next_version
            change = change_of(store)
            if not change:
                del store
                layout.discard(partial)
                return UpdateResult(None, counts, seconds=time.monotonic() - started)
            _refuse_system(project, change)
            pinned = _removals_checked(project, counts, change, confirm)
            schema_changed = bool(change.graphs() & deltas.schema_graphs(project))
            stamp = _schema_stamp(project, before if not schema_changed else store,
                                  {} if schema_changed else info)
            everything, report, path = pipeline(project, before, store, change, stamp=stamp,
                                                carried=carried)
            if not report.conforms:
                raise ValidationFailed(report)
            version = partial.name.removeprefix("partial-")
            digest = keep_text(project, what)
            recorded = _history(store, version=version, previous=live.name, what=what,
                                digest=digest, agent=agent, started=started_at,
                                added=len(change.added), removed=len(change.removed))
            graphs = _counts_after(counts, everything)
            graphs[str(HISTORY_GRAPH)] = counts.get(str(HISTORY_GRAPH), 0) + recorded
            del store
            sync_log(partial)
            notes = []
            if pinned:
                layout.pin(live)
                notes.append(f"the version before this update, {live.name}, is kept until "
                             "removed by hand (`kg rollback` brings it back)")
            info.update(graphs=graphs, updated_at=time.time(),
                        updates=info.get("updates", 0) + 1, kind="update", agent=agent,
                        added=len(change.added), removed=len(change.removed),
                        previous=live.name, what=what[:500], text_sha256=digest,
                        schema_hash=stamp, path=path)
            info.pop("pinned", None)
            if on_publish is not None:
                on_publish()
            final = layout.publish(partial, info)
            _CARRIED[final] = carried
        except OSError as err:  # a full disk, say: leave nothing half-written behind
            layout.discard(partial)
            raise StoreWriteFailed(f"could not write the new store: {err.strerror or err}; "
                                   "the live store is unchanged") from err
        except BaseException:
            layout.discard(partial)
            raise
        dropped = layout.clean()
        if dropped:
            notes.append(f"{len(dropped)} old version(s) past the history's age and size "
                         f"limits were removed: {', '.join(p.name for p in dropped)}")
    changed = frozenset({_key(q) for q in everything.changed} | {str(HISTORY_GRAPH)})
    return UpdateResult(final, graphs, changed, added=len(change.added),
                        removed=len(change.removed), seconds=time.monotonic() - started,
                        path=path, notes=notes)
