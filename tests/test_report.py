"""`kg report table`: comparison tables whose cells carry their evidence, checked in
their real clients (Pandoc with --citeproc, pdfLaTeX with BibTeX)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from html.parser import HTMLParser

import bibtexparser
import pytest

from kg import KnowledgeGraph
from kg.paper import cite
from kg.paper.report import build_table, render_table
from tests.conftest import Cli
from tests.latex import compile_latex, need


@pytest.fixture(scope="module")
def graph(evidence_project) -> KnowledgeGraph:
    return KnowledgeGraph(evidence_project)


def test_cells_carry_the_evidence_of_their_own_fact(graph):
    table = build_table(graph, "engine-backends")
    backends = {(row[0].text, row[1].text): row[1] for row in table.rows}
    # mini.ttl + cite.ttl, read by hand: A-X verified by the docs; A-Y contradicted by
    # the docs; B-X contradicted by the blog; B-Y asserted by the plan without a source
    assert {pair: (c.status, c.keys) for pair, c in backends.items()} == {
        ("Engine A", "DB X"): ("verified", ("fixture-doc",)),
        ("Engine A", "DB Y"): ("contradicted", ("fixture-doc",)),
        ("Engine B", "DB X"): ("contradicted", ("fixture-blog",)),
        ("Engine B", "DB Y"): ("unverified", ()),
    }
    assert all(row[0].status is None for row in table.rows)  # a name is not a claim
    assert [e.key for e in table.entries] == ["fixture-blog", "fixture-doc"]


def test_sdk_cells_cite_the_sdk_statements(graph):
    table = build_table(graph, "sdks")
    rows = {row[0].text: row for row in table.rows}
    assert rows["Engine A Go SDK"][1].keys == ("fixture-doc",)  # sdkFor
    assert rows["Engine A Go SDK"][3].text == "generally available"
    assert rows["Engine A Go SDK"][3].keys == ("fixture-doc",)  # maturity statement
    assert rows["Engine B Python SDK"][1].keys == ("fixture-sdk",)


def test_unknown_table_lists_the_tables(evidence_project):
    result = Cli(evidence_project)("report", "table", "backends")
    assert result.exit_code == 2 and "engine-backends" in result.stderr
    listed = Cli(evidence_project)("report", "table", "--list").stdout
    assert {line.split()[0] for line in listed.splitlines()} == {
        "engine-backends", "sdks", "verification", "cases", "plan-claims"}


def test_an_output_suffix_that_names_no_format_writes_nothing(evidence_project, tmp_path):
    out = tmp_path / "backends.docx"
    result = Cli(evidence_project)("report", "table", "engine-backends", "-o", str(out))
    assert result.exit_code == 2 and "cannot tell a table's format from .docx" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_table_goes_into_a_folder_not_made_yet(evidence_project, tmp_path):
    out = tmp_path / "tables" / "backends.tex"
    result = Cli(evidence_project)("report", "table", "engine-backends", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("%") and out.with_suffix(".bib").exists()


def test_long_names_break_at_their_case_changes_and_lists_after_a_slash():
    from kg.paper.report import _break_points, _words

    assert _break_points("MongoRaftReconfig and MySQL/PostgreSQL, OpenSearch") == (
        r"Mongo\allowbreak{}Raft\allowbreak{}Reconfig and MySQL/\allowbreak{}PostgreSQL, "
        "OpenSearch")  # a short name stays whole: TeX would set it in two lines otherwise
    assert _words("pyModelChecking not machine-checked") == [
        "py", "Model", "Checking", "not", "machine-", "checked"]


def test_markdown_table_renders_with_pandoc_citeproc(evidence_project, tmp_path):
    out = tmp_path / "backends.md"
    result = Cli(evidence_project)("report", "table", "engine-backends", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "DB Y [@fixture-doc]✗" in text and "DB Y†" in text and "† unverified" in text
    bib = bibtexparser.parse_string((tmp_path / "backends.bib").read_text())
    assert {e.key for e in bib.entries} == {"fixture-blog", "fixture-doc"}
    pandoc = subprocess.run(["pandoc", "--citeproc", "--bibliography",
                             str(tmp_path / "backends.bib"), str(out), "-t", "html"],
                            capture_output=True, text=True, check=True)
    assert "WARNING" not in pandoc.stderr, pandoc.stderr
    words = " ".join(re.sub(r"<[^>]+>", "", pandoc.stdout).split())
    assert "DB X (Fixture Blog 2025)✗" in words  # the citation resolved by citeproc
    assert "Why Engine B dropped DB X: 100% of the story" in words


@pytest.mark.latex
def test_latex_table_compiles_with_bibtex_and_no_undefined_citation(evidence_project, tmp_path):
    need("pdflatex", "bibtex")
    result = Cli(evidence_project)("report", "table", "engine-backends", "-o",
                                   str(tmp_path / "backends.tex"), "--bib-format", "bibtex")
    assert result.exit_code == 0, result.stderr
    table = (tmp_path / "backends.tex").read_text()
    assert r"\toprule" in table and r" \cite{fixture-blog}$^{\times}$" in table
    assert r"\href" not in table  # no link without --link-base
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs,array}\n\\usepackage{url}\n"
        "\\usepackage{hyperref}\n\\begin{document}\n\\input{backends.tex}\n"
        "\\bibliographystyle{plain}\n\\bibliography{backends}\n\\end{document}\n")
    compile_latex(tmp_path, "paper", engine="pdflatex", bib="bibtex").assert_clean()
    assert "\\bibitem{fixture-blog}" in (tmp_path / "paper.bbl").read_text()
    linked = Cli(evidence_project)("report", "table", "engine-backends", "--format", "latex",
                                   "--link-base", "http://127.0.0.1:8000", "--no-notes")
    assert r"\href{http://127.0.0.1:8000/resource/statement/" in linked.stdout
    assert "Trade-offs" not in linked.stdout


def test_csv_and_html_keep_marks_and_escape(graph):
    table = build_table(graph, "engine-backends")
    rows = list(csv.reader(io.StringIO(render_table(table, "csv"))))
    assert rows[0][:2] == ["Engine", "Backend"]
    assert rows[3][:2] == ["Engine B", "DB X✗ [fixture-blog]"]
    html = render_table(table, "html")

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cites: list[str] = []
            self.sups: list[str] = []
            self.tag = ""

        def handle_starttag(self, tag, attrs):
            self.tag = tag

        def handle_data(self, data):
            if self.tag == "cite":
                self.cites.append(data)
            elif self.tag == "sup":
                self.sups.append(data)
            self.tag = ""

    parsed = Cells()
    parsed.feed(html)
    assert parsed.cites.count("[fixture-doc]") == 2 and parsed.sups == ["✗", "✗", "†"]


def test_plan_claims_table_shows_claims_with_their_status(graph):
    table = build_table(graph, "plan-claims")
    claims = {row[0].text: (row[0].status, row[2].text) for row in table.rows}
    assert claims["Engine B supports backend DB X"] == (
        "contradicted", "The blog says Engine B dropped DB X.")
    assert claims["Engine B supports backend DB Y"][0] == "unverified"


@pytest.mark.latex
def test_latex_columns_follow_their_content(curated, tmp_path):
    """The curated engine-backends table (36 rows, a prose column): each column's least
    width was its longest word and those added up to the whole line, so the notes ran in
    a column of a fifth of it, a few words a line, over 15 pages (now 4)."""
    need("pdflatex", "bibtex")
    table = build_table(curated, "engine-backends")
    assert len(table.rows) >= 30
    (tmp_path / "backends.tex").write_text(render_table(table, "latex"))
    (tmp_path / "backends.bib").write_text(cite.render(table.entries, "bibtex"))
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\n\\usepackage{booktabs,longtable,array}\n"
        "\\usepackage{url}\n\\begin{document}\n\\input{backends.tex}\\label{table-end}\n"
        "\\bibliographystyle{plain}\n\\bibliography{backends}\n\\end{document}\n")
    verdict = compile_latex(tmp_path, "paper", engine="pdflatex", bib="bibtex")
    verdict.assert_clean()  # no overfull box wider than 1 pt, in the table or elsewhere
    aux = (tmp_path / "paper.aux").read_text()
    table_pages = int(re.search(r"\\newlabel\{table-end\}\{\{[^}]*\}\{(\d+)\}", aux).group(1))
    assert table_pages <= 5, table_pages
