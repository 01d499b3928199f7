"""The engine benchmarks (kg bench-engines): a small run on a real PostgreSQL server and
real SQLite files, with a real kill -9 of the worker; the findings it writes; and the
clear errors of a crashed worker or unreadable raw results. No test asserts a timing."""

from __future__ import annotations

import json
import math
import shutil
import socket
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF

from kg import KnowledgeGraph
from kg.errors import BenchmarkError
from kg.lab.benchfindings import check_raw, findings_graph, percentiles, sha256
from kg.lab.engines import RAW_JSON, Plan, parse_line, run, write_results
from kg.namespaces import QUDT, WF, WFR
from tests.conftest import ROOT, Cli

TINY = Plan(workflows=6, fan_workflows=2, concurrencies=(1, 4), repetitions=2, transfers=24,
            kills=2, timeout_s=300)


def bench_project(where: Path) -> Path:
    """A copy of the project with its benchmark workload, so a run writes into the copy."""
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(ROOT / folder, where / folder)
    shutil.copytree(ROOT / "benchmarks" / "engines", where / "benchmarks" / "engines",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return where


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, dict]:
    root = bench_project(tmp_path_factory.mktemp("bench"))
    raw = run(root, plan=TINY, command="kg bench-engines (test plan)")
    write_results(root, raw)
    return root, raw


@pytest.mark.slow
@pytest.mark.server
def test_both_backends_ran_on_real_servers_with_their_versions(tiny_run):
    _, raw = tiny_run
    backends = {b["backend"]: b for b in raw["backends"]}
    assert set(backends) == {"postgresql", "sqlite"}
    assert backends["postgresql"]["backend_version"].split(".")[0].isdigit()
    assert backends["postgresql"]["durability"]["synchronous_commit"] == "on"
    with pytest.raises(OSError):  # the server the run started is stopped
        socket.create_connection(("127.0.0.1", backends["postgresql"]["server_port"]), 2)
    assert backends["sqlite"]["durability"]["synchronous"] in {"FULL", "NORMAL", "EXTRA"}
    for backend in backends.values():
        cells = {(m["workload"], m["concurrency"]) for m in backend["throughput"]}
        assert cells == {(w, c) for w in ("payment-saga", "fan-out") for c in (1, 4)}
        assert all(len(m["latencies_ms"]) == m["workflows"] for m in backend["throughput"])


@pytest.mark.slow
@pytest.mark.server
def test_kill_9_mid_run_loses_and_duplicates_no_debit(tiny_run):
    _, raw = tiny_run
    for backend in raw["backends"]:
        recovery = backend["recovery"]
        assert [k["exit_status"] for k in recovery["kills"]] == [-9, -9], backend["backend"]
        # the kills left work behind that the restarted worker finished
        assert sum(k["pending_workflows"] for k in recovery["kills"]) > 0
        assert all(k["finished_before_kill"] < recovery["transfers"]
                   for k in recovery["kills"])
        verify = recovery["verify"]
        assert verify["transfers"] == TINY.transfers
        assert verify["lost_debits"] == 0
        assert verify["duplicated_debits"] == 0
        assert verify["unsettled"] == 0
        assert verify["balance_total"] == verify["balance_expected"]


@pytest.mark.slow
@pytest.mark.server
def test_findings_pass_shacl_and_cite_the_raw_file_by_its_hash(tiny_run):
    root, _ = tiny_run
    report = KnowledgeGraph(root).validate([root / "data" / "benchmarks-own.ttl"])
    assert report.conforms, [str(v) for v in report.violations]
    graph = Graph().parse(root / "data" / "benchmarks-own.ttl")
    digest = sha256((root / RAW_JSON).read_bytes())
    assert (None, WF.contentHash, Literal(digest)) in graph
    findings = set(graph.subjects(RDF.type, WF.BenchmarkFinding))
    assert findings and all((f, PROV.wasGeneratedBy, WFR["run-bench-engines"]) in graph
                            for f in findings)
    metrics = set(graph.objects(None, WF.metric))
    assert metrics == {WF.Throughput, WF.Latency, WF.RecoveryTime, WF.Cost,
                       WF.EffectAnomalies}
    assert (root / "data" / "benchmarks-own.csv").read_text().startswith("backend,workload")


