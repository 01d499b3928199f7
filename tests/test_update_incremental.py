"""The incremental write path gives exactly what the full one gives: for random small
updates (labels, links, types, statements and their statuses, and seeded violations:
a lost label, an undeclared term, a dangling reference), the derived and inferred graphs
and the SHACL violations computed from the change alone equal those recomputed over the
whole dataset (kg.pipeline.delta.rebuild, the closure `kg build` computes); on the fixture data,
the curated data and generated data. And the delta an update reports is exactly what
Oxigraph's own update does to the store."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kg import KnowledgeGraph
from kg.namespaces import GRAPH, PREFIXES
from kg.pipeline import delta as deltas
from kg.pipeline.store import StoreLayout
from kg.pipeline.update import Carried, pipeline, run_update

WF, WFR = PREFIXES["wf"], PREFIXES["wfr"]
RDFS, SKOS = PREFIXES["rdfs"], PREFIXES["skos"]
TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
SETTINGS = settings(max_examples=4, deadline=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


class Dataset:
    """A built store in memory, and the terms random updates are made of."""

    def __init__(self, graph: KnowledgeGraph, data_graph: str):
        live = StoreLayout(graph.project.store_dir).live()
        self.project = graph.project
        self.store = ox.Store()
        self.store.bulk_extend(ox.Store.read_only(str(live)).quads_for_pattern(
            None, None, None, None))
        self.graph = ox.NamedNode(data_graph)
        data = list(self.store.quads_for_pattern(None, None, None, self.graph))
        self.entities = sorted({q.subject for q in data if isinstance(q.subject, ox.NamedNode)
                                and q.predicate == TYPE}, key=str)[:60]
        self.triples = sorted(data, key=str)
        self.links = [q for q in self.triples if isinstance(q.object, ox.NamedNode)
                      and q.predicate != TYPE][:400]
        self.classes = sorted({q.object for q in data if q.predicate == TYPE}, key=str)
        self.statements = sorted({q.subject for q in data if q.predicate == TYPE
                                  and q.object.value == WF + "Statement"}, key=str)

    def copy(self) -> ox.Store:
        out = ox.Store()
        out.bulk_extend(self.store.quads_for_pattern(None, None, None, None))
        return out


def _term(t: ox.NamedNode | ox.Literal | ox.BlankNode) -> str:
    return str(t)


def _quad_text(q: ox.Quad) -> str:
    return f"{_term(q.subject)} {_term(q.predicate)} {_term(q.object)} ."


def change_text(ds: Dataset, moves: list[tuple[str, int, int]]) -> str:
    """An update made of random small moves over the dataset's own terms."""
    inserts: list[str] = []
    deletes: list[str] = []
    for kind, i, j in moves:
        entity = ds.entities[i % len(ds.entities)]
        other = ds.entities[j % len(ds.entities)]
        if kind == "label":
            inserts.append(f"{entity} <{SKOS}altLabel> \"alt {i} {j}\"@en .")
        elif kind == "drop-triple":
            deletes.append(_quad_text(ds.triples[(i * 7919 + j) % len(ds.triples)]))
        elif kind == "drop-link":
            deletes.append(_quad_text(ds.links[(i * 31 + j) % len(ds.links)]))
        elif kind == "copy-link":
            link = ds.links[(i * 31 + j) % len(ds.links)]
            inserts.append(f"{other} {link.predicate} {link.object} .")
        elif kind == "type":
            inserts.append(f"{entity} a {ds.classes[j % len(ds.classes)]} .")
        elif kind == "status" and ds.statements:
            node = ds.statements[(i * 13 + j) % len(ds.statements)]
            status = ["Verified", "Unverified", "Contradicted"][j % 3]
            for quad in ds.store.quads_for_pattern(node, ox.NamedNode(WF + "evidenceStatus"),
                                                   None, ds.graph):
                deletes.append(_quad_text(quad))
            inserts.append(f"{node} <{WF}evidenceStatus> <{WF}{status}> .")
        elif kind == "statement":
            link = ds.links[(i * 31 + j) % len(ds.links)]
            inserts.append(
                f"[] a <{WF}Statement> ; <{PREFIXES['rdf']}subject> {other} ; "
                f"<{PREFIXES['rdf']}predicate> {link.predicate} ; "
                f"<{PREFIXES['rdf']}object> {link.object} ; "
                f"<{WF}evidenceStatus> <{WF}Unverified> ; <{WF}evidenceNote> \"searched\"@en .")
        elif kind == "undeclared-term":
            inserts.append(f"{entity} <{WF}colour{j % 3}> \"red\" .")
        elif kind == "dangling":
            inserts.append(f"{entity} <{WF}relatedTo> <{WFR}nowhere-{j % 5}> .")
    parts = []
    if deletes:
        parts.append(f"DELETE DATA {{ GRAPH {ds.graph} {{ {' '.join(deletes)} }} }}")
    if inserts:
        parts.append(f"INSERT DATA {{ GRAPH {ds.graph} {{ {' '.join(inserts)} }} }}")
    return " ;\n".join(parts)


