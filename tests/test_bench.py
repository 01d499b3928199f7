"""The benchmark's own tools: the generator is deterministic and its data passes the
shapes; the side-by-side runner completes at the smallest size (a smoke run that starts
the three servers) and writes every section of its JSON. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kg import KnowledgeGraph

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "benchmarks" / "peers"
RUN = PEERS / "run.py"
sys.path.insert(0, str(PEERS))

from generate import generate, parse_size, write_project  # noqa: E402


def test_sizes_are_read_as_the_issue_writes_them():
    assert [parse_size(s) for s in ("2k", "10k", "100k", "1M", "1500")] == [
        2_000, 10_000, 100_000, 1_000_000, 1_500]


def test_the_generator_is_deterministic_for_a_seed():
    assert generate(3000, seed=7) == generate(3000, seed=7)
    assert generate(3000, seed=7) != generate(3000, seed=8)


@pytest.mark.slow
def test_generated_data_passes_the_shapes(tmp_path):
    project = write_project(tmp_path / "project", 2000, seed=3)
    report = KnowledgeGraph(project, store=tmp_path / "store").validate()
    assert report.conforms, [str(v) for v in report.violations[:5]]
    text = (project / "data" / "synthetic.ttl").read_text()
    assert text.count("a wf:CaseStudy") == text.count("a wf:BenchmarkFinding") > 1


@pytest.mark.slow
@pytest.mark.server
def test_the_runner_smoke_run_writes_every_section(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(RUN), "--sizes", "2k", "--repeat", "1",
         "--budget", "0.05", "--requests", "6", "--seconds", "0.3", "--clients", "1",
         "--stress-clients", "10",
         "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())
    size = results["sizes"]["2k"]
    stages = ("parse_derive", "shacl", "reasoning", "load", "total")
    assert set(size["build"]) == {*stages, *(f"{s}_cpu" for s in stages), "peak_rss_mib"}
    names = {p.stem for p in (ROOT / "queries").glob("*.rq")}
    assert set(size["embedded"]) == names
    for row in size["embedded"].values():
        assert row["ours"]["n"] >= 1 and row["pyoxigraph_memory"]["n"] >= 1
        assert ("rdflib" in row) or ("rdflib_error" in row)
    assert set(size["http"]) == {f"{m}_{c}" for m in ("named", "lookup", "aggregate")
                                 for c in ("warm", "cold")} | {"browse"}
    for mix, by_clients in size["http"].items():
        assert set(by_clients) == {"1"}
        for by_server in by_clients.values():
            servers = {"kg"} if mix == "browse" else {"kg", "oxigraph", "rdflib_endpoint"}
            assert set(by_server) == servers
            assert all(by_server[name]["n"] >= 1 for name in servers - {"rdflib_endpoint"})
            kg = by_server["kg"]
            assert isinstance(kg["cache_hits"], int)  # the service says, per answer
            assert by_server.get("oxigraph", {}).get("cache_hits") is None  # it has no cache
            if mix.endswith("_cold"):
                assert kg["cache_hits"] == 0, (mix, kg)  # cold: no cache could answer
    # the warm rows repeat one text: all but the first answers come from the cache
    assert size["http"]["lookup_warm"]["1"]["kg"]["cache_hits"] >= 1
    first = size["first_request"]
    assert set(first) == {"home", "search", "entity", "graph", "named_query",
                          "named_query_other", "sparql_kg", "sparql_oxigraph"}
    assert all(x["status"] == 200 for k, x in first.items() if not k.startswith("sparql"))
    assert all(x["first_ms"] > 0 and x["repeat_ms"] > 0 for x in first.values())
    assert set(size["stress"]) == {"kg", "oxigraph"}
    assert size["pages_ready_s"] >= 0
    assert set(size["memory"]) == {"kg", "oxigraph"}
    assert all(m["idle_mib"] > 0 and m["peak_mib"] > 0 for m in size["memory"].values())
    assert size["update"]["seconds"] > 0
    paused = size["update"]["after_pause"]  # the same writes, each after a pause
    assert paused["pause_s"] == 0.3 and paused["kg"]["n"] == size["update"]["kg"]["n"] + 1
    assert size["ratios"]["lookup_warm"]["1"].keys() == {"oxigraph", "rdflib_endpoint"}
    assert "lookup_warm" in done.stdout  # the printed table
    table = subprocess.run([sys.executable, str(RUN), "--markdown",
                            str(out)], capture_output=True, text=True, check=True).stdout
    assert all(f"| {name} |" in table for name in names)
    assert "| aggregate_cold | 1 |" in table
    assert "kg cache hits" in table and "| browse | 1 |" in table
    assert "| first request after a start |" in table
    assert "| memory (PSS MiB, all processes) |" in table
