"""Regression tests on the curated graph, one per export bug: special characters in
fields, an answer citing more than its rows, "and others" as a name, an uncitable path."""

from __future__ import annotations

import json

import bibtexparser
from click.testing import CliRunner

from kg.cli import main
from kg.paper.cite import every_source, formatted, render
from tests.conftest import ROOT


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
