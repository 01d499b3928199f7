"""The rough edges a new user hits: parameters given as labels or local names, warnings
for terms the graph does not know, readable syntax errors, identifiers that paste back,
tables aligned for Chinese, a time limit for `kg query`, and results for notebooks."""

from __future__ import annotations

import doctest
import json

import pyoxigraph as ox
import pytest

from kg.errors import ParameterError
from kg.query.results import QueryResult, width
from tests.conftest import FIXTURES, Cli, make_project

W = "https://w3id.org/workflow-kg/resource/"


@pytest.fixture(scope="module")
def kg(tmp_path_factory) -> Cli:
    """`kg` on a built copy of the fixture project (read-only use)."""
    cli = Cli(make_project(tmp_path_factory.mktemp("rough") / "project", FIXTURES / "mini.ttl"))
    assert cli("build", "-q").exit_code == 0
    return cli


def engines(result) -> list[str]:
    return sorted({row["engine"] for row in json.loads(result.stdout)["results"]["bindings"]
                   for row in [{k: v["value"] for k, v in row.items()}]})


@pytest.mark.parametrize("backend", ["db-y", "DB-Y", "DB Y", "db y", "数据库Y", "wfr:DB-Y"])
def test_param_given_as_label_or_local_name_in_any_case_finds_the_resource(kg, backend):
    result = kg("query", "technology-selection", "-p", f"backend={backend}", "-f", "json")
    assert result.exit_code == 0, result.output
    assert engines(result) == [W + "engine-b"]


@pytest.mark.parametrize("status", ["Contradicted", "contradicted", "wf:contradicted"])
def test_param_resolves_local_names_of_the_ontology_namespace(kg, status):
    result = kg("query", "unverified", "-p", f"status={status}", "-f", "csv")
    assert result.exit_code == 0, result.output
    assert W + "db-y" in result.stdout


def test_unknown_param_is_an_error_that_says_did_you_mean(kg):
    result = kg("query", "technology-selection", "-p", "backend=DB Z")
    assert result.exit_code == 2
    assert "names nothing in the graph; did you mean" in result.stderr
    assert "wfr:db-y" in result.stderr or "wfr:db-x" in result.stderr


def test_ambiguous_name_lists_the_candidates():
    from kg.namespaces import PREFIXES
    from kg.query.queries import with_values
    from kg.query.terms import resolve

    store = ox.Store()
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    kind = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for name in ("engine-1", "engine-2"):
        store.add(ox.Quad(ox.NamedNode(W + name), label, ox.Literal("Twin", language="en")))
        store.add(ox.Quad(ox.NamedNode(W + name), kind, ox.NamedNode(W + "Thing")))

    class Memory:
        def query(self, sparql, *, bindings=None):
            return QueryResult.from_pyoxigraph(store.query(
                with_values(sparql, dict(bindings or {})), prefixes=PREFIXES))

    with pytest.raises(ParameterError, match="ambiguous: it could be wfr:engine-1 \\(Twin\\), "
                                             "wfr:engine-2 \\(Twin\\)"):
        resolve(Memory(), "twin", parameter="engine")


def test_string_language_param_is_case_insensitive(kg):
    result = kg("query", "technology-selection", "-p", "language=go", "-f", "json")
    assert engines(result) == [W + "engine-a"]


def test_query_with_a_misspelt_class_warns_instead_of_silently_answering_nothing(kg):
    result = kg("query", "-e", "SELECT ?s WHERE { ?s a wf:WorkflowEngin }")
    assert result.exit_code == 0
    assert "warning: wf:WorkflowEngin is not in the graph" in result.stderr
    assert "did you mean wf:WorkflowEngine?" in result.stderr
    clean = kg("query", "-e", "SELECT ?s WHERE { ?s a wf:WorkflowEngine }")
    assert "warning" not in clean.stderr


@pytest.mark.parametrize(("query", "expected"), [
    ("SELEC * WHERE { ?s ?p ?o }", "line 1, column 1: 'SELEC' is not a SPARQL keyword here; "
                                   "did you mean SELECT?"),
    ("SELECT * WHERE {\n  ?s foo:bar ?o }", "line 2, column 6: unknown prefix 'foo:' in "
                                           "foo:bar"),
    ("SELECT * WHERE { ?s ?p ?o", "line 1, column 16: this '{' is never closed"),
])
def test_sparql_syntax_error_says_what_is_wrong_with_line_and_column(kg, query, expected):
    result = kg("query", "-e", query)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "\\u{" not in result.stderr and "..=" not in result.stderr


def test_syntax_error_lists_expected_keywords_without_character_classes():
    from kg.query.syntax import explain

    message = ("error at 1:26: expected one of \",\", \".\", ['0' ..= '9' | '\\u{00B7}'], "
               "[_]")
    assert explain("SELECT * WHERE { ?s ?p ?o ) }", message).startswith(
        'line 1, column 26: expected ",", "."')


def test_docstring_examples_run():
    import kg.query.guard
    import kg.query.syntax

    for module in (kg.query.guard, kg.query.syntax):
        assert doctest.testmod(module).failed == 0


def test_identifiers_printed_by_the_cli_paste_back_into_sparql(kg):
    listed = kg("query", "-e", "SELECT ?s WHERE { ?s a wf:Statement } LIMIT 1")
    printed = listed.stdout.splitlines()[2].strip()
    assert printed.startswith("<https://w3id.org/workflow-kg/resource/statement/")
    described = kg("query", "-e", f"ASK {{ {printed} a wf:Statement }}")
    assert described.exit_code == 0 and described.stdout.strip() == "true"


