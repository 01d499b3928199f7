"""`kg import bib`: a Zotero / Better BibTeX export (BibTeX, CSL-JSON, RIS) becomes source
records that pass the shapes, and what `kg cite` exports imports back without loss."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import rispy

from kg import KnowledgeGraph
from kg.paper.bibimport import read_library
from kg.paper.cite import every_source, render, to_csl
from tests.conftest import FIXTURES, Cli

SCHEMA = json.loads((FIXTURES / "csl" / "csl-data.json").read_text())
NEW = {"fixture-blog", "fixture-sdk", "kim2023checking", "lee2021durable", "wang2022book"}


def _csl(entries) -> dict[str, dict]:
    return {i["id"]: {k: v for k, v in i.items() if k != "keyword"} for i in to_csl(entries)}


@pytest.fixture(scope="module")
def exported(evidence_project) -> dict:
    """The fixture graph's sources as kg cite writes them."""
    entries = every_source(KnowledgeGraph(evidence_project).store)
    return {"entries": entries, **{fmt: render(entries, fmt)
                                    for fmt in ("biblatex", "csl-json", "ris")}}


def test_curated_csl_json_is_valid_csl_and_ris_reads_back(curated):
    entries = every_source(curated.store)
    items = json.loads(render(entries, "csl-json"))
    jsonschema.validate(items, SCHEMA)
    records = rispy.loads(render(entries, "ris"))
    assert [r["id"] for r in records] == [e.key for e in entries]
    schultz = next(i for i in items if i["id"] == "schultz2022formal")
    # "and others" is not a person: et al. follows the known author
    assert schultz["author"] == [{"family": "Schultz", "given": "William", "suffix": "et al.",
                                  "comma-suffix": True}]


@pytest.mark.parametrize(("fmt", "suffix"), [("csl-json", ".json"), ("ris", ".ris"),
                                             ("biblatex", ".bib")])
def test_exports_import_back_without_loss(exported, mini_project, tmp_path, fmt, suffix):
    library = tmp_path / f"library{suffix}"
    library.write_text(exported[fmt], encoding="utf-8")
    result = Cli(mini_project)("import", "bib", str(library))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "5 added, 0 updated, 2 skipped; wrote data/sources-imported.ttl" in result.stdout
    assert "skipped fixture-doc: already in data/mini.ttl; --update replaces it" in result.stdout
    graph = KnowledgeGraph(mini_project)
    graph.build()
    back = _csl(every_source(graph.store))
    before = _csl([e for e in exported["entries"] if e.key in NEW])
    assert {k: back[k] for k in NEW} == before


def test_zotero_fields_are_mapped_or_reported(mini_project, tmp_path):
    library = tmp_path / "zotero.bib"
    library.write_text(r"""@article{smith2020saga,
  title = {Sagas {$\lambda$} in \& Practice},
  author = {Smith, Anna and {van der Berg}, Jan and others},
  journaltitle = {Journal of Examples},
  date = {2020-03},
  volume = {7}, number = {2}, pages = {10--20},
  doi = {10.5555/example.7},
  abstract = {Not kept.},
  file = {/home/me/Zotero/storage/x.pdf},
}
@patent{nobody2001patent, title = {A Patent}, year = {2001}}
""", encoding="utf-8")
    result = Cli(mini_project)("import", "bib", str(library))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "skipped nobody2001patent: entry type @patent has no source kind" in result.stdout
    assert "not mapped: smith2020saga: abstract = Not kept." in result.stdout
    assert "not mapped: smith2020saga: file = " in result.stdout
    [record] = [r for r in read_library(library)[0] if r.key == "smith2020saga"]
    assert (record.kind, record.venue, record.issued, record.pages, record.issue) == (
        "JournalArticle", "Journal of Examples", "2020-03", "10-20", "2")
    assert record.authors == ["Smith, Anna", "van der Berg, Jan", "others"]
    written = (mini_project / "data" / "sources-imported.ttl").read_text()
    assert 'wf:authors "Smith, Anna and van der Berg, Jan and others"' in written
    assert "bibo:doi \"10.5555/example.7\"" in written


def test_update_replaces_a_curated_record_in_place(mini_project, tmp_path):
    library = tmp_path / "fix.json"
    library.write_text(json.dumps([{
        "id": "doe2020fixture", "type": "paper-conference", "title": "A Fixture Paper, Revised",
        "author": [{"family": "Doe", "given": "Jane"}], "container-title": "Fixture Proceedings",
        "issued": {"date-parts": [[2020, 5]]}, "DOI": "10.5555/fixture.1"}]))
    kept = Cli(mini_project)("import", "bib", str(library))
    assert kept.exit_code == 1 and "0 added" in kept.stdout  # nothing to write without --update
    assert "A Fixture Paper\"" in (mini_project / "data" / "mini.ttl").read_text()
    updated = Cli(mini_project)("import", "bib", str(library), "--update")
    assert updated.exit_code == 0, updated.stdout + updated.stderr
    assert "0 added, 1 updated" in updated.stdout
    assert "doe2020fixture" not in (mini_project / "data" / "mini.ttl").read_text()
    graph = KnowledgeGraph(mini_project)
    graph.build()  # the facts citing src:fixture-paper still find it under its old IRI
    [entry] = [e for e in every_source(graph.store) if e.key == "doe2020fixture"]
    assert entry.reference.title == "A Fixture Paper, Revised"
    assert entry.reference.iri.endswith("/fixture-paper") and entry.supports


def test_records_that_break_the_shapes_write_nothing(mini_project, tmp_path):
    library = tmp_path / "bad.ris"
    library.write_text("TY  - JOUR\nID  - bad2020doi\nTI  - A Title\nAU  - Doe, Jane\n"
                       "PY  - 2020\nDO  - https://doi.org/10.5555/x\nER  - \n")
    result = Cli(mini_project)("import", "bib", str(library))
    assert result.exit_code == 1
    assert "bibo:doi is a bare DOI" in result.stdout + result.stderr
    assert not (mini_project / "data" / "sources-imported.ttl").exists()
    other = Cli(mini_project)("import", "bib", str(Path(library).with_suffix(".txt")))
    assert other.exit_code == 2


def test_a_file_with_no_entries_is_an_error_that_says_so(mini_project, tmp_path):
    library = tmp_path / "notes.bib"
    library.write_text("garbage\n")
    result = Cli(mini_project)("import", "bib", str(library))
    assert result.exit_code == 2 and "no entries in it" in result.stderr
    assert not (mini_project / "data" / "sources-imported.ttl").exists()
