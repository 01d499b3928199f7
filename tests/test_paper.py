"""`kg paper bib` (one bibliography with exactly a paper's keys) and `kg paper check`
(a paper's citations against the evidence), on the fixture graph (mini.ttl + cite.ttl)."""

from __future__ import annotations

import json

import bibtexparser
import pytest
from click.testing import CliRunner

from kg.cli import main
from kg.paper.manuscript import citations
from tests.conftest import Cli

LATEX = r"""\documentclass{article}
\begin{document}
Durable execution is common~\citep[p.~3]{lee2021durable}. % \cite{wang2022book} is a comment
\input{part}
\nocite{fixture-sdk}
\end{document}
"""
PART = r"""As \textcite{kim2023checking, fixture-doc} show, checking works.
\cites[see][]{lee2021durable}{fixture-blog}
"""
MARKDOWN = """---
title: A fixture paper
---
Engines keep histories [@lee2021durable; @fixture-sdk, p. 4]. Mail me at a@b.com.
@kim2023checking say so too.

```
[@wang2022book] in a code block is not a citation
```
"""


@pytest.fixture
def paper(tmp_path):
    (tmp_path / "paper.tex").write_text(LATEX)
    (tmp_path / "part.tex").write_text(PART)
    (tmp_path / "paper.md").write_text(MARKDOWN)
    return tmp_path


def test_keys_of_latex_with_inputs_and_comments(paper):
    found = citations(paper / "paper.tex")
    assert [c.key for c in found] == ["lee2021durable", "fixture-sdk", "kim2023checking",
                                      "fixture-doc", "lee2021durable", "fixture-blog"]
    kim = next(c for c in found if c.key == "kim2023checking")
    assert (kim.file, kim.line) == ("part.tex", 1)
    assert kim.sentence.startswith(r"As \textcite{kim2023checking, fixture-doc} show")