@pytest.mark.slow
@pytest.mark.server
def test_benchmark_query_tells_own_findings_from_published_ones(tiny_run):
    root, _ = tiny_run
    graph = KnowledgeGraph(root)
    graph.build()
    rows = graph.query("benchmarks", {"system": "wfr:dbos"}).rows()
    assert rows and {r["origin"].value for r in rows} == {"own"}
    published = graph.query("benchmarks", {"only": "published"}).rows()
    assert published and {r["origin"].value for r in published} == {"published"}
    assert not any(r["finding"].value.startswith(str(WFR["own-bench"])) for r in published)
    runs = graph.query("own-runs", {"metric": "wf:RecoveryTime"}).rows()
    assert [r["findings"].value for r in runs] == ["2"]  # one per backend
    assert "Apache Cassandra" in runs[0]["not_run"].value


# ----------------------------------------------------------------- errors, no finding
def fake_workload(root: Path, body: str) -> None:
    (root / "benchmarks" / "engines" / "workload.py").write_text(body)


def test_a_crashed_worker_is_a_clear_error_and_writes_no_finding(tmp_path):
    root = bench_project(tmp_path)
    (root / "data" / "benchmarks-own.ttl").unlink(missing_ok=True)
    fake_workload(root, "import sys\nsys.exit('database exploded')\n")
    result = Cli(root)("bench-engines", "--quick", "--backend", "sqlite", "--quiet")
    assert result.exit_code == 1
    assert "crashed" in result.output and "database exploded" in result.output
    assert "no finding was written" in result.output
    assert not (root / "data" / "benchmarks-own.ttl").exists()


def test_unparsable_worker_output_is_a_clear_error_and_writes_no_finding(tmp_path):
    root = bench_project(tmp_path)
    before = (root / "data" / "benchmarks-own.ttl").read_bytes()
    fake_workload(root, "print('throughput: fast')\n")
    with pytest.raises(BenchmarkError, match="output line 1: not a JSON line"):
        run(root, plan=TINY, backends=("sqlite",))
    assert (root / "data" / "benchmarks-own.ttl").read_bytes() == before


def test_worker_line_without_event_is_refused():
    with pytest.raises(BenchmarkError, match="needs an 'event'"):
        parse_line('{"value": 3}', "worker output line 7")


# ----------------------------------------------------------------- raw results to findings
def measurement(wall_s: float, latencies: list[float], **extra) -> dict:
    return {"workload": "payment-saga", "concurrency": 4, "repetition": 0, "workflows": 10,
            "steps": 30, "wall_s": wall_s, "cpu_worker_s": 0.5, "cpu_db_s": 0.25,
            "history_bytes": 3000, "latencies_ms": latencies, **extra}


def raw_results() -> dict:
    return {
        "tool": "DBOS Transact", "tool_version": "3.4.0", "command": "kg bench-engines",
        "started": "2026-01-02T03:04:05+00:00", "ended": "2026-01-02T03:05:05+00:00",
        "duration_s": 60.0, "not_run": {"temporal": "not installable here"},
        "machine": {"cores": 2, "memory_gib": 8.0, "os": "Debian GNU/Linux 12"},
        "plan": {},
        "backends": [{
            "backend": "sqlite", "backend_version": "3.40.1",
            "durability": {"synchronous": "FULL"},
            "throughput": [measurement(1.0, [10.0] * 10),
                           measurement(2.0, [20.0] * 10, repetition=1)],
            "recovery": {"transfers": 20, "concurrency": 4,
                         "kills": [{"resumed_after_s": 1.0}, {"resumed_after_s": 3.0}],
                         "verify": {"lost_debits": 0, "duplicated_debits": 0,
                                    "balance_total": 100, "balance_expected": 100}}}],
    }


def value(graph: Graph, key: str, prop: URIRef = QUDT.numericValue) -> float:
    return float(graph.value(WFR[f"own-bench-dbos-sqlite-{key}"], prop))


