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
