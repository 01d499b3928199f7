"""Every source of the curated graph, in both BibTeX dialects, compiled for real under
\\nocite{*}: classic BibTeX and biber must report no warning and LaTeX no error, whatever
characters a field holds; and every paper table of the curated graph, notes included, in
the same document, fitting the text width of a plain article. XeLaTeX with ctex, because
some sources and the plan's own words are Chinese."""

from __future__ import annotations

import bibtexparser
import pytest

from kg.paper.cite import every_source, render
from kg.paper.report import TABLES, build_table, render_table
from tests.latex import compile_latex, need

pytestmark = pytest.mark.latex

CLASSIC = r"""\documentclass{ctexart}
\usepackage{xurl}
\usepackage[numbers]{natbib}
\def\bibfont{\raggedright}
\begin{document}
\nocite{*}
\bibliographystyle{%s}
\bibliography{all}
\end{document}
"""
BIBLATEX = r"""\documentclass{ctexart}
\usepackage[backend=biber,style=numeric]{biblatex}
\usepackage{booktabs,array,longtable}
\usepackage{xurl}
\addbibresource{all.bib}
\renewcommand*{\bibfont}{\raggedright}
\setlength{\emergencystretch}{3em}
\begin{document}
%s
\nocite{*}
\printbibliography
\end{document}
"""


@pytest.fixture(scope="module")
def sources(curated):
    return every_source(curated.store)


@pytest.mark.parametrize("dialect", ["bibtex", "biblatex"])
def test_every_source_parses_in_both_dialects(sources, dialect):
    library = bibtexparser.parse_string(render(sources, dialect))
    assert not library.failed_blocks
    assert len(library.entries) == len(sources) >= 250
    types = {e.entry_type for e in library.entries}
    if dialect == "bibtex":  # only the standard types classic styles define
        assert types <= {"article", "book", "inproceedings", "incollection", "phdthesis",
                         "techreport", "misc", "mastersthesis"}, types
        assert all("year" in e.fields_dict for e in library.entries)
    else:
        assert {"online", "software"} <= types


@pytest.mark.parametrize("style", ["plain"])
def test_classic_bibtex_compiles_every_source(sources, tmp_path, style):
    need("xelatex", "bibtex")
    (tmp_path / "all.bib").write_text(render(sources, "bibtex"), encoding="utf-8")
    (tmp_path / "all.tex").write_text(CLASSIC % style, encoding="utf-8")
    verdict = compile_latex(tmp_path, "all", engine="xelatex", bib="bibtex")
    verdict.assert_clean()
    bbl = (tmp_path / "all.bbl").read_text(encoding="utf-8")
    assert bbl.count(r"\bibitem") == len(sources)


def test_biber_compiles_every_source_and_every_table(curated, sources, tmp_path):
    need("xelatex", "biber")
    (tmp_path / "all.bib").write_text(render(sources, "biblatex"), encoding="utf-8")
    inputs = []
    for name in TABLES:
        table = build_table(curated, name)
        assert table.rows, name
        (tmp_path / f"{name}.tex").write_text(render_table(table, "latex"), encoding="utf-8")
        inputs.append(rf"\input{{{name}}}\clearpage")
    (tmp_path / "all.tex").write_text(BIBLATEX % "\n".join(inputs), encoding="utf-8")
    verdict = compile_latex(tmp_path, "all", engine="xelatex", bib="biber")
    verdict.assert_clean()
    bbl = (tmp_path / "all.bbl").read_text(encoding="utf-8")
    assert bbl.count(r"\entry{") == len(sources)
