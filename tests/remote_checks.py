"""What every remote store must answer as the embedded one does (shared by the
test_remote*.py modules): every named query row for row, the pages' machine twins,
search, citations, a report table, a path and a decision."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import time
import urllib.parse

import httpx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from kg import KnowledgeGraph
from kg.cli import main
from kg.errors import BuildLocked, RemoteError
from kg.namespaces import HISTORY_GRAPH
from kg.pipeline import remote_write, update
from kg.pipeline.remote import DEFAULT_GRAPH, PENDING, PUSH_GRAPH, RemoteStore, content_hash
from kg.pipeline.store import StoreLayout
from kg.query.guard import Policy
from kg_api.app import create_app
from tests.test_http_queries import example_params

_CONCAT = re.compile(r'separator\s*=\s*"([^"]*)"\s*\)\s*AS\s*\?(\w+)', re.IGNORECASE)


def wait_for(check, process: subprocess.Popen, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if check():
                return
        except (OSError, httpx.TransportError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {seconds:g} s")


def concatenations(text: str) -> dict[str, str]:
    """The variables a query builds with GROUP_CONCAT -> their separators."""
    return {var: sep for sep, var in _CONCAT.findall(text)}


def canonical(result, concat: dict[str, str] | None = None) -> list:
    """An answer as a sorted list of rows, blank nodes left out (their labels differ
    between stores) and each GROUP_CONCAT column as the set of its parts (SPARQL does
    not define their order)."""
    concat = concat or {}
    if result.kind == "ask":
        return [result.boolean]
    if result.kind == "graph":
        return sorted(str(t) for t in result.triples()
                      if not isinstance(t.subject, ox.BlankNode)
                      and not isinstance(t.object, ox.BlankNode))

    def cell(name, term):
        if name in concat and isinstance(term, ox.Literal):
            return tuple(sorted(term.value.split(concat[name])))
        return str(term)

    rows = [tuple(sorted((k, cell(k, v)) for k, v in row.items()
                         if not isinstance(v, ox.BlankNode))) for row in result.rows()]
    return sorted(rows)


def compare_named_queries(local: KnowledgeGraph, remote: KnowledgeGraph) -> int:
    """Every named query with its example parameters, in both evidence views; returns
    how many answers had rows (so a caller can insist that the check was not empty)."""
    with_rows = 0
    for named in local.queries:
        params = example_params(named)
        if params is None:
            continue
        concat = concatenations(named.text)
        for evidence in ("all", "verified"):
            expected = canonical(local.query(named.name, params, evidence=evidence), concat)
            got = canonical(remote.query(named.name, params, evidence=evidence), concat)
            assert got == expected, (named.name, evidence)
            with_rows += bool(expected) and evidence == "all"
    return with_rows


def cli(graph: KnowledgeGraph, *args: str, env: dict | None = None) -> str:
    options = ["--project", str(graph.project.root)]
    if graph.project.store_dir != graph.project.root / ".kg":
        options += ["--store", str(graph.project.store_dir)]
    if graph.remote is not None:
        options += ["--endpoint", graph.remote.endpoint, "--store-kind", graph.remote.kind]
    result = CliRunner(env=env).invoke(main, [*options, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


# kg path and kg decide keep the first answers among equal-ranked ones in the order the
# store lists them, so over another store they can pick other, equally short paths.
ORDER_DEPENDENT = {
    "path wfr:temporal wfr:payment-atomicity --evidence verified",
    "decide --require guarantee=wfr:durability --require language=Python"}


def compare_commands(local: KnowledgeGraph, remote: KnowledgeGraph, env: dict) -> list[str]:
    """kg cite, kg report, kg path and kg decide over both stores: the commands whose
    output differs (each must succeed and print something)."""
    differ = []
    for args in (["cite", "wfr:temporal"],
                 ["cite", "--query", "engine-backends", "--param", "engine=wfr:temporal",
                  "--format", "csl-json"],
                 ["report", "table", "engine-backends", "-p", "engine=wfr:temporal"],
                 ["report", "progress", "--format", "md"],
                 ["path", "wfr:temporal", "wfr:payment-atomicity"],
                 ["path", "wfr:temporal", "wfr:payment-atomicity", "--evidence", "verified"],
                 ["decide", "--require", "guarantee=wfr:durability",
                  "--require", "language=Python"]):
        expected = cli(local, *args)
        assert expected.strip(), args
        got = cli(remote, *args, env=env)
        if args[0] in ("path", "decide"):  # ties come in the store's row order
            got, expected = _loose(got), _loose(expected)
        if got != expected:
            differ.append(" ".join(args))
    return differ


def _loose(text: str) -> list:
    """Lines without their rank number, each as the sorted list of its '; ' parts, sorted:
    kg path and kg decide order equal-ranked answers as the store lists them."""
    return sorted(sorted(re.sub(r"^\s*\d+\. ", "", line).split("; "))
                  for line in text.splitlines())


def compare_service(local: KnowledgeGraph, remote: KnowledgeGraph) -> None:
    """The pages' machine twins (and the HTML pages' status) from the service over each."""
    paths = ["/api/search?q=saga", "/api/search?q=%E4%BA%8B%E4%BB%B6%E6%BA%AF%E6%BA%90",
             "/api/graph/path?from=wfr:tla-plus&to=wfr:payment-atomicity",
             "/api/progress"]
    pages = ["/", "/resource/temporal", "/search?q=saga", "/graph/path?from=wfr:tla-plus"
             "&to=wfr:payment-atomicity", "/queries/engine-backends?engine=wfr:temporal",
             "/source/lamport1994tla", "/progress"]
    policy = Policy(time_limit=20)
    with TestClient(create_app(local, policy=policy, workers=1)) as here, \
            TestClient(create_app(remote, policy=policy, workers=1)) as there:
        for path in paths:
            a, b = here.get(path), there.get(path)
            assert a.status_code == b.status_code == 200, (path, b.text[:300])
            assert _stable(b.json()) == _stable(a.json()), path
        for path in pages:
            a, b = here.get(path), there.get(path, headers={"Accept": "text/html"})
            assert b.status_code == 200, (path, b.text[:300])
            assert _links(b.text) == _links(a.text), path
        turtle = {"Accept": "text/turtle"}
        a = here.get("/resource/temporal", headers=turtle)
        b = there.get("/resource/temporal", headers=turtle)
        assert _ground(b.content) == _ground(a.content)


def _stable(answer):
    """A search answer as its hits (entity, type, status): which of an entity's several
    labels is shown depends on the order a store lists them in."""
    if isinstance(answer, dict) and "results" in answer and "facets" in answer:
        return {**answer, "results": [{k: v for k, v in hit.items()
                                       if k in ("iri", "type", "status")}
                                      for hit in answer["results"]]}
    return _unordered(answer)


def _unordered(value):
    """Lists as sorted lists (the order of nodes, links and rows is the store's)."""
    if isinstance(value, dict):
        return {k: _unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_unordered(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="(/(?:resource|source|queries)/[^"]*)"', html))


def _ground(turtle: bytes) -> set[str]:
    return {str(t) for t in ox.parse(turtle, format=ox.RdfFormat.TURTLE)
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}



# ------------------------------------------------------------------ small writes
TECHNOLOGIES = "https://w3id.org/workflow-kg/graph/data/technologies.ttl"
HISTORY = str(HISTORY_GRAPH)
TEMPORAL = "https://w3id.org/workflow-kg/resource/temporal"
ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
CASES = "https://w3id.org/workflow-kg/graph/data/cases.ttl"
MEASUREMENT = """<https://w3id.org/workflow-kg/resource/case-robinhood>
    <https://w3id.org/workflow-kg/ontology#hasMeasurement> ?m .
    ?m a <https://w3id.org/workflow-kg/ontology#Measurement> ;
    <https://w3id.org/workflow-kg/ontology#measures> "teams owning Airflow workers" ;
    <http://qudt.org/schema/qudt/numericValue> 12 ;
    <https://w3id.org/workflow-kg/ontology#unitText> "teams" ."""


def label_update(verb: str, *labels: ox.Literal) -> str:
    """INSERT DATA or DELETE DATA of skos:altLabels of Temporal in technologies.ttl (the
    terms written in their N-Triples form)."""
    body = " ".join(f"<{TEMPORAL}> <{ALT_LABEL}> {label} ." for label in labels)
    return f"{verb} DATA {{ GRAPH <{TECHNOLOGIES}> {{ {body} }} }}"


def graph_hashes(quads) -> dict[str, tuple[str, int]]:
    """Per graph (the default graph as ""): a content hash that does not depend on blank
    node labels, and the triple count."""
    graphs: dict[str, list[ox.Triple]] = {}
    for quad in quads:
        name = "" if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        graphs.setdefault(name, []).append(quad.triple)
    return {g: (content_hash(ts), len(ts)) for g, ts in graphs.items()}


def remote_counts(store: RemoteStore) -> dict[str, int]:
    """Per graph the push wrote (the default graph as ""), its triple count, in one query."""
    result = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                         "GROUP BY ?g", default_graph=[], named_graphs=store.named_graphs(
                             with_default=True))
    return {"" if row["g"].value == DEFAULT_GRAPH else row["g"].value: int(row["n"].value)
            for row in result.rows()}


