"""`kg report figure`: the data behind each figure, checked against counts made here
from the fixture files with rdflib, and the files matplotlib writes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph, Namespace

from kg import KnowledgeGraph
from kg.paper.figures import draw, figure_data
from tests.conftest import FIXTURES, Cli

WF = Namespace("https://w3id.org/workflow-kg/ontology#")


@pytest.fixture(scope="module")
def graph(evidence_project) -> KnowledgeGraph:
    return KnowledgeGraph(evidence_project)


def test_evidence_profile_counts_facts_per_file_and_status(graph):
    data = figure_data(graph, "evidence-profile")
    counted = {series.name: series.values for series in data.panels[0]}
    for name in ("mini", "cite"):
        parsed = Graph().parse(FIXTURES / f"{name}.ttl")
        for status in ("Verified", "Unverified", "Contradicted"):
            expected = len(set(parsed.subjects(WF.evidenceStatus, WF[status])))
            assert counted[status].get(name, 0) == expected, (name, status)
    assert "fixture-blog" in data.keys and data.stacked


def test_cases_per_engine_and_benchmarks(graph):
    cases = figure_data(graph, "cases-per-engine")
    assert {s.name: s.values for s in cases.panels[0]} == {
        "Verified": {"Engine A": 1}, "Unverified": {"Engine A": 0},
        "Contradicted": {"Engine A": 0}}
    assert cases.keys == ["fixture-doc"]
    bench = figure_data(graph, "benchmarks")
    [[series]] = bench.panels
    assert (series.name, series.unit) == ("Throughput", "workflows/s")
    assert series.values == {"Engine A / DB X": 250.5}
    assert series.notes == {"Engine A / DB X": "empty workflows; 3 nodes"}
    assert bench.caption.endswith("Sources: fixture-doc.")


def test_figure_files_svg_pdf_png(graph, evidence_project, tmp_path):
    svg = draw(figure_data(graph, "benchmarks"), tmp_path / "b.svg")
    texts = "".join(ET.parse(svg).getroot().itertext())
    assert "<dc:date>" not in svg.read_text()  # reproducible: no timestamp
    assert "Published benchmark findings per system and backend" in texts  # text, not paths
    assert "Engine A / DB X [1]" in texts and "[1] Engine A / DB X: empty workflows" in texts
    assert draw(figure_data(graph, "cases-per-engine"), tmp_path / "c.pdf").read_bytes()[:5] \
        == b"%PDF-"
    result = Cli(evidence_project)("report", "figure", "evidence-profile", "-o",
                                   str(tmp_path / "p.png"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "fixture-doc" in (tmp_path / "p.bib").read_text()
    assert result.stdout.startswith("Evidence status of the facts of each area")
    bad = Cli(evidence_project)("report", "figure", "benchmarks", "-o", str(tmp_path / "b.gif"))
    assert bad.exit_code == 2 and ".svg, .pdf, .png" in bad.stderr
