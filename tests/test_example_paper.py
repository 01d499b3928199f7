"""The worked example paper of docs/paper/, built the way `make paper` builds it (the kg
commands of docs/paper/Makefile, run here in-process on the curated graph) and compiled
once per toolchain: pdfLaTeX + BibTeX (natbib), pdfLaTeX + biblatex + biber, XeLaTeX +
ctex + biber, and Pandoc --citeproc with CSL-JSON in APA and GB/T 7714. Each must give 0
errors, 0 BibTeX/biber warnings and no overfull box wider than 1 pt, read from the logs."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import bibtexparser
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.paper.cite import NOCASE, STYLES, STYLES_DIR
from tests.conftest import ROOT
from tests.latex import compile_latex, need

pytestmark = pytest.mark.latex
PAPER = ROOT / "docs" / "paper"


def make_commands(target: str) -> list[str]:
    """The `$(KG) ...` lines of a target of docs/paper/Makefile, variables expanded."""
    text = (PAPER / "Makefile").read_text(encoding="utf-8")
    variables = dict(re.findall(r"^(\w+)\s*:?=\s*((?:.*\\\n)*.*)$", text, re.M))
    body = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.M).group(1)
    lines = []
    for line in body.splitlines():
        line = line.strip()
        for _ in range(3):
            line = re.sub(r"\$\((\w+)\)", lambda m: " ".join(
                variables.get(m.group(1), m.group(0)).replace("\\\n", " ").split()), line)
        if line.startswith("$(KG) "):
            lines.append(line.removeprefix("$(KG) "))
    return lines


@pytest.fixture(scope="module")
def paper(curated, tmp_path_factory) -> Path:
    """docs/paper/ copied and its kg outputs made from the curated graph."""
    folder = tmp_path_factory.mktemp("paper") / "paper"
    shutil.copytree(PAPER, folder, ignore=shutil.ignore_patterns("generated", "render", "*.pdf"))
    (folder / "generated").mkdir()
    runner = CliRunner()
    here = Path.cwd()
    os.chdir(folder)
    try:
        for command in make_commands("inputs") + make_commands("bib"):
            args = shlex.split(command)
            out = None
            if ">" in args:
                args, out = args[:args.index(">")], args[args.index(">") + 1]
            result = runner.invoke(main, ["--project", str(ROOT), "--store",
                                          str(curated.project.store_dir), *args],
                                   catch_exceptions=False)
            assert result.exit_code == 0, (command, result.stderr)
            if out:
                Path(out).write_text(result.stdout, encoding="utf-8")
    finally:
        os.chdir(here)
    return folder


def test_the_paper_is_made_of_kg_outputs_only(paper):
    made = {p.name for p in (paper / "generated").iterdir()}
    assert {"backends.tex", "backends.md", "throughput.pdf", "throughput.png", "throughput.tex",
            "throughput.md", "path.tex", "path.md", "refs-bibtex.bib", "refs-biblatex.bib",
            "refs-zh.bib", "refs.json"} <= made
    # one bibliography per paper: every key once, exactly the keys the paper cites
    keys = set(re.findall(r"\\cite\{([^}]*)\}", "".join(
        (paper / f).read_text() for f in ("body.tex", "generated/backends.tex",
                                          "generated/throughput.tex", "generated/path.tex"))))
    cited = {k.strip() for group in keys for k in group.split(",")}
    bib = bibtexparser.parse_string((paper / "generated/refs-biblatex.bib").read_text())
    assert sorted(e.key for e in bib.entries) == sorted(cited)
    assert r"\href" not in (paper / "generated/backends.tex").read_text()  # no dead links


def test_the_papers_strict_check_passes(paper, curated):
    """`make paper` first runs docs/paper/Makefile's check target: each paper's citations
    against the graph, warnings failing too."""
    here = Path.cwd()
    os.chdir(paper)
    try:
        for command in make_commands("check"):
            result = CliRunner().invoke(main, ["--project", str(ROOT), "--store",
                                               str(curated.project.store_dir),
                                               *shlex.split(command)], catch_exceptions=False)
            assert result.exit_code == 0, (command, result.stdout[-2000:])
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def natbib(paper):
    need("pdflatex", "bibtex")
    return compile_latex(paper, "paper-natbib", engine="pdflatex", bib="bibtex")


@pytest.fixture(scope="module")
def biblatex(paper):
    need("pdflatex", "biber")
    return compile_latex(paper, "paper-biblatex", engine="pdflatex", bib="biber")


@pytest.fixture(scope="module")
def ctex(paper):
    need("xelatex", "biber")
    return compile_latex(paper, "paper-zh", engine="xelatex", bib="biber")


def test_pdflatex_bibtex_natbib(natbib, paper):
    natbib.assert_clean()
    bbl = " ".join((paper / "paper-natbib.bbl").read_text().split())
    assert r"\bibitem[{Temporal Technologies}(n.d.{\natexlab{a}})]" in bbl  # undated: n.d.
    assert "Accessed 2026-" in bbl and r"\url{https://docs.temporal.io/" in bbl


def test_pdflatex_biblatex_biber(biblatex, paper):
    biblatex.assert_clean()
    assert (paper / "paper-biblatex.bbl").read_text().count(r"\entry{") == len(
        bibtexparser.parse_string((paper / "generated/refs-biblatex.bib").read_text()).entries)


def test_xelatex_ctex_chinese_paragraph(ctex, paper):
    ctex.assert_clean()
    text = subprocess.run(["pdftotext", str(ctex.pdf), "-"], capture_output=True,
                          text=True).stdout if shutil.which("pdftotext") else ""
    if text:
        assert "中文摘要" in text and "持久化数据库" in text


@pytest.mark.parametrize("style", ["apa", "gb7714"])
def test_pandoc_citeproc(paper, style):
    need("pandoc")
    parts = re.search(r"^PANDOC_PARTS := ((?:.*\\\n)*.*)$", (paper / "Makefile").read_text(),
                      re.M).group(1).replace("\\\n", " ").replace("$(GEN)", "generated").split()
    result = subprocess.run(
        ["pandoc", "--citeproc", "--bibliography", "generated/refs.json", "--csl",
         str(STYLES_DIR / STYLES[style]), *parts, "-t", "plain", "--wrap", "none"],
        cwd=paper, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr and "[WARNING]" not in result.stdout, result.stderr
    assert "???" not in result.stdout and "@" not in result.stdout.split("References")[0]
    items = json.loads((paper / "generated/refs.json").read_text())
    for item in items:  # every cited source is in the reference list, its title as it is
        title = item["title"].removeprefix(NOCASE[0]).removesuffix(NOCASE[1])
        assert title.split(":")[0][:30] in result.stdout, item["id"]
    if style == "gb7714":
        assert "[1]" in result.stdout and "[EB/OL]" in result.stdout
