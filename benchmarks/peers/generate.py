"""Synthetic data at scale: a project folder whose data conforms to the ontology and the
shapes (it passes `kg validate`), deterministic for a seed.

    .venv/bin/python benchmarks/peers/generate.py --triples 100000 --seed 1 --out /tmp/kg-100k

The folder gets the real ontology/ and queries/ and one data file, data/synthetic.ttl.
The data repeats one block of entities (engines, backends, SDKs, theories, tools,
mechanisms, properties, organisations, domains, courses), sources, statements with
evidence, case studies, benchmark and verification findings and plan items, in the
proportions of the curated data, then links the blocks: each block's engines, cases
and findings point at entities of other blocks chosen with a Zipf-like law, so a few
entities are hubs with many links and most have a few, as in real bibliographic and
technology graphs. Nothing in it is a claim about real systems: every name is
synthetic and every URL is under example.org.
"""

from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

from kg.namespaces import TURTLE_PREFIXES

ROOT = Path(__file__).resolve().parents[2]
TRIPLES_PER_BLOCK = 300  # about: asserted and derived triples of one block, measured

PREFIXES = "# Synthetic benchmark data (benchmarks/peers/generate.py): not research content.\n" \
    + TURTLE_PREFIXES + """
wfr:plan a wf:ResearchPlan ; rdfs:label "Synthetic plan"@en , "合成计划"@zh ;
    skos:definition "The plan of the synthetic benchmark data."@en ;
    wf:startWeek 1 ; wf:endWeek 32 .
wfr:indicator-cases a wf:SuccessIndicator ; rdfs:label "10+ cases"@en , "10+案例"@zh ;
    skos:definition "Case studies with verified evidence."@en ; dcterms:isPartOf wfr:plan ;
    wf:indicatorKind "quantitative" ; wf:targetValue 10 ; wf:measuredBy "case-studies-verified" .
"""

ENTITIES = [  # (local name, class, English label, Chinese label)
    ("engine-a", "WorkflowEngine", "Engine A", "引擎A"),
    ("engine-b", "WorkflowEngine", "Engine B", "引擎B"),
    ("db-x", "StorageBackend", "DB X", "数据库X"),
    ("db-y", "StorageBackend", "DB Y", "数据库Y"),
    ("logic-t", "Theory", "Logic T", "逻辑T"),
    ("checker-c", "VerificationTool", "Checker C", "检验器C"),
    ("mech-log", "Mechanism", "Event log", "事件日志"),
    ("prop-atomic", "SafetyProperty", "Atomicity", "原子性"),
    ("prop-fast", "PerformanceProperty", "Fast", "快速"),
    ("org-o", "Organisation", "Org O", "组织O"),
    ("dom-pay", "ApplicationDomain", "Payments", "支付"),
    ("uni-u", "Institution", "University U", "U大学"),
]

