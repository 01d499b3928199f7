"""`kg cite` (BibTeX, CSL-JSON) and `kg path` (shortest explained paths)."""

from __future__ import annotations

import json

import bibtexparser


def test_bibtex_for_an_entity_parses_and_matches_the_graph(built_cli):
    result = built_cli("cite", "wfr:prop-atomic", "wfr:engine-b")
    assert result.exit_code == 0, result.stderr
    library = bibtexparser.parse_string(result.stdout)
    assert not library.failed_blocks
    [entry] = library.entries  # engine-b's only fact is unverified: no source of its own
    assert entry.key == "doe2020fixture"
    assert entry.entry_type == "inproceedings"  # its venue is a proceedings
    assert entry["author"] == "Doe, Jane and Roe, Richard"
    assert entry["title"] == "{A Fixture Paper}"
    assert entry["doi"] == "10.5555/fixture.1"
    # biblatex reads the ISO date; a year beside it would make biber warn
    assert entry["date"] == "2020-05" and "year" not in entry.fields_dict


def test_csl_json_for_a_query_answer(built_cli):
    result = built_cli("cite", "--query", "benchmarks", "--param", "backend=wfr:db-x",
                 "--format", "csl-json")
    items = {item["id"]: item for item in json.loads(result.stdout)}
    doc = items["fixture-doc"]
    assert doc["type"] == "webpage"
    assert doc["author"] == [{"literal": "Fixture Inc."}]
    assert doc["URL"] == "https://example.org/engine-a/docs"
    assert doc["issued"] == {"date-parts": [[2024]]}
    assert doc["accessed"] == {"date-parts": [[2026, 11, 28]]}
    assert set(items) == {"fixture-doc"}  # the paper backs nothing in this answer
    findings = json.loads(built_cli("cite", "--query", "verification-by-property",
                              "--format", "csl-json").stdout)
    [paper] = [item for item in findings if item["id"] == "doe2020fixture"]
    assert paper["type"] == "paper-conference"
    assert paper["author"] == [{"family": "Doe", "given": "Jane"},
                               {"family": "Roe", "given": "Richard"}]


def test_cite_needs_something_to_cite(cli):
    result = cli("cite")
    assert result.exit_code == 2 and "resource" in result.stderr


def test_curated_citations_resolve_to_canonical_records(curated):
    bib = bibtexparser.parse_string(curated.cite(["wfr:vf-aws-dynamodb-tlc"]))
    dois = {e.key: e.fields_dict["doi"].value for e in bib.entries if "doi" in e.fields_dict}
    assert "10.1145/2699417" in dois.values()


def test_paths_are_shortest_and_explained(built_cli):
    result = built_cli("path", "engine-a", "prop-atomic", "--limit", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all("(2 steps)" in line for line in lines)
    # one path through the mechanism, one through the case study that uses the engine
    assert any("--implements mechanism--> Event log --helps guarantee--> Atomicity" in line
               for line in lines)
    assert any("<--uses technology-- Org O payments --needs property--> Atomicity" in line
               for line in lines)


def test_path_ends_are_named_as_in_kg_query(built_cli):
    """Labels (any language, any case) and local names name a path's ends, as they name
    a query's parameters; a misspelt one is an error with the nearest names."""
    by_label = built_cli("path", "ENGINE A", "原子性", "--limit", "2")
    assert by_label.exit_code == 0, by_label.stderr
    assert by_label.stdout == built_cli("path", "wfr:engine-a", "prop-atomic",
                                        "--limit", "2").stdout
    missing = built_cli("path", "engine-a", "prop-atomik")
    assert missing.exit_code == 2 and "unknown resource prop-atomik" in missing.stderr
    assert "did you mean wfr:prop-atomic" in missing.stderr
    viz = built_cli("viz", "--focus", "Engine A", "-o", str(built_cli.project / "a.html"))
    assert viz.exit_code == 0 and "wfr:engine-a" in (built_cli.project / "a.html").read_text()