MOVES = st.lists(st.tuples(
    st.sampled_from(["label", "drop-triple", "drop-link", "copy-link", "type", "status",
                     "statement", "undeclared-term", "dangling"]),
    st.integers(0, 10_000), st.integers(0, 10_000)), min_size=1, max_size=3)


def both_paths(ds: Dataset, text: str, merged: bool = False):
    """The store and the violations after the update, by the incremental and by the
    full path (None when the update changes nothing); with `merged`, the incremental
    path validates over the merged copy of the validated graphs (deltas.Merged)."""
    before = ds.store
    incremental = ds.copy()
    copy = deltas.Merged(before, ds.project) if merged else None
    change = run_update(incremental, text)
    if not change:
        return None
    full = ox.Store()
    full.bulk_extend(incremental.quads_for_pattern(None, None, None, None))
    _, report_i, path = pipeline(ds.project, before, incremental, change, stamp="t",
                                 carried=Carried(copy))
    _, report_f, _ = pipeline(ds.project, before, full, change, stamp="t", force_full=True)
    return (set(incremental.quads_for_pattern(None, None, None, None)), report_i.violations,
            set(full.quads_for_pattern(None, None, None, None)), report_f.violations, path)


def check(ds: Dataset, moves, merged: bool = False) -> str | None:
    text = change_text(ds, moves)
    if not text:
        return None
    out = both_paths(ds, text, merged)
    if out is None:
        return None
    quads_i, violations_i, quads_f, violations_f, path = out
    assert quads_i - quads_f == set() and quads_f - quads_i == set(), text
    assert violations_i == violations_f, text
    return path


@pytest.fixture(scope="module")
def mini(mini_graph) -> Dataset:
    return Dataset(mini_graph, str(GRAPH["data/mini.ttl"]))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Dataset:
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = tmp_path_factory.mktemp("generated") / "project"
    generate = ROOT / "benchmarks" / "peers" / "generate.py"
    subprocess.run([sys.executable, str(generate), "--triples", "2500", "--seed", "7",
                    "--out", str(out)], check=True, capture_output=True)
    graph = KnowledgeGraph(out)
    graph.build()
    return Dataset(graph, str(GRAPH["data/synthetic.ttl"]))


@given(moves=MOVES, merged=st.booleans())
@SETTINGS
def test_incremental_equals_full_on_the_fixture_data(mini, moves, merged):
    check(mini, moves, merged)


@given(moves=MOVES)
@settings(SETTINGS, max_examples=2)
def test_incremental_equals_full_on_generated_data(generated, moves):
    check(generated, moves, merged=True)


_CURATED: list[Dataset] = []


def curated_dataset(curated) -> Dataset:
    if not _CURATED:
        _CURATED.append(Dataset(curated, str(GRAPH["data/technologies.ttl"])))
    return _CURATED[0]


@pytest.mark.slow
@given(moves=MOVES)
@settings(SETTINGS, max_examples=2)
def test_incremental_equals_full_on_the_curated_data(curated, moves):
    check(curated_dataset(curated), moves, merged=True)


