"""Coverage for fair answers: other engines' SDKs, Temporal SDK maturity, findings linked
to the systems they concern, and success indicators that count what the plan means."""

from __future__ import annotations

from kg import KnowledgeGraph
from tests.conftest import FIXTURES, make_project

W = "https://w3id.org/workflow-kg/resource/"


def test_technology_selection_can_answer_beyond_temporal(curated):
    for language, engine in (("Go", "cadence"), ("Python", "dbos"), ("TypeScript", "restate"),
                             ("Java", "cadence"), ("Java", "restate")):
        engines = curated.query("technology-selection", {"language": language}).values("engine")
        assert W + "temporal" in engines and W + engine in engines, (language, engines)


def test_sdk_matrix_shows_each_sdks_licence_and_maintainer(curated):
    """Read from each SDK's LICENSE (sources-sdks.ttl): Temporal's Java SDK is Apache-2.0,
    its Go and Python SDKs MIT; Cadence's Go client moved from MIT to Apache-2.0 in May
    2025, so only Apache-2.0 is shown; Durable Functions' Java SDK is Microsoft's."""
    rows = curated.query("sdk-matrix", {}).rows()
    licences = {}
    for r in rows:
        if "licence" in r:
            licences.setdefault(r["sdk"].value.removeprefix(W), set()).add(r["licence"].value)
    assert licences["temporal-java-sdk"] == {"Apache-2.0"}
    assert licences["temporal-go-sdk"] == licences["temporal-python-sdk"] == {"MIT"}
    assert licences["cadence-go-client"] == {"Apache-2.0"}
    maintainers = {r["sdk"].value.removeprefix(W): r["maintainer"].value for r in rows
                   if "maintainer" in r}
    assert maintainers["durable-functions-java"] == W + "microsoft"
    assert maintainers["conductor-java-sdk"] == W + "orkes"


def test_sdk_maturity_for_go_java_php(curated):
    rows = curated.query("sdk-matrix", {"engine": "wfr:temporal"}).rows()
    maturity = {r["sdk"].value.removeprefix(W): r["maturity"].value for r in rows
                if "maturity" in r}
    for sdk in ("temporal-go-sdk", "temporal-java-sdk", "temporal-php-sdk"):
        assert maturity.get(sdk) == "officially supported", maturity


def test_saga_sdk_class_engine_internals_and_pnml(curated):
    mechanisms = curated.query("mechanisms", {"technology": "wfr:temporal-java-sdk"})
    assert {W + "saga", W + "compensation"} <= set(mechanisms.values("mechanism"))
    fencing = """ASK { ?st rdf:subject wfr:temporal ; rdf:object wfr:shard-fencing ;
                           wf:evidenceStatus wf:Verified ;
                           cito:citesAsEvidence/schema:url ?url
                     FILTER (CONTAINS(STR(?url), "persistence/sql/shard.go")) }"""
    assert curated.sparql(fencing).boolean is True
    assert curated.sparql("ASK { wfr:task-23-4 wf:studies wfr:pnml }").boolean is True


def test_verification_findings_reach_the_systems_they_concern(curated):
    systems = curated.sparql("""SELECT ?f ?s WHERE { ?f a wf:VerificationFinding ;
                                                       wf:system ?s }""").rows()
    by_finding = {r["f"].value.removeprefix(W): r["s"].value.removeprefix(W) for r in systems}
    assert by_finding["vf-elasticsearch-replication-tlc"] == "elasticsearch"
    assert by_finding["vf-aws-dynamodb-tlc"] == "amazon-dynamodb"


