"""`kg verify`: the models under models/ checked by the real tools (SPIN and a C compiler,
pyModelChecking on a Petri net's reachability graph), their findings in the graph."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import PROV, RDF

from kg import KnowledgeGraph
from kg.errors import ModelError, ToolError, ToolMissing
from kg.lab import petri, spin
from kg.lab.verify import models, stale, verify
from kg.namespaces import CITO, WF, WFR
from tests.conftest import ROOT, Cli, make_project

MODELS = ROOT / "models"


def project_with(where: Path, *names: str, data: bool = False) -> Path:
    """A project folder holding the real ontology and queries and copies of the models."""
    files = [p for p in sorted((ROOT / "data").glob("*.ttl"))
             if p.name != "verification-own.ttl"] if data else []
    root = make_project(where, *files)
    for name in names:
        shutil.copytree(MODELS / name, root / "models" / name,
                        ignore=shutil.ignore_patterns("trails"))
    return root


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """Every model checked once with the real tools, into a copy of the project."""
    root = project_with(tmp_path_factory.mktemp("verify"), *(p.name for p in MODELS.iterdir()
                                                              if (p / "model.toml").exists()),
                        data=True)
    report = verify(root)
    return root, report


def by_key(report):
    return {f.check.key: f for f in report.findings}


@pytest.mark.slow
def test_correct_models_verify_and_seeded_bugs_fail_with_a_counterexample(checked):
    root, report = checked
    assert report.errors == {}
    found = by_key(report)
    checked = [f for f in report.findings if f.check.model.checker in ("spin", "petri")]
    correct = [f for f in checked if f.check.variant is None]
    seeded = [f for f in checked if f.check.variant is not None]
    assert len(correct) >= 10 and all(f.holds for f in correct), \
        [f.check.key for f in correct if not f.holds]
    # a specification no tool here can check is recorded as such, never as holding
    unchecked = [f for f in report.findings if f not in checked]
    assert unchecked and all(f.holds is None for f in unchecked)
    # every seeded-bug variant fails, each failure with a counterexample and its length
    for model in (m for m in models(root) if m.checker in ("spin", "petri")):
        variants = {v["id"] for v in model.manifest.get("variant", [])}
        assert variants
        for variant in variants:
            failed = [f for f in seeded if f.check.variant["id"] == variant and not f.holds]
            assert failed, variant
            assert all(f.counterexample_length and f.counterexample for f in failed)
    # the double refund breaks conservation and idempotence; SPIN's trail replays it
    refund = found["payment-saga-double-refund-conservation"]
    assert not refund.holds and refund.tool_name == "Spin"
    trail = (root / refund.counterexample_file).read_text()
    assert refund.counterexample_length == spin.trail_steps(trail) > 10
    assert "REFUND" in refund.counterexample
    assert not found["payment-saga-double-refund-idempotence"].holds
    # the unfenced write lets a stale owner commit; the fenced model never does
    assert not found["shard-fencing-unfenced-write-fencing"].holds
    assert found["shard-fencing-fencing"].holds and found["shard-fencing-fencing"].states > 100
    # the leaked deadline timer: a firing sequence that ends in a dead, non-final marking
    leak = found["durable-workflow-timer-leak-deadlock"]
    assert not leak.holds and "t_cancel_waiting" in leak.counterexample.splitlines()
    assert leak.counterexample_length == len(leak.counterexample.splitlines())
    assert found["durable-workflow-bounded"].holds
    assert "1-bounded" in found["durable-workflow-bounded"].detail


@pytest.mark.slow
def test_findings_pass_the_shapes_and_carry_their_provenance(checked):
    root, report = checked
    graph = Graph().parse(root / "data" / "verification-own.ttl")
    finding = WFR["vf-own-payment-saga-conservation"]
    run = graph.value(finding, PROV.wasGeneratedBy)
    assert (run, RDF.type, WF.ProgrammeRun) in graph
    assert str(graph.value(run, WF.toolName)) == "Spin"
    assert "-N conservation" in str(graph.value(run, WF.command))
    assert graph.value(finding, WF.verifiesProperty) == WFR["fund-conservation"]
    cited = {str(graph.value(a, WF.repositoryPath)): str(graph.value(a, WF.contentHash))
             for a in graph.objects(finding, CITO.citesAsEvidence)}
    assert set(cited) == {"models/payment-saga/saga.pml", "models/payment-saga/model.toml"}
    assert set(cited) == {str(graph.value(a, WF.repositoryPath))
                          for a in graph.objects(run, PROV.used)}
    digest = hashlib.sha256((root / "models/payment-saga/saga.pml").read_bytes()).hexdigest()
    assert cited["models/payment-saga/saga.pml"] == f"sha256:{digest}"
    assert (finding, WF.result, WF.PropertyHolds) in graph
    bug = WFR["vf-own-shard-fencing-unfenced-write-fencing"]
    assert (bug, WF.result, WF.BugFound) in graph
    assert int(graph.value(bug, WF.counterexampleLength)) > 0
    report = KnowledgeGraph(root).validate()
    assert report.conforms, [str(v) for v in report.violations][:5]


@pytest.fixture
def petri_project(tmp_path) -> Path:
    """A project with only the Petri net model (checked in-process, fast)."""
    return project_with(tmp_path / "p", "durable-workflow")


def test_rerun_with_unchanged_models_changes_nothing(petri_project):
    first = verify(petri_project)
    written = (petri_project / "data" / "verification-own.ttl").read_bytes()
    again = verify(petri_project)
    assert first.findings and first.changed
    assert again.findings == [] and again.up_to_date == ["durable-workflow"]
    assert not again.changed
    assert (petri_project / "data" / "verification-own.ttl").read_bytes() == written


def test_check_fails_when_a_model_changed_and_was_not_rerun(petri_project):
    cli = Cli(petri_project)
    assert cli("verify", "--check").exit_code == 1          # nothing recorded yet
    result = cli("verify", "-q")
    assert result.exit_code == 0 and "durable-workflow-deadlock: holds" in result.stdout
    assert cli("verify", "--check").exit_code == 0
    net = petri_project / "models" / "durable-workflow" / "workflow.pnml"
    net.write_text(net.read_text().replace("<text>1</text></initialMarking>",
                                           "<text>2</text></initialMarking>", 1))
    result = cli("verify", "--check")
    assert result.exit_code == 1
    assert "models/durable-workflow/workflow.pnml changed" in result.stderr
    assert [s.model for s in stale(petri_project)] == ["durable-workflow"]


def fake_tool(folder: Path, name: str, script: str) -> None:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.parametrize(("script", "message"), [
    # a checker that crashes
    ('[ "$1" = -V ] && echo "Spin Version 6.5.2 -- 6 December 2019" && exit 0\nkill -SEGV $$\n',
     "killed by signal"),
    # a verifier whose report is not one
    ('[ "$1" = -V ] && echo "Spin Version 6.5.2 -- 6 December 2019" && exit 0\n'
     "printf 'int main(void) { return puts(\"all good, trust me\") < 0; }' > pan.c\n",
     "cannot parse the SPIN verifier's report"),
])
def test_a_crash_or_unparsable_output_gives_an_error_and_no_finding(tmp_path, monkeypatch,
                                                                    script, message):
    root = project_with(tmp_path / "p", "shard-fencing")
    fake_tool(tmp_path / "bin", "spin", script)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    result = Cli(root)("verify")
    assert result.exit_code == 1
    assert message in result.stderr and "shard-fencing" in result.stderr
    graph = Graph().parse(root / "data" / "verification-own.ttl")
    assert list(graph.subjects(RDF.type, WF.VerificationFinding)) == []


def test_a_missing_tool_names_its_package(tmp_path, monkeypatch):
    root = project_with(tmp_path / "p", "shard-fencing")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ToolMissing, match="Debian package 'spin'"):
        spin.spin_version()
    result = Cli(root)("verify", "-q")
    assert result.exit_code == 1 and "apt-get install spin" in result.stderr
    graph = Graph().parse(root / "data" / "verification-own.ttl")
    assert list(graph.subjects(RDF.type, WF.VerificationFinding)) == []


@pytest.mark.parametrize(("formula", "invariant"), [
    ("[] (balA + balB + INFLIGHT == TOTAL)", True), ("[] !two_owners", True),
    ("[] (started -> <> ended)", False), ("<> ended", False), ("[] (p U q)", False),
    ("[] [] p", False)])
def test_only_invariants_are_searched_breadth_first(formula, invariant):
    assert spin.is_invariant(formula) is invariant


@pytest.mark.parametrize("output", [
    "",
    "pan: something went wrong\n",
    # an incomplete search reports no error, but nothing may be claimed from it
    "error: max search depth too small\nState-vector 48 byte, depth reached 9999, errors: 0\n"
    "      254 states, stored\n      326 transitions (= stored+matched)\n"
    "   9.5\ttotal actual memory usage\n",
])
def test_pan_reports_that_prove_nothing_are_errors(output):
    with pytest.raises(ToolError):
        spin.parse_pan(output)


def test_pan_report_figures():
    out = ("State-vector 100 byte, depth reached 145, errors: 0\n"
           "    15926 states, stored (43029 visited)\n    51525 states, matched\n"
           "    94554 transitions (= visited+matched)\n   11.099\ttotal actual memory usage\n")
    result = spin.parse_pan(out)
    assert (result.errors, result.states, result.transitions, result.depth,
            result.memory_mb) == (0, 15926, 94554, 145, 11.099)
    assert spin.trail_steps("-2:2:-2\n-4:-4:-4\n1:0:169\n2:2:91\n3:0:169\n") == 3


PNML = """<?xml version="1.0"?>
<pnml xmlns="http://www.pnml.org/version-2009/grammar/pnml">
 <net id="n" type="http://www.pnml.org/version-2009/grammar/ptnet"><page id="g">
  <place id="a"><initialMarking><text>1</text></initialMarking></place>
  <place id="b"/>
  <transition id="t"/>
  <arc id="1" source="a" target="t"/><arc id="2" source="t" target="a"/>
  <arc id="3" source="t" target="b"/>
 </page></net></pnml>
