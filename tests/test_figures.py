"""`kg report figure`: paper figures. The data behind each is checked against the fixture
files read with rdflib, and against the curated graph (no price or limit plotted as a
benchmark, own runs apart from published ones); the files are checked for their size at
a column width and at the text width."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph, Namespace

from kg import KnowledgeGraph
from kg.errors import QueryError
from kg.paper.figures import draw, figure_data, is_measurement
from tests.conftest import FIXTURES, Cli

WF = Namespace("https://w3id.org/workflow-kg/ontology#")


@pytest.fixture(scope="module")
def graph(evidence_project) -> KnowledgeGraph:
    return KnowledgeGraph(evidence_project)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_evidence_profile_counts_facts_per_file_and_status(graph):
    data = figure_data(graph, "evidence-profile")
    counted = {series.name: series.values for series in data.panels[0].series}
    for name in ("mini", "cite"):
        parsed = Graph().parse(FIXTURES / f"{name}.ttl")
        for status in ("Verified", "Unverified", "Contradicted"):
            expected = len(set(parsed.subjects(WF.evidenceStatus, WF[status])))
            assert counted[status].get(name, 0) == expected, (name, status)
    assert "fixture-blog" in data.keys and data.kind == "stacked"


def test_cases_per_engine_and_published_benchmarks(graph):
    cases = figure_data(graph, "cases-per-engine")
    assert {s.name: s.values for s in cases.panels[0].series} == {
        "Verified": {"Engine A": 1}, "Unverified": {"Engine A": 0},
        "Contradicted": {"Engine A": 0}}
    assert cases.keys == ["fixture-doc"]
    bench = figure_data(graph, "benchmarks")
    [panel] = bench.panels
    [series] = panel.series
    assert (panel.title, series.unit) == ("Throughput (workflows/s)", "workflows/s")
    assert series.values == {"Engine A / DB X": 250.5}
    assert series.notes == {"Engine A / DB X": "empty workflows; 3 nodes"}
    assert bench.caption.endswith("Sources: fixture-doc.") and bench.origin == "published"
    with pytest.raises(QueryError, match="no own Throughput runs"):
        figure_data(graph, "own-throughput")


@pytest.mark.parametrize(("metric", "unit", "conditions", "measured"), [
    ("Throughput", "workflows/s", "3 nodes", True),
    ("Throughput", "Actions per second (default limit)", "", False),
    ("Cost", "USD per 1,000 state transitions", "", False),
    ("Cost", "free state transitions per month", "", False),
    ("Cost", "CPU-seconds per 1,000 workflows", "", True),
    ("Scale", "events in the execution history", "Service quota", False),
    ("Latency", "ms (p50)", "", True),
])
def test_limits_and_prices_are_not_measurements(metric, unit, conditions, measured):
    assert is_measurement(metric, unit, conditions) is measured


def test_curated_figures_plot_one_metric_and_no_limit_or_price(curated):
    for name, unit in (("own-throughput", "workflows/s"), ("own-latency", "ms")):
        data = figure_data(curated, name)
        assert data.origin == "own" and data.kind == "lines"
        assert {p.title for p in data.panels} == {"payment saga", "fan-out/fan-in"}
        assert all(s.unit.startswith(unit) for p in data.panels for s in p.series)
        assert data.keys == ["kg-bench-engines-raw"]
        # the x axis is the concurrency of the runs, one point per level
        assert all(set(s.values) == {"1", "4", "16"} for p in data.panels for s in p.series)
    latency = figure_data(curated, "own-latency")
    assert {s.name for s in latency.panels[0].series} == {
        "PostgreSQL, p50", "PostgreSQL, p99", "SQLite, p50", "SQLite, p99"}
    published = figure_data(curated, "benchmarks")
    units = [s.unit for p in published.panels for s in p.series]
    assert units and not any(w in u for u in units for w in ("USD", "limit", "quota", "free"))
    assert published.origin == "published"


def test_figure_files_at_column_and_text_width(curated, tmp_path):
    data = figure_data(curated, "own-throughput")
    column = draw(data, tmp_path / "c.png", width="column")
    text = draw(data, tmp_path / "t.png", width="text")
    (cw, ch), (tw, th) = png_size(column), png_size(text)
    assert (cw, tw) == (700, 1400)  # 3.5 in and 7 in at 200 dpi
    assert ch < 1200 and th < 800  # one column tall at most; two panels side by side
    svg = draw(data, tmp_path / "f.svg")
    root = ET.parse(svg).getroot()
    texts = "".join(root.itertext())
    assert "<dc:date>" not in svg.read_text()  # reproducible: no timestamp
    assert "concurrent workflows" in texts and "throughput (workflows/s)" in texts
    assert "PostgreSQL" in texts and "SQLite" in texts  # the legend names the backends
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(3.5 * 72)
    assert draw(data, tmp_path / "f.pdf").read_bytes()[:5] == b"%PDF-"


def test_cli_writes_the_figure_its_caption_and_its_bibliography(evidence_project, tmp_path):
    result = Cli(evidence_project)("report", "figure", "benchmarks", "-o",
                                   str(tmp_path / "figs" / "b.pdf"))  # a folder not made yet
    assert result.exit_code == 0, result.stderr
    snippet = (tmp_path / "figs" / "b.tex").read_text()
    assert r"\includegraphics[width=\linewidth,height=0.75\textheight,keepaspectratio]{" \
        in snippet and "b.pdf}" in snippet
    assert r"\cite{fixture-doc}" in snippet and r"\label{fig:benchmarks}" in snippet
    assert "@online{fixture-doc," in (tmp_path / "figs" / "b.bib").read_text()
    png = Cli(evidence_project)("report", "figure", "evidence-profile", "-o",
                                str(tmp_path / "p.png"), "--width", "text")
    assert png.exit_code == 0 and png_size(tmp_path / "p.png")[0] == 1400
    assert "; @fixture-blog; @fixture-doc;" in (tmp_path / "p.md").read_text()
    bad = Cli(evidence_project)("report", "figure", "benchmarks", "-o", str(tmp_path / "b.gif"))
    assert bad.exit_code == 2 and ".svg, .pdf, .png" in bad.stderr