def live_hashes(store_dir, hashed: set[str]) -> dict[str, tuple[str | None, int]]:
    """Per graph of the live store (the default graph as ""): as graph_hashes, but the
    content hash only of the graphs in `hashed` (None for the others)."""
    store = ox.Store.read_only(str(StoreLayout(store_dir).live()))
    counts: dict[str, int] = {}
    kept: list[ox.Quad] = []
    for quad in store.quads_for_pattern(None, None, None, None):
        name = "" if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        counts[name] = counts.get(name, 0) + 1
        if name in hashed:
            kept.append(quad)
    hashes = graph_hashes(kept)
    return {g: (hashes[g][0] if g in hashes else None, n) for g, n in counts.items()}


class Writer:
    """Writes through `kg serve --endpoint` (kg.pipeline.remote_write.apply, from a store
    folder of its own) over `store`, the curated data pushed there, recording the plan
    of each push and the requests that wrote; the same updates are run over an embedded
    copy of the curated store, to compare with."""

    def __init__(self, store: RemoteStore, curated: KnowledgeGraph, folder):
        self.store = store
        self.curated = curated
        self.service = dataclasses.replace(curated.project, store_dir=folder / "service")
        self.embedded = dataclasses.replace(curated.project, store_dir=folder / "embedded")
        shutil.copytree(curated.project.store_dir, self.embedded.store_dir, symlinks=True)
        self.plans: list = []
        self.sent: list[tuple[str, int, str]] = []  # (what, bytes, update text or "")
        self.written: set[str] = set()  # graphs the pushes sent since the last assert_same

    def write(self, sparql: str, *, embedded: bool = True):
        """One write through the service's path, with what its pushes sent recorded
        (`plans`, `sent`: this write's only); the same update over the embedded copy."""
        store, real_push, real_request = self.store, self.store.push, self.store.transport.request
        updates, graph_store = store.update_endpoint, store.store_endpoint
        self.plans, self.sent = [], []

        def push(*args, **kwargs):
            self.plans.append(real_push(*args, **kwargs))
            self.written |= set(self.plans[-1].send) | set(self.plans[-1].drop)
            return self.plans[-1]

        def request(method, url, *, data=None, **kwargs):
            if url == updates and data:
                self.sent.append(("update", len(data), urllib.parse.parse_qs(
                    data.decode()).get("update", [""])[0]))
            elif url.startswith(graph_store) and method in ("PUT", "POST"):
                self.sent.append(("graph store", len(data or b""), ""))
            return real_request(method, url, data=data, **kwargs)

        store.push, store.transport.request = push, request
        try:
            result = remote_write.apply(store, "apply_update", project=self.service,
                                        agent="test", sparql=sparql)
        finally:
            del store.push, store.transport.request
        if embedded:
            update.apply_update(self.embedded, sparql, agent="test")
        return result

    def assert_same(self) -> None:
        """The remote dataset is the service's written version, and the embedded store's
        result of the same writes (the history graph: as many triples; its records name
        other versions and times): the graphs written since the last check quad for quad,
        every graph by its triple count (reading the whole remote dataset each time
        would cost a second or more a check)."""
        written, self.written = self.written, set()
        remote = graph_hashes(self.store.quads(written))
        written = {"" if g == DEFAULT_GRAPH else g for g in written}
        (copy,) = remote_write._KEPT  # the service's copy, at the version it pushed
        service = live_hashes(copy.folder, written)
        embedded = live_hashes(self.embedded.store_dir, written)
        counts = remote_counts(self.store)
        assert counts == {g: n for g, (_, n) in service.items()}
        assert counts == {g: n for g, (_, n) in embedded.items()}
        assert remote == {g: service[g] for g in written if g in service}
        remote.pop(HISTORY, None)
        assert remote == {g: embedded[g] for g in written if g in embedded and g != HISTORY}

    def restore(self) -> None:
        """The curated dataset on the remote again (the module's other tests read it)."""
        remote_write.forget()
        self.store.push(self.curated.store.quads())
        assert graph_hashes(self.store.quads()) == graph_hashes(self.curated.store.quads())


