"""cito:disputes marks exactly the sources the data names as contradicting a fact
(wf:contradictedBy), over the whole curated graph."""

from __future__ import annotations

from kg.paper.cite import every_source


def test_disputes_is_exactly_contradicted_by(curated):
    named = {(r["fact"].value, r["source"].value) for r in curated.sparql(
        "SELECT ?fact ?source WHERE { ?fact wf:contradictedBy|cito:disputes ?source }").rows()}
    assert len(named) >= 5
    exported = {(fact, entry.reference.iri) for entry in every_source(curated.store)
                for fact in entry.disputes}
    assert exported == named