def test_table_aligns_chinese_labels_by_display_width(kg):
    result = kg("query", "-e", "SELECT ?l ?s WHERE { ?s a wf:WorkflowEngine ; rdfs:label ?l }"
                               " ORDER BY ?l")
    lines = result.stdout.splitlines()
    second_column = {width(line[:line.index("wfr:")]) for line in lines if "wfr:" in line}
    assert len(second_column) == 1  # 'Engine A' and '引擎A' rows start ?s in one column
    assert width("引擎A") == 5


def test_missing_rq_file_says_file_not_found(kg):
    result = kg("query", "my-query.rq")
    assert result.exit_code == 2 and "file not found: my-query.rq" in result.stderr


def test_query_time_limit_stops_a_runaway_query(kg):
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    result = kg("query", "--time-limit", "1", "-e", runaway)
    assert result.exit_code == 1 and "time limit of 1 s" in result.stderr
    quick = kg("query", "--time-limit", "30", "-e", "ASK { ?s a wf:WorkflowEngine }")
    assert quick.exit_code == 0 and quick.stdout.strip() == "true"


def test_query_result_to_dataframe_and_html(kg):
    from kg import KnowledgeGraph

    graph = KnowledgeGraph(kg.project)
    result = graph.sparql("SELECT ?s (COUNT(?l) AS ?n) WHERE { ?s a wf:WorkflowEngine ; "
                          "rdfs:label ?l } GROUP BY ?s ORDER BY ?s")
    frame = result.to_dataframe()
    assert list(frame.columns) == ["s", "n"]
    assert frame["s"].tolist() == [W + "engine-a", W + "engine-b"]
    assert frame["n"].tolist() == [2, 2]
    page = graph.sparql("SELECT ?l WHERE { VALUES ?l { '<b>&' } }")._repr_html_()
    assert "<th>l</th>" in page and "&lt;b&gt;&amp;" in page and "<b>" not in page


def test_label_columns_in_a_chosen_language(kg):
    from kg import KnowledgeGraph

    graph = KnowledgeGraph(kg.project)
    query = "SELECT ?e WHERE { ?e a wf:WorkflowEngine } ORDER BY ?e"
    chinese = graph.sparql(query, labels="zh")
    assert chinese.variables == ["e", "eLabel"]
    assert chinese.values("eLabel") == ["引擎A", "引擎B"]
    assert graph.sparql(query, labels="fr").values("eLabel") == ["Engine A", "Engine B"]
    result = kg("query", "--labels", "zh", "-f", "csv", "-e", query)
    assert result.stdout.splitlines()[0] == "e,eLabel" and "引擎A" in result.stdout
    named = graph.query("mechanisms", labels="zh")  # a named query takes them too
    assert "technologyLabel" in named.variables and "引擎A" in named.values("technologyLabel")


def test_serve_on_a_busy_port_fails_before_saying_serving(kg):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = kg("serve", "--port", str(port))
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr
    assert "serving" not in result.output


def test_a_wrong_result_format_lists_every_format_that_fits(kg):
    result = kg("query", "-e", "SELECT ?s WHERE { ?s a wf:WorkflowEngine }", "--format", "ttl")
    assert result.exit_code == 2
    assert "choose one of json, xml, csv, tsv, table, md" in result.stderr


def test_the_xml_of_a_graph_result_is_rdf_xml(kg):
    result = kg("query", "-e", "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c } LIMIT 2", "--format",
                "xml")
    assert result.exit_code == 0, result.stderr
    from rdflib import Graph

    assert len(Graph().parse(data=result.stdout, format="xml")) == 2


def test_a_json_answer_ends_its_line(kg):
    result = kg("query", "--format", "json", "-e", "ASK { ?s a wf:WorkflowEngine }")
    assert result.exit_code == 0 and result.stdout.endswith("}\n")


def test_viz_with_an_unknown_class_suggests_the_closest(kg, tmp_path):
    result = kg("viz", "--class", "wf:Theori", "-o", str(tmp_path / "g.html"))
    assert result.exit_code == 2
    assert "unknown class wf:Theori for the graph filter; did you mean wf:Theory?" in result.stderr
    assert not (tmp_path / "g.html").exists()


# Each used to start (every query then a 503 or 400) or end in a traceback.
@pytest.mark.parametrize(("args", "option"), [
    (["serve", "--port", "99999"], "--port"),
    (["serve", "--port", "-1"], "--port"),
    (["serve", "--time-limit", "-1"], "--time-limit"),
    (["serve", "--time-limit", "0"], "--time-limit"),
    (["serve", "--max-rows", "-5"], "--max-rows"),
    (["serve", "--max-body", "0"], "--max-body"),
    (["serve", "--workers", "0"], "--workers"),
    (["serve", "--max-queue", "-1"], "--max-queue"),
    (["query", "risks", "--time-limit", "0"], "--time-limit"),
    (["query", "risks", "--time-limit", "-1"], "--time-limit"),
])
def test_a_limit_or_port_out_of_range_is_a_usage_error(kg, args, option):
    result = kg(*args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.stderr
    assert "serving" not in result.output


@pytest.mark.parametrize(("host", "says"), [
    ("999.1.1.1", "cannot be resolved"),
    ("192.0.2.1", "is not an address of this machine"),  # TEST-NET-1: no one's
])
def test_serve_on_a_host_it_cannot_use_names_the_host(kg, host, says):
    result = kg("serve", "--host", host, "--port", "0")
    assert result.exit_code == 1
    assert f"cannot serve on {host}:0" in result.stderr and says in result.stderr
    assert "choose another --host" in result.stderr and "--port" not in result.stderr
    assert "serving" not in result.output
