"""`kg report progress`: the plan's items with their evidence coverage and the success
indicators with their gaps, checked against counts computed here from the fixture files
with rdflib (independently of the store and its queries)."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph, Namespace
from rdflib.namespace import RDF

from kg import KnowledgeGraph
from kg.evidence.progress import progress
from tests.conftest import FIXTURES, Cli

WF = Namespace("https://w3id.org/workflow-kg/ontology#")
WFR = Namespace("https://w3id.org/workflow-kg/resource/")
NAMING = (RDF.subject, RDF.object, WF.organisation, WF.system, WF.verifiesProperty)


@pytest.fixture(scope="module")
def data() -> Graph:
    graph = Graph()
    for name in ("mini.ttl", "cite.ttl"):
        graph.parse(FIXTURES / name)
    return graph


@pytest.fixture(scope="module")
def report(evidence_project):
    return progress(KnowledgeGraph(evidence_project))


def _evidenced(data: Graph, entity) -> bool:
    return any((fact, WF.evidenceStatus, WF.Verified) in data
               for prop in NAMING for fact in data.subjects(prop, entity))


def test_task_coverage_matches_an_independent_count(data, report):
    tasks = {item.iri: item for phase in report.phases for wp in phase.children
             for item in wp.children if item.kind == "Task"}
    assert set(tasks) == {str(t) for t in data.subjects(RDF.type, WF.Task)}
    for iri, item in tasks.items():
        studied = set(data.objects(WFR[iri.rsplit("/", 1)[1]], WF.studies))
        assert item.studies == len(studied), iri
        assert item.evidenced == sum(_evidenced(data, e) for e in studied), iri
    assert tasks[str(WFR["task-1"])].status == "evidenced"  # Org O and logic T
    assert tasks[str(WFR["task-2"])].status == "partial"  # engine B yes, Org P no


def test_rolled_up_statuses_and_milestone(report):
    [phase] = report.phases
    [wp, milestone] = phase.children
    assert (wp.kind, milestone.kind) == ("WorkPackage", "Milestone")
    assert (phase.evidenced, phase.studies) == (3, 4) == (milestone.evidenced, milestone.studies)
    deliverable = next(c for c in wp.children if c.kind == "Deliverable")
    assert (deliverable.status, deliverable.label) == ("partial", "Notes")


def test_indicator_value_and_gaps_match_an_independent_count(data, report):
    cases = set(data.subjects(RDF.type, WF.CaseStudy))
    verified = {c for c in cases if (c, WF.evidenceStatus, WF.Verified) in data}
    [indicator] = report.indicators
    assert indicator.current == len(verified) == 1
    assert indicator.target == 10 and indicator.met is False
    assert {g.fact for g in indicator.gaps} == {str(c) for c in cases - verified}
    contradicted = {s for s in data.subjects(WF.evidenceStatus, WF.Contradicted)
                    if (s, WF.planClaim, None) in data}
    # two contradicted statements and the fixture's contradicted plan claim (claim-o-on-b)
    assert len(report.contradicted_claims) == len(contradicted) == 3


def test_cli_formats(evidence_project):
    cli = Cli(evidence_project)
    body = json.loads(cli("report", "progress", "--format", "json").stdout)
    assert body["indicators"][0]["gaps"][0]["fact"] == "wfr:case-p"
    assert body["phases"][0]["status"] == "partial"
    html = cli("report", "progress", "--format", "html").stdout
    assert '<a href="https://w3id.org/workflow-kg/resource/case-p">Org P</a>' in html
    md = cli("report", "progress").stdout
    assert "| 10+ cases | quantitative | 1 | 10 | no | 1 |" in md