BLOCK = """
{entities}
wfr:sdk-a-go-{k} a wf:SDK ; rdfs:label "Engine A Go SDK {k}"@en , "引擎A Go SDK {k}"@zh ;
    skos:definition "An SDK of synthetic block {k}."@en ; wf:programmingLanguage "{language}" .
wfr:course-{k} a wf:Course ; rdfs:label "Course {k}"@en , "课程{k}"@zh ;
    skos:definition "A course of synthetic block {k}."@en ; wf:courseNumber "{k}" ;
    wf:offeredBy wfr:uni-u-{k} .

src:doc-{k} a wf:Source ; wf:citationKey "doc-{k}" ; dcterms:title "Engine A documentation {k}" ;
    dcterms:publisher "Synthetic Inc. {k}" ; schema:url <https://example.org/docs/{k}> ;
    wf:sourceKind wf:Documentation ; dcterms:issued "{year}"^^xsd:gYear ;
    wf:accessed "2026-11-28"^^xsd:date .
src:paper-{k} a wf:Source ; wf:citationKey "doe{year}block{k}" ;
    dcterms:title "Synthetic paper {k}" ;
    wf:authors "Doe, Jane and Roe, Richard" ; bibo:doi "10.5555/synthetic.{k}" ;
    wf:venue "Synthetic Proceedings" ; wf:sourceKind wf:Paper ;
    dcterms:issued "{year}-05"^^xsd:gYearMonth .

[] a wf:Statement ; rdf:subject wfr:engine-a-{k} ; rdf:predicate wf:supportsBackend ;
   rdf:object wfr:db-x-{k} ; wf:backendRole wf:PersistenceRole ; wf:evidenceStatus wf:Verified ;
   cito:citesAsEvidence src:doc-{k} .
[] a wf:Statement ; rdf:subject wfr:engine-a-{k} ; rdf:predicate wf:supportsBackend ;
   rdf:object wfr:db-y-{k} ; wf:evidenceStatus wf:Contradicted ; cito:citesAsEvidence src:doc-{k} ;
   wf:contradictedBy src:doc-{k} ;
   wf:planClaim "The plan lists DB Y {k} as a backend." ;
    wf:evidenceNote "The docs list only DB X {k}." .
[] a wf:Statement ; rdf:subject wfr:engine-b-{k} ; rdf:predicate wf:supportsBackend ;
   rdf:object wfr:db-y-{k} ; wf:evidenceStatus wf:Unverified ; prov:wasAttributedTo wfr:plan ;
   wf:evidenceNote "Synthetic: no source searched." .
[] a wf:Statement ; rdf:subject wfr:sdk-a-go-{k} ; rdf:predicate wf:sdkFor ;
    rdf:object wfr:engine-a-{k} ;
   wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:doc-{k} .
[] a wf:Statement ; rdf:subject wfr:sdk-a-go-{k} ; rdf:predicate wf:maturity ;
   rdf:object "generally available" ; wf:evidenceStatus wf:Verified ;
    cito:citesAsEvidence src:doc-{k} .
[] a wf:Statement ; rdf:subject wfr:engine-a-{k} ; rdf:predicate wf:implementsMechanism ;
   rdf:object wfr:mech-log-{k} ; wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:doc-{k} .
[] a wf:Statement ; rdf:subject wfr:mech-log-{k} ; rdf:predicate wf:helpsGuarantee ;
   rdf:object wfr:prop-atomic-{k} ; wf:evidenceStatus wf:Verified ;
    cito:citesAsEvidence src:paper-{k} .
[] a wf:Statement ; rdf:subject wfr:logic-t-{k} ; rdf:predicate wf:canExpress ;
   rdf:object wfr:prop-atomic-{k} ; wf:evidenceStatus wf:Verified ;
    cito:citesAsEvidence src:paper-{k} .
[] a wf:Statement ; rdf:subject wfr:checker-c-{k} ; rdf:predicate wf:checksFormalism ;
   rdf:object wfr:logic-t-{k} ; wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:paper-{k} .
[] a wf:Statement ; rdf:subject wfr:checker-c-{k} ; rdf:predicate wf:canCheck ;
   rdf:object wfr:prop-atomic-{k} ; wf:evidenceStatus wf:Verified ;
    cito:citesAsEvidence src:paper-{k} .
[] a wf:Statement ; rdf:subject wfr:course-{k} ; rdf:predicate wf:teaches ;
    rdf:object wfr:logic-t-{k} ;
   wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:doc-{k} .
[] a wf:Statement ; rdf:subject wfr:dom-pay-{k} ; rdf:predicate wf:requiresProperty ;
   rdf:object wfr:prop-atomic-{k} ; wf:evidenceStatus wf:Unverified ;
    prov:wasAttributedTo wfr:plan ; wf:evidenceNote "Synthetic: no source searched." .

wfr:case-{k} a wf:CaseStudy ; rdfs:label "Org O {k} payments"@en , "组织O{k}支付"@zh ;
    wf:organisation wfr:org-o-{k} ; wf:domain wfr:dom-pay-{k} ;
    wf:purpose "Orchestrates payments." ;
    wf:usesTechnology wfr:engine-a-{k} , wfr:db-x-{k} , wfr:engine-a-{hub} ;
    wf:usesMechanism wfr:mech-log-{k} ; wf:needsProperty wfr:prop-atomic-{k} , wfr:prop-fast-{k} ;
    wf:hasMeasurement [ a wf:Measurement ; wf:measures "workflows per day" ;
                        qudt:numericValue {scale} ; wf:unitText "workflows/day" ] ;
    wf:planTask wfr:task-{k} ; wf:evidenceStatus wf:{status} ; {evidence} .

wfr:bench-{k} a wf:BenchmarkFinding ; rdfs:label "Engine A {k} on DB X {other} throughput"@en ;
    wf:system wfr:engine-a-{k} ; wf:backend wfr:db-x-{other} ; wf:workload "empty workflows" ;
    wf:metric wf:{metric} ; qudt:numericValue {value} ; wf:unitText "{unit}" ;
    wf:conditions "3 nodes" ;
    wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:doc-{cited} .

wfr:vf-{k} a wf:VerificationFinding ; rdfs:label "Atomicity of Engine A {k}'s protocol"@en ;
    wf:subjectSystem "Engine A {k} commit protocol" ; wf:formalism wfr:logic-t-{hub} ;
    wf:tool wfr:checker-c-{k} ; wf:verifiesProperty wfr:prop-atomic-{k} ; wf:result wf:{result} ;
    wf:caseStudy wfr:case-{k} ; wf:resultNote "A counterexample of {steps} steps." ;
    wf:evidenceStatus wf:Verified ; cito:citesAsEvidence src:paper-{cited} .

wfr:phase-{k} a wf:Phase ; rdfs:label "Phase {k}"@en , "阶段{k}"@zh ;
    skos:definition "A phase."@en ;
    dcterms:isPartOf wfr:plan ; wf:order {k} ; wf:startWeek {start} ; wf:endWeek {end} .
wfr:wp-{k} a wf:WorkPackage ; rdfs:label "Work package {k}"@en , "工作包{k}"@zh ;
    skos:definition "A work package."@en ; dcterms:isPartOf wfr:phase-{k} ;
    wf:startWeek {start} ; wf:endWeek {end} ; wf:produces wfr:deliverable-{k} .
wfr:task-{k} a wf:Task ; rdfs:label "Study Org O {k}"@en , "研究组织O{k}"@zh ;
    skos:definition "A task."@en ; dcterms:isPartOf wfr:wp-{k} ; wf:order 1 ;
    wf:startWeek {start} ; wf:endWeek {end} ;
    wf:studies wfr:org-o-{k} , wfr:logic-t-{k} , wfr:engine-b-{k} .
wfr:deliverable-{k} a wf:Deliverable ; rdfs:label "Notes {k}"@en , "笔记{k}"@zh ;
    skos:definition "Notes."@en ; dcterms:isPartOf wfr:wp-{k} .
wfr:milestone-{k} a wf:Milestone ; rdfs:label "Milestone {k}"@en , "里程碑{k}"@zh ;
    skos:definition "End of phase {k}."@en ; dcterms:isPartOf wfr:plan ; wf:week {end} ;
    wf:completes wfr:phase-{k} .
wfr:risk-{k} a wf:Risk ; rdfs:label "Risk {k}"@en , "风险{k}"@zh ; skos:definition "A risk."@en ;
    wf:riskCategory "technical" ; wf:impact wf:{impact} ; wf:probability wf:{probability} ;
    wf:mitigation "Survey early."@en ; wf:threatens wfr:phase-{k} .
"""