def test_a_label_and_a_status_change_take_the_local_path(mini):
    """The fast path is really taken for the common small updates (a predicate that a
    shape names as sh:path is no reason for the full path)."""
    label = check(mini, [("label", 0, 0)])
    assert label == "local"
    assert check(mini, [("status", 0, 1)]) == "local"


def test_an_ontology_change_takes_the_full_path(mini):
    text = (f"INSERT DATA {{ GRAPH {GRAPH['ontology/workflow-kg.ttl'].n3()} {{ "
            f"<{WF}WorkflowEngine> <{RDFS}subClassOf> <{WF}Mechanism> }} }}")
    quads_i, violations_i, quads_f, violations_f, path = both_paths(mini, text)
    assert path == "full" and quads_i == quads_f and violations_i == violations_f


def test_the_carried_vocabulary_is_read_again_when_a_change_can_alter_it(mini):
    """The vocabulary tables a write carries to the next (update.Carried) are those of the
    store it leaves: kept through a label write, read again after a write that makes a
    property symmetric, so that the next write infers the inverse triple as the full
    path does."""
    wfr, owl = PREFIXES["wfr"], PREFIXES["owl"]
    a, b = mini.entities[0], mini.entities[1]
    carried = Carried()
    store = mini.store

    def write(text: str) -> tuple[ox.Store, str]:
        nonlocal store
        before, after = store, ox.Store()
        after.bulk_extend(before.quads_for_pattern(None, None, None, None))
        change = run_update(after, f"INSERT DATA {{ GRAPH {mini.graph} {{ {text} }} }}")
        _, _, path = pipeline(mini.project, before, after, change, stamp="carry",
                              carried=carried)
        store = after
        return before, path

    write(f"{a} <{PREFIXES['skos']}altLabel> \"one\"@en")
    kept = carried.vocabulary
    write(f"{a} <{PREFIXES['skos']}altLabel> \"two\"@en")
    assert kept is not None and carried.vocabulary is kept
    write(f"<{wfr}near> a <{owl}ObjectProperty> , <{owl}SymmetricProperty>")
    assert carried.vocabulary is not kept
    assert ox.NamedNode(wfr + "near") in carried.vocabulary.symmetric
    before, path = write(f"{a} <{wfr}near> {b}")
    assert path == "local"
    full = ox.Store()
    full.bulk_extend(before.quads_for_pattern(None, None, None, None))
    change = run_update(full, f"INSERT DATA {{ GRAPH {mini.graph} {{ {a} <{wfr}near> {b} }} }}")
    pipeline(mini.project, before, full, change, stamp="carry", force_full=True)
    inverse = ox.Quad(b, ox.NamedNode(wfr + "near"), a, deltas.INFERRED)
    assert inverse in full
    assert set(store.quads_for_pattern(None, None, None, None)) == set(
        full.quads_for_pattern(None, None, None, None))


UPDATES = [
    "DELETE WHERE {{ GRAPH {g} {{ ?s <{skos}definition> ?d }} }}",
    "DELETE {{ GRAPH {g} {{ ?s <{rdfs}label> ?l }} }} INSERT {{ GRAPH {g} {{ ?s <{rdfs}label> "
    "'renamed'@en }} }} WHERE {{ GRAPH {g} {{ ?s <{rdfs}label> ?l FILTER (lang(?l) = 'en') }} }}",
    "WITH {g} INSERT {{ ?s <{skos}altLabel> 'also' }} WHERE {{ ?s a ?c }}",
    "INSERT {{ ?s <{skos}note> 'default' }} WHERE {{ GRAPH ?g {{ ?s a ?c }} }}",
    "CLEAR DEFAULT ; INSERT DATA {{ <urn:a> <urn:b> 'c' }} ; ADD DEFAULT TO <urn:x:copy>",
    "COPY {g} TO <urn:x:copy> ; DELETE DATA {{ GRAPH <urn:x:copy> {{ {first} }} }}",
    "PREFIX e: <{wfr}> INSERT DATA {{ e:engine-a <{skos}altLabel> 'p'@en }} ; "
    "DELETE DATA {{ e:engine-a <{skos}altLabel> 'p'@en }} ; INSERT DATA {{ e:engine-b "
    "<{skos}altLabel> 'q'@en }}",
    "DROP SILENT GRAPH <urn:x:missing> ; MOVE {g} TO <urn:x:moved>",
]


