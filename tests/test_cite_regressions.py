"""Regression tests on the curated graph, one per export bug: special characters in
fields, an answer citing more than its rows, "and others" as a name, an uncitable path,
titles title-cased by CSL processors."""

from __future__ import annotations

import json
import subprocess

import bibtexparser
from click.testing import CliRunner

from kg.cli import main
from kg.paper.cite import every_source, formatted, render
from tests.conftest import ROOT
from tests.latex import need


def test_dollar_in_a_title_is_escaped_in_both_dialects(curated):
    [entry] = [e for e in every_source(curated.store) if e.key == "astronomer-robinhood-airflow"]
    assert "$160BN" in entry.reference.title
    for dialect in ("biblatex", "bibtex"):
        [parsed] = bibtexparser.parse_string(render([entry], dialect)).entries
        assert r"\$160BN" in parsed["title"] and "$160BN" not in parsed["title"].replace(
            r"\$", "")


def test_an_answer_cites_exactly_the_sources_of_its_rows(curated):
    for query, params in (("plan-claims", {}), ("engine-backends", {"engine": "wfr:temporal"})):
        rows = curated.query(query, params).rows()
        named = {k for r in rows if "sources" in r for k in r["sources"].value.split()}
        cited = {e.key for e in curated.citations(query=query, params=params)}
        assert cited == named, (query, cited ^ named)


def test_and_others_is_et_al_not_an_author(curated):
    [entry] = [e for e in every_source(curated.store) if e.key == "schultz2022formal"]
    [line] = formatted([entry], style="gb7714")
    assert line.startswith("[1] SCHULTZ W et al. Formal Verification") and "OTHERS" not in line
    [parsed] = bibtexparser.parse_string(render([entry], "bibtex")).entries
    assert parsed["author"] == "Schultz, William and others"


def test_a_path_is_citable_step_by_step(curated):
    def cli(*args: str):
        return CliRunner().invoke(main, ["--project", str(ROOT), "--store",
                                         str(curated.project.store_dir), *args],
                                  catch_exceptions=False)

    steps = json.loads(cli("path", "wfr:tla-plus", "wfr:payment-atomicity", "--limit", "1",
                           "--format", "json").stdout)
    [path] = steps
    facts = [s["fact"] for s in path["steps"]]
    assert facts and all(f and f.startswith("https://w3id.org/workflow-kg/resource/")
                         for f in facts)
    keys = {k for s in path["steps"] for k in s["keys"]}
    cited = cli("cite", "--path", "wfr:tla-plus", "wfr:payment-atomicity", "--format",
                "csl-json")
    assert cited.exit_code == 0, cited.stderr
    assert {i["id"] for i in json.loads(cited.stdout)} == keys
    latex = cli("path", "wfr:tla-plus", "wfr:payment-atomicity", "--limit", "1",
                "--format", "latex").stdout
    assert r"\cite{" + ",".join(sorted(keys)) + "}" in latex


# The sources' own titles, as the data holds them (Chicago, Pandoc's default style,
# title-cased them: "Temporalio/Helm-Charts", "Timescaledb: Time-Series Data").
KEPT_TITLES = ("timescaledb: Time-Series data (Supabase docs)",
               "Temporal Helm Chart (temporalio/helm-charts)",
               "Temporal PHP SDK (temporalio/sdk-php README)")


def test_csl_titles_keep_their_case_in_pandoc_citeproc(curated, tmp_path):
    need("pandoc")
    params = {"engine": "wfr:temporal"}
    entries = curated.citations(query="engine-backends", params=params)
    (tmp_path / "refs.json").write_text(render(entries, "csl-json"))
    (tmp_path / "paper.md").write_text(" ".join(f"@{e.key}" for e in entries) + "\n")
    result = subprocess.run(["pandoc", "--citeproc", "--bibliography", "refs.json",
                             "paper.md", "-t", "plain", "--wrap", "none"],  # Chicago
                            cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "WARNING" not in result.stderr, result.stderr
    for title in KEPT_TITLES:
        assert title in result.stdout
    assert "<span" not in result.stdout and "nocase" not in result.stdout
    # citeproc-py (kg cite --format text) reads the same markup and prints none of it
    for style in ("apa", "ieee", "gb7714"):
        text = " ".join(formatted(entries, style=style))
        assert all(t in text for t in KEPT_TITLES) and "<span" not in text, style
    html = " ".join(formatted(entries, style="apa", output="html"))
    assert "nocase" not in html and "&lt;span" not in html
