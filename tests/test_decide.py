"""`kg decide`: the decision framework's rules are data; rankings, reasons and the
requirements the evidence cannot decide, on the fixture's facts (read by hand from
tests/data/mini.ttl and cite.ttl)."""

from __future__ import annotations

import pytest

from kg import KnowledgeGraph
from kg.evidence.decide import FAILS, MEETS, NO_RULE, UNDECIDED, decide, render
from tests.conftest import FIXTURES, Cli, make_project


@pytest.fixture(scope="module")
def graph(evidence_project) -> KnowledgeGraph:
    return KnowledgeGraph(evidence_project)


def verdicts(decision) -> dict[str, tuple[str, dict[str, str]]]:
    return {c.label: (c.verdict, {str(ch.requirement): ch.verdict for ch in c.checks})
            for c in decision.candidates}


def test_guarantee_and_language_rank_the_engine_that_meets_both_first(graph):
    decision = decide(graph, require=["guarantee=wfr:prop-atomic", "language=Go"])
    assert [c.label for c in decision.candidates] == ["Engine A", "Engine B"]
    assert verdicts(decision) == {
        # A: event log (docs) helps guarantee atomicity (paper); Go SDK (docs)
        "Engine A": ("fits", {"guarantee=wfr:prop-atomic": MEETS, "language=Go": MEETS}),
        # B: the same mechanism (lee2021durable); its only SDK is in Python
        "Engine B": ("undecided", {"guarantee=wfr:prop-atomic": MEETS,
                                   "language=Go": UNDECIDED}),
    }
    [guarantee, language] = decision.candidates[0].checks
    assert {k for f in guarantee.facts for k in f.keys} == {"fixture-doc", "doe2020fixture"}
    assert [f.component for f in language.facts] == [
        "https://w3id.org/workflow-kg/resource/sdk-a-go"]
    assert decision.undecidable == []


def test_a_contradicted_backend_excludes_the_engine(graph):
    decision = decide(graph, require=["backend=wfr:db-x"], prefer=["production-use=yes"])
    assert verdicts(decision) == {
        "Engine A": ("fits", {"backend=wfr:db-x": MEETS, "production-use=yes": MEETS}),
        "Engine B": ("excluded", {"backend=wfr:db-x": FAILS,
                                  "production-use=yes": UNDECIDED}),
    }
    [check, _] = decision.candidates[1].checks
    assert [(f.status, f.keys) for f in check.facts] == [("contradicted", ("fixture-blog",))]
    text = render(decision, "text")
    assert "fails by wfr:statement/" in text and "contradicted [fixture-blog]" in text


def test_insufficient_evidence_says_so(graph):
    decision = decide(graph, require=["language=Python", "multi-region=yes",
                                      "backend=wfr:db-y"])
    assert verdicts(decision)["Engine B"] == ("undecided", {
        "language=Python": MEETS, "multi-region=yes": NO_RULE,
        "backend=wfr:db-y": UNDECIDED})  # DB Y for B is the plan's claim, unverified
    assert verdicts(decision)["Engine A"][0] == "excluded"  # the docs contradict DB Y
    assert [str(r) for r in decision.undecidable] == ["multi-region=yes"]
    assert not any(c.verdict == "fits" for c in decision.candidates)
    assert "the evidence cannot decide: multi-region=yes" in render(decision, "text")


def test_a_rule_added_as_data_changes_the_outcome(tmp_path):
    before = decide(KnowledgeGraph(_project(tmp_path / "before")),
                    require=["mechanism=wfr:mech-log"])
    assert {c.verdict for c in before.candidates} == {"undecided"}
    rule = tmp_path / "rule.ttl"
    rule.write_text('''@prefix wf: <https://w3id.org/workflow-kg/ontology#> .
@prefix wfr: <https://w3id.org/workflow-kg/resource/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
wfr:rule-mechanism a wf:DecisionRule ; wf:requirementKey "mechanism" ;
    rdfs:label "Implements the mechanism"@en , "实现该机制"@zh ;
    wf:ruleQuery """SELECT ?candidate ?fact ?status WHERE {
  ?fact rdf:subject ?candidate ; rdf:predicate wf:implementsMechanism ; rdf:object ?value ;
        wf:evidenceStatus ?status . }""" .
''')
    after = decide(KnowledgeGraph(_project(tmp_path / "after", rule)),
                   require=["mechanism=wfr:mech-log"])
    assert {c.label: c.verdict for c in after.candidates} == {"Engine A": "fits",
                                                               "Engine B": "fits"}


def test_a_malformed_rule_is_refused_by_the_build(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text('''@prefix wf: <https://w3id.org/workflow-kg/ontology#> .
@prefix wfr: <https://w3id.org/workflow-kg/resource/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
wfr:rule-bad a wf:DecisionRule ; wf:requirementKey "Bad Key" ; rdfs:label "Bad"@en ;
    wf:ruleQuery "ASK { ?s ?p ?o }" .
''')
    project = make_project(tmp_path / "p", FIXTURES / "mini.ttl", bad)
    result = Cli(project)("build", "-q")
    assert result.exit_code == 1
    assert "requirement key of lower-case letters" in result.stderr
    assert "SELECT of ?candidate ?fact ?status" in result.stderr


def _project(where, *extra):
    root = make_project(where, FIXTURES / "mini.ttl", FIXTURES / "cite.ttl", *extra)
    KnowledgeGraph(root).build()
    return root


def test_mermaid_tree_follows_the_rule_order(graph):
    tree = render(decide(graph, require=["language=Go", "guarantee=wfr:prop-atomic"]),
                  "mermaid")
    lines = tree.splitlines()
    assert lines[0] == "flowchart TD"
    # guarantee (rule order 1) is asked before language (2), whatever the command's order
    assert lines.index('  start --> q1{"guarantee=wfr:prop-atomic?"}') < lines.index(
        '  q1y --> q2{"language=Go?"}')
    assert '  q2 -- "cannot decide" --> q2u["Engine B"]' in lines
    assert lines[-1] == '  q2y --> fit["fit: Engine A"]'


def test_cli_and_api(graph, evidence_project):
    result = Cli(evidence_project)("decide", "-r", "backend=wfr:db-x", "--format", "md")
    assert result.exit_code == 0, result.stderr
    assert "| 1 | Engine A | fits | meets [@fixture-doc] |" in result.stdout
    bad = Cli(evidence_project)("decide", "-r", "backend")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.stderr
    from fastapi.testclient import TestClient

    from kg_api import create_app

    with TestClient(create_app(graph, workers=1)) as client:
        body = client.get("/api/decide", params={"require": ["language=Python",
                                                             "multi-region=yes"]}).json()
        assert body["undecidable"] == ["multi-region=yes"]
        assert body["candidates"][0]["engine"] == "wfr:engine-b"
        assert client.get("/api/decide").status_code == 400