@pytest.mark.parametrize("template", UPDATES)
def test_the_delta_of_an_update_is_what_oxigraph_does(mini, template):
    text = template.format(g=mini.graph, skos=SKOS, rdfs=RDFS, wfr=WFR,
                           first=_quad_text(mini.triples[0]).rstrip(" ."))
    ours, theirs = mini.copy(), mini.copy()
    change = run_update(ours, text)
    theirs.update(text, prefixes=PREFIXES)
    expected = set(theirs.quads_for_pattern(None, None, None, None))
    assert set(ours.quads_for_pattern(None, None, None, None)) == expected
    original = set(mini.store.quads_for_pattern(None, None, None, None))
    assert change.added == expected - original and change.removed == original - expected
    assert change


def test_touched_nodes_are_subjects_and_objects():
    a, b = ox.NamedNode("urn:a"), ox.NamedNode("urn:b")
    quads = {ox.Quad(a, ox.NamedNode("urn:p"), b), ox.Quad(a, ox.NamedNode("urn:q"),
                                                            ox.Literal("x"))}
    assert deltas.touched(quads) == {a, b}


SEEDED_BAD = [  # each breaks a shape; the first two are the HTTP tests' refused updates
    "INSERT DATA {{ GRAPH {g} {{ <{wfr}engine-a> <{wf}supportsBackend> <{wfr}db-z> }} }}",
    "INSERT DATA {{ GRAPH {g} {{ <{wfr}engine-a> <{wf}colour> 'red' }} }}",
    "DELETE WHERE {{ GRAPH {g} {{ <{wfr}engine-a> <{skos}definition> ?d }} }}",
    "DELETE {{ GRAPH {g} {{ <{wfr}engine-a> <{rdfs}label> ?l }} }} "
    "WHERE {{ GRAPH {g} {{ <{wfr}engine-a> <{rdfs}label> ?l FILTER (lang(?l) = 'en') }} }}",
    "INSERT DATA {{ GRAPH {g} {{ <{wfr}engine-a> <{rdfs}label> 'second'@en }} }}",
    "INSERT DATA {{ GRAPH {g} {{ <{wfr}engine-a> <{rdfs}label> 'no language' }} }}",
    "INSERT DATA {{ GRAPH {g} {{ <{wfr}engine-a> <{wf}relatedTo> <{wfr}nowhere> }} }}",
]


def _shown(violations) -> set[tuple]:
    return {(v.focus, v.path, v.constraint, v.message, v.value) for v in violations}


@pytest.mark.parametrize("template", SEEDED_BAD)
def test_the_focus_validation_reports_what_pyshacl_reports(mini, template):
    """The SPARQL-compiled shapes run on the focus nodes in the store give pySHACL's
    results about those nodes over the whole dataset (SPARQL-based constraints are
    evaluated by SPARQL on both sides: pySHACL is the reference for the core ones)."""
    from kg.pipeline.shapes import validate_graph
    from kg.pipeline.update import _shapes

    text = template.format(g=mini.graph, wf=WF, wfr=WFR, skos=SKOS, rdfs=RDFS)
    store = mini.copy()
    change = run_update(store, text)
    assert change, text
    _, report, path = pipeline(mini.project, mini.store, store, change, stamp="seeded")
    assert path == "local" and not report.conforms, text
    focus = deltas.focus_nodes(store, change.changed, deltas.not_validated(mini.project))
    graphs = [g if isinstance(g, ox.DefaultGraph) else ox.NamedNode(g)
              for g in deltas.validated_graphs(store, mini.project)]
    data = deltas.rdflib_graph(q for g in graphs
                               for q in store.quads_for_pattern(None, None, None, g))
    reference = validate_graph(data, _shapes(mini.project, "seeded"),
                               focus={deltas.term_to_rdflib(n) for n in focus},
                               engine="pyshacl")
    assert _shown(report.violations) == _shown(reference.violations), text


