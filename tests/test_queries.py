"""Named queries: headers, parameters bound as terms, error exits, output formats, and
each competency query's answer on the fixture data."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest

from kg import ParameterError, QueryNotFound
from kg.query.queries import QueryRegistry, with_values
from kg.query.results import width
from tests.conftest import ROOT, Cli

W = "https://w3id.org/workflow-kg/resource/"
ONT = "https://w3id.org/workflow-kg/ontology#"


def test_every_query_file_has_a_valid_header_and_parses():
    registry = QueryRegistry(ROOT / "queries")
    assert len(registry) >= 15
    empty = ox.Store()
    for query in registry:
        assert query.title and query.description, query.name
        assert query.examples and all(e.startswith("kg query " + query.name)
                                      for e in query.examples), query.name
        # bind every parameter to a value of its type, then let pyoxigraph parse it
        samples = {"iri": "wfr:x", "string": "x", "integer": "1", "decimal": "1.5",
                   "boolean": "true", "date": "2026-01-01"}
        bindings = query.bindings({p.name: samples[p.type] for p in query.parameters})
        empty.query(with_values(query.text, bindings))


def test_values_block_is_built_from_terms_not_text():
    text = "SELECT ?x WHERE { ?x ?p ?o } # WHERE { in a comment"
    evil = ox.Literal('x" } ; DROP ALL ; SELECT * { "')
    bound = with_values(text, {"o": evil})
    result = ox.Store().query(bound)  # still one well-formed SELECT
    assert list(result) == []
    assert bound.index("VALUES") < bound.index("?x ?p ?o")


# expected answers on tests/data/mini.ttl, written from the fixture's meaning
EXPECTED = [
    ("cases-by-technology", {"tech": "engine-a"}, "case", [W + "case-o"]),
    ("cases-by-technology", {"tech": "engine-b"}, "case", []),
    ("engine-backends", {}, "status", [ONT + "Verified", ONT + "Contradicted", ONT + "Unverified"]),
    ("engine-backends", {"engine": "wfr:engine-b"}, "backend", [W + "db-y"]),
    ("sdk-matrix", {}, "language", ["Go"]),
    ("benchmarks", {"backend": "wfr:db-x"}, "value", ["250.5"]),
    ("benchmarks", {"backend": "wfr:db-y"}, "finding", []),
    ("benchmarks", {"metric": "wf:Latency"}, "finding", []),
    ("benchmarks", {"backend": "wfr:db-x"}, "origin", ["published"]),
    ("benchmarks", {"only": "own"}, "finding", []),
    ("own-runs", {}, "run", []),  # the fixture has no programme run: see test_engines.py
    ("verification-by-property", {"property": "prop-atomic"}, "result", [ONT + "BugFound"]),
    ("verification-by-property", {"property": "prop-fast"}, "finding", []),
    ("theory-property-evidence", {}, "sources", ["doe2020fixture"]),
    ("courses-theories-properties", {}, "topic", [W + "logic-t"]),
    ("unverified", {"status": "wf:Contradicted"}, "object", [W + "db-y"]),
    ("entities-without-evidence", {}, "entity", [W + "engine-b", W + "org-p"]),
    ("success-indicators", {}, "current", ["1"]),
    ("plan-progress", {}, "withVerifiedEvidence", ["2", "0"]),
    ("plan-progress", {}, "claimsNotVerified", ["1", "2"]),
    ("risks", {}, "threatens", [W + "phase-1"]),
    ("mechanisms", {"technology": "engine-a"}, "property", [W + "prop-atomic"]),
    ("technology-selection", {"language": "Go"}, "engine", [W + "engine-a"]),
    ("technology-selection", {"property": "prop-atomic"}, "mechanism", [W + "mech-log"]),
    ("technology-selection", {"backend": "db-y"}, "engine", [W + "engine-b"]),
    ("citations", {"entity": "engine-a"}, "key", ["fixture-doc"]),
    ("citations", {"entity": "db-y"}, "key", ["fixture-doc"]),
    ("citations", {"entity": "prop-atomic"}, "key", ["doe2020fixture"]),
    ("citations", {"entity": "case-o"}, "key", ["doe2020fixture", "fixture-doc"]),
    ("domain-properties", {}, "kind", [ONT + "SafetyProperty"]),
    ("connection", {"a": "engine-a", "b": "prop-atomic"}, "via", [W + "case-o", W + "mech-log"]),
    ("plan-vs-evidence", {"status": "wf:Unverified"}, "claimLabel",
     ["Engine B supports backend DB Y"]),
    ("plan-vs-evidence", {"phase": "wfr:phase-1"}, "task",
     [W + "task-1", W + "task-2", W + "task-2"]),
    ("case-matrix", {}, "case", [W + "case-o", W + "case-p"]),
    ("case-matrix", {"engine": "engine-a"}, "patterns", ["Event log"]),
    ("plan-claims", {}, "object", [W + "db-y", W + "prop-atomic", W + "db-y"]),
    ("plan-claims", {"status": "wf:Contradicted"}, "sourcesSay",
     ["The docs say Org O pays on Engine A.", "The docs list only DB X."]),
]


@pytest.mark.parametrize(("name", "params", "column", "expected"), EXPECTED,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(EXPECTED)])
def test_competency_query_answers_on_fixture(mini_graph, name, params, column, expected):
    assert mini_graph.query(name, params).values(column) == expected


def test_every_named_query_has_a_fixture_expectation():
    covered = {name for name, *_ in EXPECTED}
    assert covered == {q.name for q in QueryRegistry(ROOT / "queries")}


def test_parameter_errors(mini_graph):
    with pytest.raises(ParameterError, match="needs parameter 'entity'"):
        mini_graph.query("citations")
    with pytest.raises(ParameterError, match="no parameter 'colour'"):
        mini_graph.query("benchmarks", {"colour": "red"})
    with pytest.raises(QueryNotFound, match="did you mean benchmarks"):
        mini_graph.query("benchmark")


def test_cli_exit_codes_and_messages(built_cli):
    unknown = built_cli("query", "no-such-query")
    assert unknown.exit_code == 2 and "no named query 'no-such-query'" in unknown.stderr
    missing = built_cli("query", "citations")
    assert missing.exit_code == 2 and "needs parameter 'entity'" in missing.stderr
    typed = built_cli("query", "citations", "--param", "entity=not an iri")
    assert typed.exit_code == 2 and "entity='not an iri' names nothing" in typed.stderr
    syntax = built_cli("query", "-e", "SELECT ?x WHERE { ?x ?p }")
    assert syntax.exit_code == 2 and "line 1, column " in syntax.stderr
    bad_param = built_cli("query", "benchmarks", "--param", "metric")
    assert bad_param.exit_code == 2 and "name=value" in bad_param.stderr


def test_cli_output_formats(built_cli):
    args = ("query", "engine-backends", "--param", "engine=engine-a")
    rows = list(csv.DictReader(io.StringIO(built_cli(*args, "--format", "csv").stdout)))
    assert [r["backend"] for r in rows] == [W + "db-x", W + "db-y"]
    tsv = built_cli(*args, "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[:2] == ["?engine", "?backend"]
    data = json.loads(built_cli(*args, "--format", "json").stdout)
    assert [b["backend"]["value"] for b in data["results"]["bindings"]] == [W + "db-x", W + "db-y"]
    table = built_cli(*args, "--wide").stdout  # full cells: the clamped table is tested apart
    assert "wfr:db-x" in table and "(2 rows)" in table
    md = built_cli(*args, "--format", "md").stdout.splitlines()
    assert md[0].startswith("| engine | backend |") and md[1].startswith("|---|")
    ask = built_cli("query", "-e", "ASK { wfr:engine-a wf:supportsBackend wfr:db-y }")
    assert ask.stdout.strip() == "false"  # contradicted: not derived
    construct = built_cli("query", "-e", "CONSTRUCT WHERE { wfr:engine-a wf:supportsBackend ?b }",
                          "--format", "nt").stdout
    assert construct.strip() == f"<{W}engine-a> <{ONT}supportsBackend> <{W}db-x> ."


def test_queries_listing(cli):
    listing = cli("queries", "--format", "json")
    entries = {q["name"]: q for q in json.loads(listing.stdout)}
    assert entries["cases-by-technology"]["parameters"][0] == {
        "name": "tech", "type": "iri", "default": "wfr:temporal", "required": False,
        "description": "the technology (e.g. wfr:temporal, wfr:cadence)"}
    assert "Case studies by technology" in cli("queries").stdout


# ------------------------------------------------------------ answers that never mislead
# Each case here has its HTTP twin in tests/test_http_queries.py.

@pytest.fixture(scope="module")
def built(evidence_project) -> Cli:
    return Cli(evidence_project)


def test_an_unknown_prefixed_name_is_the_error_an_unknown_name_is(built):
    prefixed = built("query", "engine-backends", "--param", "engine=wfr:engine-aa")
    bare = built("query", "engine-backends", "--param", "engine=engine-aa")
    assert prefixed.exit_code == bare.exit_code == 2
    assert prefixed.stdout == bare.stdout == ""  # no "(0 rows)"
    for result, raw in ((prefixed, "wfr:engine-aa"), (bare, "engine-aa")):
        assert result.stderr == (f"error: engine={raw!r} names nothing in the graph; did you "
                                 "mean wfr:engine-a (Engine A), wfr:engine-b (Engine B)?\n")


def test_the_verified_view_leaves_out_rows_resting_on_unverified_statements(built):
    """mini.ttl and cite.ttl: Engine A on DB Y and Engine B on DB X are Contradicted,
    Engine B on DB Y is the plan's Unverified claim; only Engine A on DB X is Verified.
    The statement nodes sit in the data files' graphs, so only the row filter keeps them
    out of the verified view."""
    everything = json.loads(built("query", "engine-backends", "-f", "json").stdout)
    verified = built("query", "engine-backends", "-f", "json", "--evidence", "verified")
    statuses = [b["status"]["value"].rsplit("#", 1)[1]
                for b in json.loads(verified.stdout)["results"]["bindings"]]
    assert sorted(b["status"]["value"].rsplit("#", 1)[1]
                  for b in everything["results"]["bindings"]) == [
        "Contradicted", "Contradicted", "Unverified", "Verified"]
    assert statuses == ["Verified"]
    assert "note: 3 rows left out: they rest on facts no cited source verifies" in \
        verified.stderr


def test_table_cells_are_cut_to_the_terminal_unless_wide(built, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    clamped = built("query", "unverified").stdout.splitlines()
    assert clamped and all(width(line) <= 100 for line in clamped), clamped
    assert any(line.endswith("…") or "… " in line for line in clamped)
    wide = built("query", "unverified", "--wide").stdout.splitlines()
    assert max(width(line) for line in wide) > 100
    assert "…" not in "".join(wide)
    full = built("query", "unverified", "-f", "csv").stdout
    assert "…" not in full


def test_concatenated_cells_are_sorted(built):
    text = ('SELECT (GROUP_CONCAT(?x; separator=" ") AS ?xs) WHERE { VALUES ?x { "c" "a" '
            '"b" } }')
    assert built("query", "-e", text, "-f", "csv").stdout.splitlines()[1] == "a b c"
    rows = list(csv.DictReader(io.StringIO(built("query", "plan-vs-evidence", "-f",
                                                 "csv").stdout)))
    for row in rows:
        for column in ("sources", "contradictedBy", "evidenceSupports"):
            assert row[column].split(" ") == sorted(row[column].split(" ")), row


def test_plan_claims_and_plan_vs_evidence_say_how_they_differ(built):
    listed = {q["name"]: q for q in json.loads(built("queries", "--format", "json").stdout)}
    assert "plan-vs-evidence" in listed["plan-claims"]["description"]
    assert "plan-claims" in listed["plan-vs-evidence"]["description"]
    # plan-vs-evidence: the claims that name a task; plan-claims: every claim
    claims = {r["claim"] for r in csv.DictReader(io.StringIO(
        built("query", "plan-claims", "-f", "csv").stdout))}
    by_task = {r["claim"] for r in csv.DictReader(io.StringIO(
        built("query", "plan-vs-evidence", "-f", "csv").stdout))}
    assert by_task and by_task <= claims
