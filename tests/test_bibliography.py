"""Bibliographic records of the curated sources: finer kinds for papers, the container
title apart from volume, issue and pages, and a date or the reason there is none."""

from __future__ import annotations

import re

ONT = "https://w3id.org/workflow-kg/ontology#"
PAPER_KINDS = {ONT + k for k in ("JournalArticle", "ConferencePaper", "Thesis",
                                 "TechnicalReport", "BookChapter", "Preprint")}
PAGES = re.compile(r"^[A-Za-z]?\d+(:\d+)?(-[A-Za-z]?\d+(:\d+)?)?$")


def records(graph) -> list[dict[str, str]]:
    rows = graph.sparql("""
        SELECT ?source ?kind ?venue ?volume ?issue ?pages ?series ?issued ?dateNote ?path WHERE {
          ?source a wf:Source ; wf:sourceKind ?kind .
          OPTIONAL { ?source wf:venue ?venue } OPTIONAL { ?source bibo:volume ?volume }
          OPTIONAL { ?source bibo:issue ?issue } OPTIONAL { ?source bibo:pages ?pages }
          OPTIONAL { ?source wf:series ?series } OPTIONAL { ?source dcterms:issued ?issued }
          OPTIONAL { ?source wf:dateNote ?dateNote } OPTIONAL { ?source wf:repositoryPath ?path }
        }""").rows()
    return [{k: v.value for k, v in row.items()} for row in rows]


def test_papers_have_a_finer_kind_and_structured_fields(curated):
    papers = [r for r in records(curated) if r["kind"] in PAPER_KINDS | {ONT + "Paper"}]
    assert len(papers) >= 50
    general = {r["source"].rsplit("/", 1)[-1] for r in papers if r["kind"] == ONT + "Paper"}
    # only records whose container the graph does not know stay general papers
    assert general <= {"cptac-cdap-nist", "zbmath-philips-audio-uppaal", "pnml-primer"}, general
    for r in papers:
        venue = r.get("venue", "")
        assert not re.search(r"\d+\(\d+\)|LNCS \d|Lecture Notes in Computer Science \d", venue), r
        if "pages" in r:
            assert PAGES.match(r["pages"]), r
    journal = [r for r in papers if r["kind"] == ONT + "JournalArticle"]
    conference = [r for r in papers if r["kind"] == ONT + "ConferencePaper"]
    assert len(journal) >= 20 and len(conference) >= 15
    assert all(r.get("venue") for r in journal + conference)
    lncs = [r for r in conference if r.get("series") == "Lecture Notes in Computer Science"]
    assert len(lncs) >= 7 and all(r.get("volume", "").isdigit() for r in lncs if "volume" in r)
    tla = next(r for r in journal if r["source"].endswith("/lamport1994tla"))
    assert (tla["venue"], tla["volume"], tla["issue"], tla["pages"]) == (
        "ACM Transactions on Programming Languages and Systems", "16", "3", "872-923")
    thesis = next(r for r in papers if r["source"].endswith("/petri1962kommunikation"))
    assert thesis["kind"] == ONT + "Thesis" and "venue" not in thesis


def test_every_source_has_a_date_or_says_why_not(curated):
    rows = records(curated)
    # a repository artefact is dated by the programme run that used it
    assert rows and all(r.get("issued") or r.get("dateNote") or r.get("path") for r in rows)
    dated = [r for r in rows if r.get("issued")]
    assert all(re.match(r"^\d{4}(-\d{2}(-\d{2})?)?$", r["issued"]) for r in dated)


def test_bibtex_of_a_journal_article_stays_an_article(curated):
    text = curated.cite(["src:lamport1994tla"])
    assert text.startswith("@article{lamport1994tla,")


def test_venue_with_volume_and_pages_is_rejected(cli, mini_project):
    from tests.test_validate import add, violations

    add(mini_project, "bad.ttl", """
src:packed a wf:Source ; wf:citationKey "packed" ; dcterms:title "P" ; wf:authors "Doe, J." ;
    wf:venue "ACM Transactions on Programming Languages and Systems 16(3):872-923" ;
    bibo:doi "10.5555/packed" ; wf:sourceKind wf:JournalArticle ; dcterms:issued "1994"^^xsd:gYear .
src:undated a wf:Source ; wf:citationKey "undated" ; dcterms:title "U" ; dcterms:publisher "P" ;
    schema:url <https://example.org/u> ; wf:sourceKind wf:Documentation .
src:badpages a wf:Source ; wf:citationKey "badpages" ; dcterms:title "B" ; wf:authors "Doe, J." ;
    bibo:doi "10.5555/pages" ; bibo:pages "pp. 1 to 9" ; wf:sourceKind wf:JournalArticle ;
    dcterms:issued "2001"^^xsd:gYear .
""")
    result, found = violations(cli)
    assert result.exit_code == 1
    by_focus = {v["focus"]: v["message"] for v in found}
    assert "wf:venue holds only the container title" in by_focus["src:packed"]
    assert "or a wf:dateNote saying why it has none" in by_focus["src:undated"]
    assert "page range" in by_focus["src:badpages"]
