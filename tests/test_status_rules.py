"""The evidence-status rules (data/README.md) as SHACL enforces them: each violating
fixture is rejected with a message a researcher can act on; and the plan's claims, with
their own status, in the plan-vs-evidence query."""

from __future__ import annotations

import pytest

from tests.test_validate import add, violations

W = "https://w3id.org/workflow-kg/resource/"
ONT = "https://w3id.org/workflow-kg/ontology#"
STATEMENT = ("[] a wf:Statement ; rdf:subject wfr:engine-b ; "
             "rdf:predicate wf:implementsMechanism ; rdf:object wfr:mech-log ; ")
PROV = "@prefix prov: <http://www.w3.org/ns/prov#> .\n"


@pytest.mark.parametrize(("turtle", "needle"), [
    # Contradicted needs the source that states something incompatible
    (STATEMENT + "wf:evidenceStatus wf:Contradicted ; cito:citesAsEvidence src:fixture-doc ; "
     "wf:evidenceNote \"The docs say otherwise.\" .",
     "names no contradicting source"),
    # ... and that source must be one the fact cites
    (STATEMENT + "wf:evidenceStatus wf:Contradicted ; cito:citesAsEvidence src:fixture-doc ; "
     "wf:contradictedBy src:fixture-paper ; wf:evidenceNote \"The paper says otherwise.\" .",
     "not among the sources this fact cites"),
    # ... and say what it states instead
    (STATEMENT + "wf:evidenceStatus wf:Contradicted ; cito:citesAsEvidence src:fixture-doc ; "
     "wf:contradictedBy src:fixture-doc .",
     "does not say what its source states"),
    # Unverified says what was searched
    (STATEMENT + "wf:evidenceStatus wf:Unverified .", "what was searched"),
    # only a Contradicted fact has a contradicting source
    (STATEMENT + "wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:fixture-doc ; "
     "wf:contradictedBy src:fixture-doc .", "only for Contradicted"),
    # what a source states instead is itself a Verified fact
    (STATEMENT + "wf:evidenceStatus wf:Contradicted ; cito:citesAsEvidence src:fixture-doc ; "
     "wf:contradictedBy src:fixture-doc ; wf:statesInstead wfr:case-p ; "
     "wf:evidenceNote \"The docs say otherwise.\" .", "not a Verified fact"),
])
def test_each_status_rule_rejects_a_violating_statement(cli, mini_project, turtle, needle):
    add(mini_project, "bad.ttl", turtle + "\n")
    result, found = violations(cli)
    assert result.exit_code == 1
    hits = [v for v in found if needle in v["message"]]
    assert hits, found
    assert all(v["file"] == "data/bad.ttl" and "statement/" in v["focus"] for v in hits)


def test_a_silent_source_cannot_make_a_fact_contradicted(cli, mini_project):
    # what a researcher sees when a fact is marked contradicted by a source that is silent
    add(mini_project, "bad.ttl", STATEMENT + "wf:evidenceStatus wf:Contradicted ; "
        "cito:citesAsEvidence src:fixture-doc ; wf:evidenceNote \"Not mentioned.\" .\n")
    text = cli("validate").stderr
    assert "a source that is merely silent does not contradict; then the fact is Unverified" \
        in text


@pytest.mark.parametrize(("missing", "needle"), [
    ("prov:wasAttributedTo wfr:plan ;", "attributed to the plan"),
    ("wf:planTask wfr:task-1 ;", "names the plan's task"),
    ("rdfs:label \"Claim\"@en , \"主张\"@zh ;", "English label"),
])
def test_plan_claim_shape(cli, mini_project, missing, needle):
    claim = ("wfr:claim-x a wf:PlanClaim ; rdfs:label \"Claim\"@en , \"主张\"@zh ; "
             "prov:wasAttributedTo wfr:plan ; wf:planTask wfr:task-1 ; wf:planClaim \"X.\" ; "
             "wf:evidenceStatus wf:Unverified ; wf:evidenceNote \"Searched the docs.\" .")
    add(mini_project, "bad.ttl", PROV + claim.replace(missing, "") + "\n")
    result, found = violations(cli)
    assert result.exit_code == 1
    assert any(v["focus"] == "wfr:claim-x" and needle in v["message"] for v in found), found


