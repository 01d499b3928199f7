"""The status and date rules (data/README.md) hold over the whole curated graph, not only
on fixtures: every Contradicted fact names its contradicting source and says what that
source states; every source carries its own date or a reason why it has none. The share
of sources dated from the source itself is printed (run with -s to see it)."""

from __future__ import annotations

import re

ONT = "https://w3id.org/workflow-kg/ontology#"
# the placeholders the curated data used to carry; none may remain (SHACL refuses them too)
PLACEHOLDER = re.compile(r"not (yet )?(been )?(looked up|checked)|until (it|one) is|\b(TODO|TBD)\b",
                         re.IGNORECASE)
SILENCE = re.compile(r"^(not (mentioned|found|listed|stated|documented)|no mention|silent)[ .;,]*$",
                     re.IGNORECASE)


def test_every_contradicted_fact_names_a_cited_source_and_what_it_states(curated):
    rows = curated.sparql("""
        SELECT ?fact ?source ?cited ?isSource ?note WHERE {
            ?fact wf:evidenceStatus wf:Contradicted .
            OPTIONAL { ?fact wf:contradictedBy ?source .
                       BIND (EXISTS { ?fact cito:citesAsEvidence ?source } AS ?cited)
                       BIND (EXISTS { ?source a wf:Source } AS ?isSource) }
            OPTIONAL { ?fact wf:evidenceNote|wf:resultNote ?note }
        }""").rows()
    facts = {r["fact"].value for r in rows}
    assert len(facts) >= 5  # the plan's contradicted claims and the saga/serializability fact
    bad = [r["fact"].value for r in rows
           if "source" not in r or r["cited"].value != "true" or r["isSource"].value != "true"
           or "note" not in r or len(r["note"].value) < 20 or SILENCE.match(r["note"].value)]
    assert bad == []


def test_no_contradiction_rests_on_silence_among_the_audited_claims(curated):
    # the two claims whose sources are silent are Unverified, not Contradicted
    for obj, pred in (("wfr:timescaledb", "wf:supportsBackend"),
                      ("wfr:mvcc", "wf:implementsMechanism")):
        statuses = curated.sparql(f"""SELECT ?s WHERE {{ ?st rdf:subject wfr:temporal ;
            rdf:predicate {pred} ; rdf:object {obj} ; wf:evidenceStatus ?s }}""").values("s")
        assert statuses == [ONT + "Unverified"], (obj, statuses)


def test_every_source_has_its_date_or_a_reason(curated):
    rows = curated.sparql("""
        SELECT ?source ?issued ?note ?run ?hashed WHERE {
            ?source a wf:Source .
            OPTIONAL { ?source dcterms:issued ?issued }
            OPTIONAL { ?source wf:dateNote ?note }
            OPTIONAL { ?r a wf:ProgrammeRun ; prov:used ?source ; prov:startedAtTime ?run }
            OPTIONAL { ?source wf:repositoryPath ?path ; wf:contentHash ?h ; wf:accessed ?hashed }
        }""").rows()
    sources: dict[str, dict] = {}
    for r in rows:
        sources.setdefault(r["source"].value, {}).update({k: v.value for k, v in r.items()})
    undated = [s for s, r in sources.items()
               if "issued" not in r and "run" not in r and "hashed" not in r and "note" not in r]
    placeholders = [s for s, r in sources.items() if "note" in r and PLACEHOLDER.search(r["note"])]
    assert undated == [] and placeholders == []
    dated = sum("issued" in r for r in sources.values())
    artefacts = sum("issued" not in r and ("run" in r or "hashed" in r) for r in sources.values())
    share = dated / len(sources)
    print(f"\nsources: {len(sources)}; dated from the source itself: {dated} ({share:.0%}); "
          f"programme artefacts dated by their run or hash: {artefacts}; "
          f"with a reason for having no date: {len(sources) - dated - artefacts}")
    # floors at the measured values (350 sources, 269 dated, 76.9%): a source losing its date or
    # record fails here; the target of 90% dated is not reached yet (see data/README.md)
    assert len(sources) >= 350
    assert share >= 0.76