LINK = """[] a wf:Statement ; rdf:subject wfr:engine-a-{k} ; rdf:predicate wf:supportsBackend ;
   rdf:object wfr:db-x-{other} ; wf:evidenceStatus wf:Verified ;
    cito:citesAsEvidence src:doc-{cited} .
"""


def zipf(rng: random.Random, n: int, exponent: float = 1.1) -> int:
    """A block index in [0, n): index i with probability proportional to 1/(i+1)^s."""
    weights = _weights(n, exponent)
    return rng.choices(range(n), cum_weights=weights)[0]


_CACHE: dict[tuple[int, float], list[float]] = {}


def _weights(n: int, exponent: float) -> list[float]:
    if (n, exponent) not in _CACHE:
        total, cumulative = 0.0, []
        for i in range(n):
            total += 1.0 / (i + 1) ** exponent
            cumulative.append(total)
        _CACHE[(n, exponent)] = cumulative
    return _CACHE[(n, exponent)]


def block(k: int, blocks: int, rng: random.Random) -> str:
    entities = "\n".join(
        f'wfr:{name}-{k} a wf:{cls} ; rdfs:label "{en} {k}"@en , "{zh}{k}"@zh ;\n'
        f'    skos:definition "{en} of synthetic block {k}."@en .'
        for name, cls, en, zh in ENTITIES)
    start = rng.randint(1, 28)
    verified = rng.random() < 0.7
    metric, unit = rng.choice([("Throughput", "workflows/s"), ("Latency", "ms"),
                               ("RecoveryTime", "s")])
    text = BLOCK.format(
        k=k, entities=entities, language=rng.choice(["Go", "Java", "Python", "TypeScript"]),
        year=rng.randint(2005, 2025), hub=zipf(rng, blocks), other=zipf(rng, blocks),
        cited=zipf(rng, blocks), scale=rng.randint(1000, 10**8),
        status="Verified" if verified else "Unverified",
        evidence=(f"cito:citesAsEvidence src:doc-{k}" if verified
                  else 'prov:wasAttributedTo wfr:plan ; '
                       'wf:evidenceNote "Synthetic: no source searched."'),
        metric=metric, unit=unit, value=round(rng.lognormvariate(5, 1.5), 2),
        result=rng.choice(["BugFound", "PropertyHolds", "DesignImproved"]),
        steps=rng.randint(3, 60), start=start, end=start + rng.randint(0, 4),
        impact=rng.choice(["High", "Medium", "Low"]),
        probability=rng.choice(["High", "Medium", "Low"]))
    links = "".join(LINK.format(k=k, other=zipf(rng, blocks), cited=zipf(rng, blocks))
                    for _ in range(rng.randint(0, 3)))
    return text + links


def generate(triples: int, seed: int) -> str:
    """Turtle text with about `triples` triples after a build's derivation (without the
    ontology and the inferred graph)."""
    rng = random.Random(seed)
    blocks = max(1, round(triples / TRIPLES_PER_BLOCK))
    return PREFIXES + "".join(block(k, blocks, rng) for k in range(blocks))


def write_project(out: Path, triples: int, seed: int) -> Path:
    """A project folder at `out` with the real ontology/ and queries/ and the data."""
    for folder in ("ontology", "queries"):
        shutil.rmtree(out / folder, ignore_errors=True)
        shutil.copytree(ROOT / folder, out / folder)
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "data" / "synthetic.ttl").write_text(generate(triples, seed), encoding="utf-8")
    return out


def parse_size(text: str) -> int:
    """10k, 100k, 1M, or a plain number."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=parse_size, required=True,
                        help="about how many triples (10k, 100k, 1M, ...)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="project folder to write")
    args = parser.parse_args()
    write_project(args.out, args.triples, args.seed)
    print(f"wrote {args.out / 'data' / 'synthetic.ttl'}")


if __name__ == "__main__":
    main()