def test_plan_vs_evidence_on_the_fixture(mini_graph):
    rows = {r["claim"].value.removeprefix(W): r
            for r in mini_graph.query("plan-vs-evidence").rows()}
    claim = rows["claim-o-on-b"]
    assert claim["status"].value == ONT + "Contradicted"
    assert claim["contradictedBy"].value == "fixture-doc"
    assert claim["evidenceSupports"].value == W + "case-o"
    assert claim["claimLabel"].value == "Org O pays on Engine B"
    # a claim that is one triple is a statement attributed to the plan, labelled by its triple
    labels = {r["claimLabel"].value for r in rows.values()}
    assert "Engine B supports backend DB Y" in labels
    contradicted = mini_graph.query("plan-vs-evidence", {"status": "wf:Contradicted"})
    assert {r["status"].value for r in contradicted.rows()} == {ONT + "Contradicted"}


# A sample of the plan's claims per phase, as the sources judge them.
PLAN_SAMPLES = {
    1: ("Stanford CS237B", "Unverified"),           # course page silent on LTL
    2: ("Temporal supports backend TimescaleDB", "Unverified"),   # the docs are silent on it
    3: ("Robinhood's trade clearing runs on Temporal", "Contradicted"),
    4: ("Temporal can be benchmarked with PostgreSQL as its persistence store", "Verified"),
    5: ("TLA+ can express Payment atomicity", "Verified"),
}


def test_plan_vs_evidence_answers_for_every_phase_with_claims(curated):
    rows = curated.query("plan-vs-evidence").rows()
    by_phase: dict[int, list[tuple[str, str]]] = {}
    for r in rows:
        by_phase.setdefault(int(r["phaseOrder"].value), []).append(
            (r["claimLabel"].value, r["status"].value.removeprefix(ONT)))
    for phase, (label, status) in PLAN_SAMPLES.items():
        assert any(found.startswith(label) and s == status for found, s in by_phase[phase]), \
            (phase, by_phase.get(phase))
    # every claim has a status, and every contradicted one names its contradicting source
    assert all(r.get("status") for r in rows)
    assert all(r["contradictedBy"].value for r in rows
               if r["status"].value == ONT + "Contradicted")
    # the Robinhood claim points at the case as the sources describe it
    [robinhood] = [r for r in rows if r["claim"].value == W + "claim-robinhood-clearing-temporal"]
    assert robinhood["evidenceSupports"].value == W + "case-robinhood"


def test_every_contradicted_fact_names_what_contradicts_it(curated):
    missing = curated.sparql("""
        SELECT ?fact WHERE { ?fact wf:evidenceStatus wf:Contradicted .
                             FILTER NOT EXISTS { ?fact wf:contradictedBy ?source } }""")
    assert missing.values("fact") == []


def test_case_labels_in_chinese_state_what_the_evidence_supports(curated):
    robinhood = curated.sparql("""SELECT ?l WHERE { wfr:case-robinhood rdfs:label ?l
                                  FILTER (LANG(?l) = "zh") }""").values("l")
    assert robinhood and "Airflow" in robinhood[0]
    coinbase = curated.sparql("""SELECT ?l WHERE { wfr:case-coinbase rdfs:label ?l
                                 FILTER (LANG(?l) = "zh") }""").values("l")
    assert coinbase and "Cadence" in coinbase[0] and "支付系统" not in coinbase[0]