def test_success_indicators_count_own_work_apart_from_published(curated):
    rows = {r["measure"].value: r for r in curated.query("success-indicators").rows()
            if "measure" in r}
    bench, props = rows["benchmark-findings"], rows["properties-verified"]

    def count(where: str) -> int:
        return int(curated.sparql(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}"
                                  ).values("n")[0])

    performance = ("?b a wf:BenchmarkFinding ; wf:evidenceStatus wf:Verified ; wf:metric ?m ;"
                   " wf:workload ?w FILTER (?m IN (wf:Throughput, wf:Latency, wf:RecoveryTime))"
                   " BIND (CONCAT(STR(?m), ' ', STR(?w)) AS ?x)")
    own = " FILTER EXISTS { ?b prov:wasGeneratedBy/a wf:ProgrammeRun }"
    assert int(bench["current"].value) == count(performance + own)
    assert int(bench["published"].value) == count(performance + own.replace("EXISTS",
                                                                           "NOT EXISTS"))
    # a test is a metric on a workload: not every figure, and never a limit or a price
    own_findings = count("?x a wf:BenchmarkFinding ; prov:wasGeneratedBy/a wf:ProgrammeRun")
    assert int(bench["current"].value) < own_findings
    # own properties count only where the programme's run found the property to hold
    held = count("?v a wf:VerificationFinding ; prov:wasGeneratedBy/a wf:ProgrammeRun ;"
                 " wf:result wf:PropertyHolds ; wf:evidenceStatus wf:Verified ;"
                 " wf:verifiesProperty ?x")
    assert int(props["current"].value) == held
    assert int(props["published"].value) >= 5


OWN_RUN = """
@prefix wf:   <https://w3id.org/workflow-kg/ontology#> .
@prefix wfr:  <https://w3id.org/workflow-kg/resource/> .
@prefix src:  <https://w3id.org/workflow-kg/source/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix cito: <http://purl.org/spar/cito/> .
@prefix qudt: <http://qudt.org/schema/qudt/> .
src:run-data a wf:Source ; wf:citationKey "run-data" ; dcterms:title "Raw data" ;
    dcterms:publisher "The programme" ; wf:sourceKind wf:ProgrammeArtefact ;
    wf:repositoryPath "bench/raw.csv" ; wf:contentHash "sha256:%s" ;
    <https://schema.org/url> <https://example.org/bench/raw.csv> ;
    dcterms:issued "2026"^^xsd:gYear ; wf:accessed "2026-12-02"^^xsd:date .
wfr:run-1 a wf:ProgrammeRun ; wf:command "make bench" ; wf:toolName "harness" ;
    wf:toolVersion "1" ; wf:machine "2 cores" ;
    prov:startedAtTime "2026-12-02T10:00:00Z"^^xsd:dateTime ; prov:used src:run-data .
wfr:bench-own a wf:BenchmarkFinding ; rdfs:label "Own throughput run"@en ;
    wf:system wfr:engine-a ; wf:workload "empty workflows" ; wf:metric wf:Throughput ;
    qudt:numericValue 10 ; wf:unitText "workflows/s" ; prov:wasGeneratedBy wfr:run-1 ;
    wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:run-data .
wfr:bench-price a wf:BenchmarkFinding ; rdfs:label "A price"@en ;
    wf:system wfr:engine-a ; wf:workload "billing" ; wf:metric wf:Cost ;
    qudt:numericValue 5 ; wf:unitText "USD" ;
    wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:fixture-doc .
wfr:indicator-bench a wf:SuccessIndicator ; rdfs:label "5+ benchmarks"@en , "5+基准测试"@zh ;
    rdfs:comment "x" ; dcterms:isPartOf wfr:plan ; wf:indicatorKind "quantitative" ;
    wf:targetValue 5 ; wf:measuredBy "benchmark-findings" ;
    <http://www.w3.org/2004/02/skos/core#definition> "Benchmarks."@en .
""" % ("0" * 64)


def test_benchmark_indicator_counts_own_runs_not_prices(tmp_path):
    root = make_project(tmp_path / "p", FIXTURES / "mini.ttl")
    (root / "data" / "own.ttl").write_text(OWN_RUN, encoding="utf-8")
    graph = KnowledgeGraph(root)
    graph.build()
    [row] = [r for r in graph.query("success-indicators").rows()
             if r.get("measure") and r["measure"].value == "benchmark-findings"]
    # the own run counts; the fixture's published throughput is reported apart; the price
    # is neither
    assert (int(row["current"].value), int(row["published"].value)) == (1, 1)
