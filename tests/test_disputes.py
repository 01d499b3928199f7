"""cito:disputes marks exactly the sources the data names as contradicting a fact
(wf:contradictedBy), over the whole curated graph."""

from __future__ import annotations

from kg.paper.cite import BACKGROUND, DISPUTES, every_source, render


def test_disputes_is_exactly_contradicted_by(curated):
    named = {(r["fact"].value, r["source"].value) for r in curated.sparql(
        "SELECT ?fact ?source WHERE { ?fact wf:contradictedBy|cito:disputes ?source }").rows()}
    assert len(named) >= 5
    exported = {(fact, entry.reference.iri) for entry in every_source(curated.store)
                for fact in entry.disputes}
    assert exported == named


def test_other_sources_of_a_contradicted_claim_are_not_disputing(curated):
    # the plan's TimescaleDB backend for Temporal: four sources, one contradicting
    [row] = curated.sparql("""SELECT ?fact WHERE { ?fact rdf:subject wfr:temporal ;
        rdf:predicate wf:supportsBackend ; rdf:object wfr:timescaledb }""").rows()
    fact = row["fact"].value
    entries = {e.key: e for e in every_source(curated.store)
               if fact in (*e.supports, *e.disputes, *e.background)}
    assert {k for k, e in entries.items() if fact in e.disputes} == {"temporal-docs-persistence"}
    background = {k for k, e in entries.items() if fact in e.background}
    assert {"supabase-docs-timescaledb", "temporal-helm-charts"} <= background
    assert all(fact not in e.supports for e in entries.values())
    bib = render(list(entries.values()), "biblatex")
    supabase = bib[bib.index("@online{supabase-docs-timescaledb"):].split("\n}\n")[0]
    assert DISPUTES not in supabase and BACKGROUND in supabase


def test_statement_page_lists_only_the_contradicting_source_as_such(curated):
    from fastapi.testclient import TestClient

    from kg.query.guard import Policy
    from kg_api import create_app

    [row] = curated.sparql("""SELECT ?fact WHERE { ?fact rdf:subject wfr:temporal ;
        rdf:predicate wf:supportsBackend ; rdf:object wfr:timescaledb }""").rows()
    path = "/" + row["fact"].value.removeprefix("https://w3id.org/workflow-kg/")
    with TestClient(create_app(curated, policy=Policy(time_limit=10), workers=1)) as client:
        page = client.get(path, headers={"Accept": "text/html"}).text
    contradicting = page.split("Source that contradicts the claim</span>")[1].split("</ul>")[0]
    others = page.split("Other sources cited</span>")[1].split("</ul>")[0]
    assert contradicting.count("<li") == 1 and "[temporal-docs-persistence]" in contradicting
    assert "[supabase-docs-timescaledb]" in others and "disputes" not in others