def test_paper_bib_writes_exactly_the_papers_keys(evidence_project, paper):
    cli = Cli(evidence_project)
    out = paper / "refs.bib"
    result = cli("paper", "bib", str(paper / "paper.tex"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    library = bibtexparser.parse_string(out.read_text())
    assert sorted(e.key for e in library.entries) == [
        "fixture-blog", "fixture-doc", "fixture-sdk", "kim2023checking", "lee2021durable"]
    # one entry per source, its relations merged from every fact the graph records
    assert {e.key: e["keywords"] for e in library.entries}["fixture-doc"] == \
        "cito:citesAsEvidence, cito:disputes"
    classic = cli("paper", "bib", str(paper / "paper.tex"), "--format", "bibtex")
    assert {e.entry_type for e in bibtexparser.parse_string(classic.stdout).entries} <= {
        "article", "inproceedings", "misc", "book"}
    md = cli("paper", "bib", str(paper / "paper.md"), "-o", str(paper / "refs.json"))
    assert md.exit_code == 0, md.stderr
    items = json.loads((paper / "refs.json").read_text())
    assert sorted(i["id"] for i in items) == ["fixture-sdk", "kim2023checking", "lee2021durable"]


def test_paper_bib_unknown_key_is_an_error_with_suggestions(evidence_project, tmp_path):
    (tmp_path / "bad.md").write_text("As shown [@lee2021durabel].\n")
    result = Cli(evidence_project)("paper", "bib", str(tmp_path / "bad.md"))
    assert result.exit_code == 2
    assert "lee2021durabel (did you mean lee2021durable?)" in result.stderr


def test_paper_bib_of_a_paper_that_cites_nothing_says_so(evidence_project, tmp_path):
    (tmp_path / "draft.md").write_text("No citation yet.\n")
    result = Cli(evidence_project)("paper", "bib", str(tmp_path / "draft.md"))
    assert result.exit_code == 0 and result.stdout == ""
    assert "cites no key" in result.stderr and "the bibliography is empty" in result.stderr


def _check(project, tmp_path, text: str, *extra: str):
    (tmp_path / "p.md").write_text(text)
    return Cli(project)("paper", "check", str(tmp_path / "p.md"), "--format", "json", *extra)


def test_check_flags_a_sentence_that_cites_a_contradicted_claim(evidence_project, tmp_path):
    # cite.ttl: Engine B supports DB X is Contradicted, wf:contradictedBy fixture-blog
    result = _check(evidence_project, tmp_path, "Engine B supports DB X [@fixture-blog].\n")
    assert result.exit_code == 0  # warnings alone do not fail without --strict
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["line"] == 1 and finding["known"]
    text = " ".join(finding["warnings"])
    assert "fixture-blog is recorded as contradicting" in text
    assert "names Engine B and DB X" in text and "contradicted" in text
    assert {s["status"] for s in finding["statements"]} == {"contradicted"}
    strict = _check(evidence_project, tmp_path, "Engine B supports DB X [@fixture-blog].\n",
                    "--strict")
    assert strict.exit_code == 1


def test_check_passes_a_clean_paper_and_a_sentence_that_says_so(evidence_project, tmp_path):
    clean = _check(evidence_project, tmp_path,
                   "Engine A supports DB X [@fixture-doc]. Engine B dropped DB X; it does "
                   "not support it [@fixture-blog].\n", "--strict")
    assert clean.exit_code == 0, clean.stdout
    report = json.loads(clean.stdout)
    assert report["errors"] == 0 and report["warnings"] == 0
    first, second = report["findings"]
    assert first["warnings"] == [] and first["notes"] == []
    assert "the sentence marks the contradiction" in " ".join(second["notes"])


def test_check_reports_unknown_keys_as_errors(evidence_project, tmp_path):
    result = _check(evidence_project, tmp_path, "Engines [@no-such-key; @fixture-dok].\n")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 2
    assert "fixture-doc" in report["findings"][1]["suggestions"]
    text = Cli(evidence_project)("paper", "check", str(tmp_path / "p.md"))
    assert "p.md:1: error: fixture-dok is not a citation key of the graph (did you mean " \
           in text.stdout and "p.md:1: error: no-such-key" in text.stdout


def test_check_needs_a_paper_it_can_read(evidence_project, tmp_path):
    (tmp_path / "paper.docx").write_text("x")
    result = Cli(evidence_project)("paper", "check", str(tmp_path / "paper.docx"))
    assert result.exit_code == 2 and ".tex (LaTeX) or .md (Pandoc Markdown)" in result.stderr
    (tmp_path / "main.tex").write_text("\\input{missing}\n")
    missing = Cli(evidence_project)("paper", "check", str(tmp_path / "main.tex"))
    assert missing.exit_code == 2 and "main.tex:1: \\input file missing not found" in \
        missing.stderr


def test_a_statement_is_named_with_its_backend_role(curated):
    """Temporal's SQLite support is two statements, one per role: a paper check names
    each with its role rather than listing the same words twice."""
    from kg.evidence.catalogue import labels

    facts = curated.sparql("""
        SELECT ?fact WHERE { ?fact rdf:subject wfr:temporal ; rdf:predicate wf:supportsBackend ;
                                   rdf:object wfr:sqlite }""").values("fact")
    assert len(facts) == 2
    assert sorted(labels(curated.store, set(facts)).values()) == [
        "Temporal supports backend SQLite (persistence)",
        "Temporal supports backend SQLite (visibility)"]


def test_a_claim_marked_unverified_may_cite_evidence_of_unverified_facts(curated, tmp_path):
    """supabase-docs-timescaledb is evidence only for the Unverified 'Temporal supports
    backend TimescaleDB': a sentence citing it for that claim is warned about unless it
    marks the claim unverified (in words or with the dagger `kg report table` puts on
    such a row)."""
    runner = CliRunner()

    def check(text: str) -> dict:
        (tmp_path / "p.md").write_text(text)
        result = runner.invoke(main, ["--project", str(curated.project.root), "--store",
                                      str(curated.project.store_dir), "paper", "check",
                                      str(tmp_path / "p.md"), "--format", "json"],
                               catch_exceptions=False)
        [finding] = json.loads(result.stdout)["findings"]
        return finding

    plain = check("Temporal runs on TimescaleDB [@supabase-docs-timescaledb].\n")
    assert any("unverified or contradicted" in w for w in plain["warnings"])
    for marked in ("Temporal may run on TimescaleDB, unverified [@supabase-docs-timescaledb].\n",
                   "| Temporal | TimescaleDB [@supabase-docs-timescaledb]† |\n"):
        finding = check(marked)
        assert finding["warnings"] == [], marked
        assert "the sentence marks the claim unverified" in " ".join(finding["notes"])