"""


def test_an_unbounded_net_is_found_unbounded(tmp_path):
    (tmp_path / "n.pnml").write_text(PNML)
    space = petri.reachability(petri.read_pnml(tmp_path / "n.pnml"))
    assert space.unbounded_place == "b"
    bounded = PNML.replace('<arc id="2" source="t" target="a"/>', "")
    (tmp_path / "m.pnml").write_text(bounded)
    space = petri.reachability(petri.read_pnml(tmp_path / "m.pnml"))
    assert space.unbounded_place is None and space.bound == 1
    assert petri.check_ctl(space, "A F b", {}).holds
    failed = petri.check_ctl(space, "A G a", {})
    assert not failed.holds and failed.counterexample == ("t",)


def test_malformed_models_are_reported_with_their_place(tmp_path):
    (tmp_path / "bad.pnml").write_text(PNML.replace("</page>", ""))
    with pytest.raises(ModelError, match=r"bad\.pnml:\d+: not well-formed"):
        petri.read_pnml(tmp_path / "bad.pnml")
    (tmp_path / "arc.pnml").write_text(PNML.replace('target="b"', 'target="nowhere"'))
    with pytest.raises(ModelError, match="arc 3"):
        petri.read_pnml(tmp_path / "arc.pnml")
    root = project_with(tmp_path / "p", "durable-workflow")
    manifest = root / "models" / "durable-workflow" / "model.toml"
    manifest.write_text(manifest.read_text().replace('checker = "petri"', 'checker = "nusmv"'))
    result = Cli(root)("verify")
    assert result.exit_code == 2 and "model.toml: checker must be one of" in result.stderr
    assert Cli(root)("verify", "no-such-model").exit_code == 2


def test_own_findings_appear_next_to_published_ones(curated):
    rows = curated.query("verification-by-property",
                         {"property": "wfr:fund-conservation"}).rows()
    origin = {r["finding"].value.rsplit("/", 1)[-1]: r["origin"].value for r in rows}
    assert origin["vf-own-payment-saga-conservation"] == "own"
    assert origin["vf-money-transfer-tlc"] == "published"
    seeded = [r for r in rows if r.get("seededBug")]
    assert seeded and all(r["origin"].value == "own" and int(r["counterexampleLength"].value)
                          > 0 for r in seeded)
    theory = curated.query("theory-property-evidence",
                           {"property": "wfr:deadlock-freedom"}).rows()
    own = {(r["theory"].value.rsplit("/", 1)[-1], r["finding"].value.rsplit("/", 1)[-1])
           for r in theory if r["origin"].value == "own"}
    assert ("promela", "vf-own-payment-saga-deadlock") in own
    assert ("petri-nets", "vf-own-durable-workflow-deadlock") in own
    assert any(r["origin"].value == "published" for r in theory)


def test_a_specification_no_tool_here_checks_is_recorded_as_not_checked(tmp_path, curated):
    root = project_with(tmp_path / "p", "shard-fencing-tla")
    [finding] = verify(root).findings
    assert finding.holds is None and "not machine-checked" in finding.summary()
    graph = Graph().parse(root / "data" / "verification-own.ttl")
    node = finding.check.finding_iri
    assert (node, WF.result, WF.NotMachineChecked) in graph
    assert (node, WF.evidenceStatus, WF.Unverified) in graph
    assert graph.value(node, PROV.wasGeneratedBy) is None      # nothing ran
    assert list(graph.subjects(RDF.type, WF.ProgrammeRun)) == []
    rows = curated.query("verification-by-property", {"property": "wfr:mutual-exclusion"})
    origins = {r["finding"].value.rsplit("/", 1)[-1]: r["origin"].value for r in rows.rows()}
    assert origins["vf-own-shard-fencing-tla-fencing"] == "own, not machine-checked"
    assert origins["vf-own-shard-fencing-fencing"] == "own"


def test_recorded_findings_are_those_of_the_models_in_the_repository():
    assert stale(ROOT) == []
    graph = Graph().parse(ROOT / "data" / "verification-own.ttl")
    assert (WFR["vf-own-payment-saga-termination"], WF.result, WF.PropertyHolds) in graph
    assert Literal("Spin") in set(graph.objects(None, WF.toolName))


def test_a_findings_page_shows_the_model_the_result_and_the_counterexample(curated):
    from fastapi.testclient import TestClient

    from kg.query.guard import Policy
    from kg_api import create_app

    with TestClient(create_app(curated, policy=Policy(time_limit=10), workers=1)) as client:
        page = client.get("/resource/vf-own-shard-fencing-unfenced-write-fencing",
                          headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.text
    assert "models/shard-fencing/fencing.pml" in text           # the model, with its hash
    assert "bug found" in text and "two_owners = 1" in text     # the result, the trace
    assert "models/shard-fencing/trails/shard-fencing-unfenced-write-fencing.trail" in text
    assert "A write does not check the range ID" in text        # the seeded bug
