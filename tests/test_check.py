"""`kg check`: HermiT (via owlready2 and Java) on ontology + data."""

from __future__ import annotations


def test_fixture_is_consistent(cli):
    result = cli("check", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("consistent")


def test_individual_in_disjoint_classes_is_named(cli, mini_project):
    (mini_project / "data" / "clash.ttl").write_text(
        "@prefix wf: <https://w3id.org/workflow-kg/ontology#> .\n"
        "@prefix wfr: <https://w3id.org/workflow-kg/resource/> .\n"
        "wfr:prop-atomic a wf:LivenessProperty .\n")
    result = cli("check", "-q")
    assert result.exit_code == 1
    assert ("wfr:prop-atomic is in disjoint classes wf:LivenessProperty and wf:SafetyProperty"
            in result.stderr)
    assert "inconsistent" in result.stderr


def test_curated_data_is_consistent(curated):
    report = curated.check()
    assert report.ok, (report.message, report.clashes, report.unsatisfiable_classes)