class SmallWrites:
    """Small writes through `kg serve --endpoint` send differences and land as over the
    embedded store (each store's test module subclasses this, with a `writer` fixture)."""

    def test_a_one_label_write_sends_only_its_difference(self, writer):
        writer.write(label_update("INSERT", ox.Literal("first small write", language="en")))
        assert writer.plans[0].whole == [HISTORY]  # a new graph: sent whole
        assert writer.plans[0].delta == {TECHNOLOGIES: (0, 1)}
        writer.assert_same()
        before = writer.store.manifest()
        result = writer.write(label_update("INSERT", ox.Literal("small write", language="en")))
        assert result.added == 1
        (plan,) = writer.plans
        # only the graphs the write changed are hashed; the others keep their entries
        assert plan.hashed == sorted([TECHNOLOGIES, HISTORY])
        assert plan.unchanged == sorted(set(before) - {TECHNOLOGIES, HISTORY})
        assert plan.whole == [] and set(plan.send) == {TECHNOLOGIES, HISTORY}
        assert plan.delta[TECHNOLOGIES] == (0, 1) and plan.delta[HISTORY][0] == 0
        assert plan.send[TECHNOLOGIES] > 800  # the triples it did not send
        ((kind, size, text),) = writer.sent  # one request, nothing staged
        assert kind == "update" and size < 8000 and "MOVE" not in text
        assert [" ".join(op.split()[:2]) for op in text.split(" ;\n")] == [
            "INSERT DATA",  # the two graphs' entries marked pending
            "INSERT DATA", "INSERT DATA",  # their differences
            "DELETE {"]  # their entries replaced
        writer.assert_same()

    def test_a_label_replaced_by_another_is_sent_though_the_count_is_the_same(self, writer):
        old, new = (ox.Literal(text, language="en") for text in ("old name", "new name"))
        writer.write(label_update("INSERT", old))
        counts = {g: n for g, (_, n) in writer.store.manifest().items()}
        writer.write(label_update("DELETE", old) + " ;\n" + label_update("INSERT", new))
        (plan,) = writer.plans
        assert plan.hashed == sorted([TECHNOLOGIES, HISTORY])
        assert plan.delta[TECHNOLOGIES] == (1, 1) and plan.whole == []
        assert plan.hashes[TECHNOLOGIES][1] == counts[TECHNOLOGIES]
        writer.assert_same()

    def test_a_second_identical_write_sends_nothing(self, writer):
        text = label_update("INSERT", ox.Literal("written twice", language="en"))
        writer.write(text)
        before = writer.store.manifest()
        result = writer.write(text)
        assert result.store_path is None and result.added == 0
        assert writer.plans == [] and writer.sent == []
        assert writer.store.manifest() == before

    def test_literals_with_quotes_newlines_tags_and_other_scripts_round_trip(self, writer):
        labels = (ox.Literal('say "hi"\nto the \\ next line\t', language="en-GB"),
                  ox.Literal("事件溯源 é ✓ 😀", language="zh"),
                  ox.Literal("it's '''odd'''", language="en"))
        writer.write(label_update("INSERT", *labels))
        assert writer.plans[0].delta[TECHNOLOGIES] == (0, 3)
        writer.assert_same()
        for label in labels:
            ask = f"ASK {{ GRAPH <{TECHNOLOGIES}> {{ <{TEMPORAL}> <{ALT_LABEL}> {label} }} }}"
            assert writer.store.query(ask, default_graph=[], named_graphs=[TECHNOLOGIES]
                                      ).boolean, label
        writer.write(label_update("DELETE", *labels))
        assert writer.plans[0].delta[TECHNOLOGIES] == (3, 0)
        writer.assert_same()

    def test_a_failed_difference_request_changes_nothing_or_is_sent_whole_next(
            self, writer, monkeypatch):
        """The push's one request fails just before it records the new hashes (a DROP of
        a graph that does not exist). Over a store that runs a request as one transaction
        the remote is unchanged; over one that does not, the data changed and the graphs
        the request changed are marked pending in the manifest, and the next write sends
        them whole and lands as embedded."""
        store = writer.store
        writer.write(label_update("INSERT", ox.Literal("before the failure", language="en")))
        manifest = store.manifest()
        dataset = graph_hashes(store.quads()) if store.dialect.atomic_update else None
        real = RemoteStore._swap

        def failing(*args):
            *ops, record = real(*args).split(" ;\n")
            return " ;\n".join([*ops, "DROP GRAPH <urn:kg-test:never-there>", record])

        monkeypatch.setattr(RemoteStore, "_swap", failing)
        lost = label_update("INSERT", ox.Literal("lost write", language="en"))
        with pytest.raises(RemoteError, match="push failed"):
            writer.write(lost, embedded=False)
        assert [kind for kind, _, _ in writer.sent] == ["update"]
        monkeypatch.undo()
        if store.dialect.atomic_update:
            assert store.manifest() == manifest
            assert graph_hashes(store.quads()) == dataset
        else:
            assert store.manifest() == {**manifest, **{
                g: (PENDING, manifest[g][1]) for g in (TECHNOLOGIES, HISTORY)}}
            update.apply_update(writer.embedded, lost, agent="test")  # it landed
        writer.write(label_update("INSERT", ox.Literal("after", language="en")))
        assert writer.plans[0].whole == ([] if store.dialect.atomic_update
                                         else [TECHNOLOGIES, HISTORY])
        writer.assert_same()

    def test_a_write_finding_another_writer_first_is_refused(self, writer, monkeypatch):
        store = writer.store
        writer.write(label_update("INSERT", ox.Literal("first", language="en")))
        # the graphs the refused write would change, quad for quad; every graph's count
        touched = (TECHNOLOGIES, HISTORY)
        dataset = graph_hashes(store.quads(touched)), remote_counts(store)
        other = (f"INSERT DATA {{ GRAPH <{PUSH_GRAPH}> {{ <urn:kg-test:other> "
                 "<http://purl.org/dc/terms/identifier> \"sha256:other\" ; "
                 "<http://rdfs.org/ns/void#triples> 1 } }")
        real = RemoteStore.push

        def another_writer_first(self, *args, **kwargs):
            self.update(other)  # what another service's push does to the manifest
            return real(self, *args, **kwargs)

        monkeypatch.setattr(RemoteStore, "push", another_writer_first)
        with pytest.raises(BuildLocked):
            writer.write(label_update("INSERT", ox.Literal("second", language="en")),
                         embedded=False)
        monkeypatch.undo()
        store.update(other.replace("INSERT DATA", "DELETE DATA"))
        assert (graph_hashes(store.quads(touched)), remote_counts(store)) == dataset

    def test_a_difference_that_misses_is_sent_again_whole(self, writer):
        """A triple put into a graph behind the manifest's back: the writer's copy does
        not have it, so the difference leaves the graph one triple off; its count read
        back says so, and the graph is sent again whole."""
        writer.write(label_update("INSERT", ox.Literal("kept copy", language="en")))
        writer.store.update(f"INSERT DATA {{ GRAPH <{TECHNOLOGIES}> {{ <{TEMPORAL}> "
                            f"<{ALT_LABEL}> \"behind its back\"@en }} }}")
        writer.write(label_update("INSERT", ox.Literal("next", language="en")))
        (plan,) = writer.plans
        assert TECHNOLOGIES in plan.delta and plan.resent == [TECHNOLOGIES]
        writer.assert_same()
