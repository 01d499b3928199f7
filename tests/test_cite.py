"""`kg cite`: BibTeX, CSL-JSON, RIS and formatted lists of exactly the sources behind an
entity or an answer, supporting or disputing; the dataset's own entry."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import bibtexparser
import pytest
import rispy

from kg import KnowledgeGraph
from kg.paper.cite import STYLES, STYLES_DIR, formatted
from tests.conftest import FIXTURES, Cli, make_project
from tests.latex import compile_latex, need

FIXED = ["kim2023checking", "lee2021durable", "wang2022book"]

# Written by hand from the styles' rules, not produced by the code under test. APA 7th
# edition: a conference paper without editors is a serial source (APA 9.25, as apa.csl
# documents), so no "In" and no publisher. GB/T 7714-2015 numeric: upper-case family
# names, initials without points, [J]/[C]/[M] with /OL when read online (here: a DOI).
APA = [
    "Kim, J., & Choi, S. (2023). Checking Workflows with Fixtures. Proceedings of the "
    "Fixture Conference, 100–112. https://doi.org/10.5555/fixture.3",
    "Lee, A., & Park, M. (2021). Durable Execution in Practice. Journal of Fixture Systems, "
    "12(3), 45–67. https://doi.org/10.5555/fixture.2",
    "王小明. (2022). 工作流引擎的形式化验证. 示例出版社. https://doi.org/10.5555/fixture.4",
]
GB7714 = [
    "[1] KIM J, CHOI S. Checking Workflows with Fixtures[C/OL]//Proceedings of the Fixture "
    "Conference. Fixture Press, 2023: 100-112. DOI:10.5555/fixture.3.",
    "[2] LEE A, PARK M. Durable Execution in Practice[J/OL]. Journal of Fixture Systems, "
    "2021, 12(3): 45-67. DOI:10.5555/fixture.2.",
    "[3] 王小明. 工作流引擎的形式化验证[M/OL]. 示例出版社, 2022. DOI:10.5555/fixture.4.",
]


@pytest.fixture(scope="module")
def cite_graph(evidence_project) -> KnowledgeGraph:
    return KnowledgeGraph(evidence_project)


def _fixed_entries(graph):
    return [e for e in graph.citations(["wfr:prop-fast", "wfr:engine-b"]) if e.key in FIXED]


def test_apa_list_matches_the_hand_written_text(cite_graph):
    assert formatted(_fixed_entries(cite_graph), style="apa") == APA


def test_gb7714_list_matches_the_hand_written_text(cite_graph):
    assert formatted(_fixed_entries(cite_graph), style="gb7714") == GB7714


def test_pandoc_citeproc_renders_the_same_gb7714_list_from_our_csl_json(cite_graph, tmp_path):
    """A second CSL implementation (Pandoc's citeproc) reads the exported CSL-JSON with the
    vendored style and gives the same hand-written text."""
    (tmp_path / "refs.json").write_text(
        cite_graph.cite(["wfr:prop-fast", "wfr:engine-b"], fmt="csl-json"))
    (tmp_path / "paper.md").write_text("[@kim2023checking; @lee2021durable; @wang2022book]\n")
    style = STYLES_DIR / STYLES["gb7714"]
    result = subprocess.run(["pandoc", "--citeproc", "--bibliography", "refs.json", "--csl",
                             str(style), "paper.md", "-t", "plain", "--wrap", "none"],
                            cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "WARNING" not in result.stderr, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("[")] == GB7714


def test_ieee_numbers_in_citation_order(cite_graph):
    lines = formatted(_fixed_entries(cite_graph), style="ieee")
    assert [line.split(" ", 1)[0] for line in lines] == ["[1]", "[2]", "[3]"]
    assert lines[1].startswith("[2] A. Lee and M. Park, “Durable Execution in Practice”")


def test_bibtex_parses_round_trips_keys_and_keeps_fields(evidence_project):
    result = Cli(evidence_project)("cite", "wfr:engine-b", "wfr:prop-fast")
    assert result.exit_code == 0, result.stderr
    library = bibtexparser.parse_string(result.stdout)
    assert not library.failed_blocks
    entries = {e.key: e for e in library.entries}
    assert set(entries) == {"fixture-blog", "fixture-sdk", "lee2021durable", "kim2023checking",
                            "wang2022book"}
    assert all("url" in e.fields_dict or "doi" in e.fields_dict for e in entries.values())
    types = {k: e.entry_type for k, e in entries.items()}
    assert types == {"fixture-blog": "online", "fixture-sdk": "software",
                     "lee2021durable": "article", "kim2023checking": "inproceedings",
                     "wang2022book": "book"}
    lee = entries["lee2021durable"]
    assert (lee["journal"], lee["volume"], lee["number"], lee["pages"]) == (
        "Journal of Fixture Systems", "12", "3", "45--67")
    assert entries["wang2022book"]["title"] == "{工作流引擎的形式化验证}"
    blog = entries["fixture-blog"]
    assert blog["url"] == "https://example.org/blog/engine-b_db-x?a=1&b=2"  # verbatim
    assert blog["title"] == r"{Why Engine B dropped DB X: 100\% of the story}"
    assert blog["urldate"] == "2026-11-28"
    assert blog["keywords"] == "cito:disputes"
    assert lee["keywords"] == "cito:citesAsEvidence"
    assert "1 of them disputing" in result.stderr


def test_an_answer_cites_only_the_facts_of_its_rows(evidence_project):
    cli = Cli(evidence_project)
    answer = json.loads(cli("cite", "--query", "engine-backends", "--param",
                            "engine=wfr:engine-b", "--format", "csl-json").stdout)
    # engine-b's backends: DB Y is unverified (no source), DB X is contradicted by the blog;
    # the sources of engine-b's mechanism and SDK are not part of this answer
    assert {item["id"]: item["keyword"] for item in answer} == {"fixture-blog": "cito:disputes"}
    sdks = json.loads(cli("cite", "--query", "sdk-matrix", "--param", "engine=wfr:engine-b",
                          "--format", "csl-json").stdout)
    assert [item["id"] for item in sdks] == ["fixture-sdk"]


def test_unknown_resource_is_an_error_with_suggestions(evidence_project):
    result = Cli(evidence_project)("cite", "wfr:engine-bb")
    assert result.exit_code == 2
    assert "unknown resource wfr:engine-bb" in result.stderr
    assert "did you mean wfr:engine-b" in result.stderr


def _pdf_text(pdf: Path | None) -> str:
    assert pdf is not None
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return " ".join(text.split())


@pytest.mark.latex
def test_classic_bibtex_month_is_spelt_out_by_plainnat(cite_graph, tmp_path):
    """A braced month (`month = {mar}`) is printed as it is; BibTeX expands its month
    macros only unbraced, and natbib's plainnat then writes the month's name."""
    need("pdflatex", "bibtex", "pdftotext")
    (tmp_path / "refs.bib").write_text(cite_graph.cite(["wfr:engine-b"], fmt="bibtex"))
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{natbib}\n\\usepackage{url}\n"
        "\\begin{document}\n\\nocite{*}\n\\bibliographystyle{plainnat}\n"
        "\\bibliography{refs}\n\\end{document}\n")
    verdict = compile_latex(tmp_path, "paper", bib="bibtex")
    verdict.assert_clean()
    text = _pdf_text(verdict.pdf)
    assert "Why Engine B dropped DB X" in text  # fixture-blog, issued 2025-03-14
    assert "March 2025" in text and "mar 2025" not in text


@pytest.mark.latex
@pytest.mark.parametrize(("dialect", "tool", "preamble", "back"), [
    ("biblatex", "biber", "\\usepackage[backend=biber]{biblatex}\n\\addbibresource{refs.bib}\n",
     "\\printbibliography\n"),
    ("bibtex", "bibtex", "\\usepackage{natbib}\n\\usepackage{url}\n",
     "\\bibliographystyle{plainnat}\n\\bibliography{refs}\n")])
def test_the_dataset_hash_breaks_across_lines(cite_graph, tmp_path, dialect, tool, preamble,
                                              back):
    """A sha256 hash in \\path{} cannot break (url.sty breaks at punctuation only) and ran
    off the page; it is printed in full, with breaks allowed, and kept whole in CSL-JSON
    and RIS."""
    need("pdflatex", tool)
    (tmp_path / "refs.bib").write_text(cite_graph.cite(dataset=True, fmt=dialect))
    (tmp_path / "paper.tex").write_text("\\documentclass{article}\n" + preamble
                                        + "\\begin{document}\n\\nocite{*}\n" + back
                                        + "\\end{document}\n")
    verdict = compile_latex(tmp_path, "paper", bib=tool)
    verdict.assert_clean()  # no overfull box wider than 1 pt
    input_hash = cite_graph.dataset().input_hash
    if shutil.which("pdftotext"):
        assert input_hash.removeprefix("sha256:") in _pdf_text(verdict.pdf).replace(" ", "")
    assert input_hash in cite_graph.cite(dataset=True, fmt="csl-json")
    assert input_hash in cite_graph.cite(dataset=True, fmt="ris")


def test_ris_and_csl_types(evidence_project):
    cli = Cli(evidence_project)
    records = {r["id"]: r for r in rispy.loads(cli("cite", "wfr:engine-b", "wfr:prop-fast",
                                                   "--format", "ris").stdout)}
    assert records["lee2021durable"]["type_of_reference"] == "JOUR"
    assert records["lee2021durable"]["authors"] == ["Lee, Ann", "Park, Min"]
    assert records["fixture-sdk"]["type_of_reference"] == "COMP"
    items = {i["id"]: i for i in json.loads(
        cli("cite", "wfr:prop-fast", "--format", "csl-json").stdout)}
    assert items["wang2022book"]["author"] == [{"literal": "王小明"}]
    assert items["kim2023checking"]["type"] == "paper-conference"
    assert items["kim2023checking"]["page"] == "100-112"


def _cite_in_process(project, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "kg.cli", "--project", str(project), "cite",
                           *args], check=True, capture_output=True, text=True).stdout


def test_keys_are_identical_across_builds_and_processes(tmp_path):
    project = make_project(tmp_path, FIXTURES / "mini.ttl", FIXTURES / "cite.ttl")
    KnowledgeGraph(project).build()
    first = _cite_in_process(project, "wfr:engine-b", "--dataset")
    KnowledgeGraph(project).build(force=True)
    second = _cite_in_process(project, "wfr:engine-b", "--dataset")
    keys = [[e.key for e in bibtexparser.parse_string(text).entries] for text in (first, second)]
    assert keys[0] == keys[1] and len(keys[0]) == 4
    assert keys[0][0].startswith("workflow-kg-")
    assert first == second  # the same entries, the dataset's too: no build time in them


def test_dataset_entry_names_version_hash_and_url(cite_graph):
    record = cite_graph.dataset()
    info = cite_graph.store.info
    assert record.input_hash == f"sha256:{info['input_hash']}"
    [entry] = bibtexparser.parse_string(cite_graph.cite(dataset=True)).entries
    assert entry.key == f"workflow-kg-{record.version}-{info['input_hash'][:12]}"
    # the dataset IRI is not registered with a resolver: no url, the note says so
    assert "url" not in entry.fields_dict
    assert r"\path{https://w3id.org/workflow-kg/dataset} (not registered" in entry["note"]
    assert info["input_hash"] in re.sub(r"\\allowbreak\{\}", "", entry["note"])
    assert entry["version"] == record.version


@pytest.fixture(scope="module")
def api(cite_graph):
    from fastapi.testclient import TestClient

    from kg.query.guard import Policy
    from kg_api import create_app

    with TestClient(create_app(cite_graph, policy=Policy(time_limit=5), workers=1)) as client:
        yield client


def test_api_cite_marks_supporting_and_disputing(api):
    body = api.get("/api/cite", params={"iri": "wfr:engine-b"}).json()
    relations = {e["key"]: e["relations"] for e in body["entries"]}
    assert relations == {"fixture-blog": ["cito:disputes"],
                         "fixture-sdk": ["cito:citesAsEvidence"],
                         "lee2021durable": ["cito:citesAsEvidence"]}
    [blog] = [e for e in body["entries"] if e["key"] == "fixture-blog"]
    assert blog["disputes"][0].startswith("wfr:statement/") and blog["supports"] == []
    bib = api.get("/api/cite", params={"query": "engine-backends", "param": "engine=wfr:engine-b",
                                       "format": "bibtex"})
    assert bib.headers["content-type"].startswith("application/x-bibtex")
    assert [e.key for e in bibtexparser.parse_string(bib.text).entries] == ["fixture-blog"]
    text = api.get("/api/cite", params={"iri": ["wfr:prop-fast", "wfr:engine-b"],
                                        "format": "text", "style": "gb7714"}).text
    assert any(line.endswith(GB7714[1].removeprefix("[2] ")) for line in text.splitlines())
    assert "Disputing (cito:disputes)" in text and "  fixture-blog: wfr:statement/" in text


def test_api_cite_errors_are_4xx_with_a_message(api):
    unknown = api.get("/api/cite", params={"iri": "wfr:engine-bb"})
    assert unknown.status_code == 404 and "did you mean wfr:engine-b" in unknown.json()["message"]
    assert api.get("/api/cite").status_code == 400
    bad_style = api.get("/api/cite", params={"iri": "wfr:engine-b", "format": "text",
                                             "style": "mla"})
    assert bad_style.status_code == 400 and "unknown style" in bad_style.json()["message"]