def test_a_blank_node_write_is_validated_whole_over_the_merged_copy(mini, monkeypatch):
    """A statement written as a blank node cannot be named as a focus node, so the whole
    dataset is validated, over the merged copy when there is one: the same violations
    as the full path over the store's graphs (a statement with two subjects)."""
    seen = []
    real = deltas.validate_all
    monkeypatch.setattr(deltas, "validate_all", lambda store, project, shapes, merged=None: (
        seen.append(merged), real(store, project, shapes, merged))[1])
    link = mini.links[0]
    text = (f"INSERT DATA {{ GRAPH {mini.graph} {{ [] a <{WF}Statement> ; "
            f"<{PREFIXES['rdf']}subject> {mini.entities[0]} , {mini.entities[1]} ; "
            f"<{PREFIXES['rdf']}predicate> {link.predicate} ; "
            f"<{PREFIXES['rdf']}object> {link.object} ; "
            f"<{WF}evidenceStatus> <{WF}Unverified> ; <{WF}evidenceNote> \"searched\"@en . }} }}")
    _, violations_i, _, violations_f, _ = both_paths(mini, text, merged=True)
    assert isinstance(seen[0], deltas.Merged) and seen[1] is None  # incremental, then full
    assert any("exactly one rdf:subject" in v.message for v in violations_i)
    assert violations_i == violations_f


def test_a_write_takes_the_merged_copy_the_previous_write_kept_in_step(curated, tmp_path,
                                                                      monkeypatch):
    """The merged copy a write follows (kg.pipeline.delta.Merged) is the next write's,
    instead of merging every graph again; after a label write and a statement write it
    is still exactly the merged copy of the store they left."""
    import dataclasses
    import shutil

    from kg.pipeline import update

    project = dataclasses.replace(curated.project, store_dir=tmp_path / "store")
    shutil.copytree(curated.project.store_dir, project.store_dir, symlinks=True)
    made = []
    merge = deltas.Merged.__init__
    monkeypatch.setattr(deltas.Merged, "__init__",
                        lambda self, *args: made.append(1) or merge(self, *args))
    cases, wfr = GRAPH["data/cases.ttl"].n3(), PREFIXES["wfr"]
    prefixes = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
    first = update.apply_update(project, prefixes + f"""INSERT DATA {{ GRAPH {cases} {{
        wfr:fintech skos:altLabel "money movement"@en }} }}""")
    assert len(made) == 1 and first.path == "local"
    second = update.apply_update(project, prefixes + f"""INSERT DATA {{ GRAPH {cases} {{
        <{wfr}statement-carried> a wf:Statement ; rdf:subject wfr:fintech ;
            rdf:predicate wf:requiresProperty ; rdf:object wfr:bounded-latency ;
            wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:temporal-case-coinbase ;
            wf:evidenceNote "Written by a test into a copy of the store." }} }}""")
    assert len(made) == 1  # the second write took the copy the first one kept
    assert any("derived" in g for g in second.changed)  # it derived a triple
    carried = update._CARRIED[second.store_path]
    published = ox.Store.read_only(str(second.store_path))
    fresh = deltas.Merged(published, project).store
    assert set(carried.merged.store.quads_for_pattern(None, None, None)) == set(
        fresh.quads_for_pattern(None, None, None))
    # the statement took the full path, which may change the vocabulary: its tables are
    # not carried; a local write reads them again and carries them, equal to a fresh read
    assert second.path == "full" and carried.vocabulary is None
    third = update.apply_update(project, prefixes + f"""INSERT DATA {{ GRAPH {cases} {{
        wfr:fintech skos:altLabel "payments"@en }} }}""")
    carried = update._CARRIED[third.store_path]
    tables = deltas.Vocabulary.of(ox.Store.read_only(str(third.store_path)), project)
    assert third.path == "local" and vars(carried.vocabulary) == vars(tables)