def test_findings_state_means_and_spreads_of_the_repetitions():
    graph = findings_graph(raw_results(), b"{}", ROOT)
    # 10 workflows in 1 s and in 2 s: 10 and 5 workflows/s
    assert value(graph, "payment-saga-throughput-c4") == 7.5
    assert value(graph, "payment-saga-throughput-c4", QUDT.standardUncertainty) == \
        pytest.approx(math.sqrt(12.5), rel=1e-3)
    assert value(graph, "payment-saga-step-throughput-c4") == 22.5  # 30 and 15 steps/s
    assert value(graph, "payment-saga-recovery-time") == 2.0
    # (0.5 + 0.25) CPU-s / 10 workflows x 1,000; 3,000 bytes / 30 steps
    assert value(graph, "payment-saga-cpu-cost") == 75.0
    assert value(graph, "payment-saga-history-bytes-per-step") == 100.0
    assert value(graph, "payment-saga-duplicated-debits") == 0
    assert (WFR["run-bench-engines"], WF.systemNotRun, WFR["temporal"]) in graph


def test_percentiles_stay_within_the_observed_values():
    assert percentiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (3.0, pytest.approx(4.8),
                                                      pytest.approx(4.96))
    assert percentiles([7.0]) == (7.0, 7.0, 7.0)


@pytest.mark.parametrize("damage, message", [
    (lambda r: r.pop("machine"), "missing 'machine'"),
    (lambda r: r["backends"][0]["throughput"][0].pop("wall_s"),
     r"backends\[0\].throughput\[0\]: missing 'wall_s'"),
    (lambda r: r["backends"][0].update(backend="oracle"), "unknown backend 'oracle'"),
    (lambda r: r["backends"][0]["recovery"]["verify"].pop("lost_debits"),
     "recovery.verify: missing 'lost_debits'"),
    (lambda r: r.update(backends=[]), "no backend was measured"),
])
def test_malformed_raw_results_name_what_is_wrong(damage, message):
    raw = raw_results()
    damage(raw)
    with pytest.raises(BenchmarkError, match=message):
        check_raw(raw)


def test_malformed_raw_results_write_nothing(tmp_path):
    root = bench_project(tmp_path)
    before = {p.name: p.read_bytes() for p in (root / "data").glob("benchmarks-own.*")}
    raw = raw_results()
    raw["backends"][0]["throughput"][0]["latencies_ms"] = []
    with pytest.raises(BenchmarkError, match="empty measurement"):
        write_results(root, raw)
    assert {p.name: p.read_bytes() for p in (root / "data").glob("benchmarks-own.*")} == before


def test_committed_findings_match_the_committed_raw_file():
    """data/benchmarks-own.ttl is what `kg bench-engines` made from the raw file beside it."""
    raw_bytes = (ROOT / RAW_JSON).read_bytes()
    committed = Graph().parse(ROOT / "data" / "benchmarks-own.ttl")
    assert (None, WF.contentHash, Literal(sha256(raw_bytes))) in committed
    regenerated = findings_graph(json.loads(raw_bytes), raw_bytes, ROOT)
    assert set(regenerated) == set(committed)


def test_reimport_of_a_broken_raw_file_names_file_and_line_and_writes_nothing(tmp_path):
    root = bench_project(tmp_path)
    before = (root / "data" / "benchmarks-own.ttl").read_bytes()
    (root / RAW_JSON).write_text('{\n "tool": "DBOS Transact",\n "oops"\n}\n')
    result = Cli(root)("bench-engines", "--reimport")
    assert result.exit_code == 1
    assert "data/benchmarks-own.json:4: not JSON" in result.output  # where the : is missing
    assert (root / "data" / "benchmarks-own.ttl").read_bytes() == before


def test_reimport_rewrites_the_findings_from_the_raw_file(tmp_path):
    root = bench_project(tmp_path)
    (root / "data" / "benchmarks-own.ttl").write_text("# stale\n")
    result = Cli(root)("bench-engines", "--reimport")
    assert result.exit_code == 0, result.output
    rewritten = Graph().parse(root / "data" / "benchmarks-own.ttl")
    assert set(rewritten) == set(Graph().parse(ROOT / "data" / "benchmarks-own.ttl"))