SOURCE = ("src:fixture-new a wf:Source ; wf:citationKey \"fixture-new\" ; "
          "dcterms:title \"A new fixture source\" ; dcterms:publisher \"Fixture Inc.\" ; "
          "schema:url <https://example.org/new> ; wf:sourceKind wf:BlogPost ; ")


@pytest.mark.parametrize(("turtle", "needle"), [
    # a Contradicted fact whose note only says the source is silent
    (STATEMENT + "wf:evidenceStatus wf:Contradicted ; cito:citesAsEvidence src:fixture-doc ; "
     "wf:contradictedBy src:fixture-doc ; wf:evidenceNote \"Not mentioned.\" .",
     "does not say what the contradicting source states"),
    # the contradicting source must be a declared source
    (STATEMENT + "wf:evidenceStatus wf:Contradicted ; cito:citesAsEvidence src:fixture-doc , "
     "wfr:engine-a ; wf:contradictedBy wfr:engine-a ; "
     "wf:evidenceNote \"The engine's page says it was never supported.\" .",
     "is not a declared wf:Source"),
])
def test_contradicted_needs_what_the_source_states(cli, mini_project, turtle, needle):
    add(mini_project, "bad.ttl", turtle + "\n")
    result, found = violations(cli)
    assert result.exit_code == 1
    assert any(needle in v["message"] for v in found), found


@pytest.mark.parametrize(("turtle", "needle"), [
    # a placeholder is not a reason
    (SOURCE + "wf:accessed \"2026-11-28\"^^xsd:date ; wf:dateNote \"Publication date not yet "
     "looked up on the post; cite it with the access date until it is.\" .", "is a placeholder"),
    (SOURCE + "wf:dateNote \"TODO: find the date of this post\" .", "is a placeholder"),
    (SOURCE + "wf:dateNote \"unknown\" .", "is a placeholder"),
    # nor is nothing at all
    (SOURCE + "wf:accessed \"2026-11-28\"^^xsd:date .", "needs its date"),
    # a source cannot be issued after it was read
    (SOURCE + "dcterms:issued \"2026-12\"^^xsd:gYearMonth ; wf:accessed \"2026-11-28\"^^xsd:date .",
     "is after wf:accessed"),
    # a repository artefact is dated by the run that used it, or by the day it was hashed
    ("src:fixture-artefact a wf:Source ; wf:citationKey \"fixture-artefact\" ; "
     "dcterms:title \"models/x/model.toml\" ; dcterms:publisher \"Fixture Inc.\" ; "
     "wf:sourceKind wf:ProgrammeArtefact ; wf:repositoryPath \"models/x/model.toml\" ; "
     "wf:contentHash \"sha256:" + "0" * 64 + "\" .", "dated by the programme run"),
])
def test_a_source_date_is_the_sources_own_or_a_reason(cli, mini_project, turtle, needle):
    add(mini_project, "bad.ttl", turtle + "\n")
    result, found = violations(cli)
    assert result.exit_code == 1
    hits = [v for v in found if needle in v["message"]]
    assert hits, found
    assert all(v["focus"] in ("src:fixture-new", "src:fixture-artefact") for v in hits), found


@pytest.mark.parametrize("turtle", [
    # a reason that says why the source has none
    SOURCE + "wf:accessed \"2026-11-28\"^^xsd:date ; wf:dateNote \"Documentation revised in "
    "place, with no publication date of its own; cite it with the access date.\" .",
    # issued the day it was read
    SOURCE + "dcterms:issued \"2026-11-28\"^^xsd:date ; wf:accessed \"2026-11-28\"^^xsd:date .",
    SOURCE + "dcterms:issued \"2026\"^^xsd:gYear ; wf:accessed \"2026-11-28\"^^xsd:date .",
])
def test_a_dated_source_or_a_real_reason_passes(cli, mini_project, turtle):
    add(mini_project, "good.ttl", turtle + "\n")
    result, found = violations(cli)
    assert not [v for v in found if v["focus"] == "src:fixture-new"], found
