"""The static site and the standalone graph page: written from the fixture project,
every relative link and asset resolves to a file, nothing is fetched from the network,
and hostile labels stay text."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner

from kg import KnowledgeGraph
from kg.cli import main
from tests.conftest import FIXTURES, make_project


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.refs.append((tag, value))


def refs_of(path: Path) -> list[tuple[str, str]]:
    parser = _Refs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.refs


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("site-project"), FIXTURES / "mini.ttl",
                        FIXTURES / "hostile.ttl")
    KnowledgeGraph(root).build()
    return root


@pytest.fixture(scope="module")
def site(project, tmp_path_factory) -> Path:
    root = project
    out = tmp_path_factory.mktemp("out") / "site"
    result = CliRunner().invoke(main, ["--project", str(root), "site", "-o", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    # the progress lines say what is being written, never an object's repr
    assert "resource pages" in result.output and " object at 0x" not in result.output
    return out


def test_site_has_a_page_per_resource_statement_and_source(site):
    assert (site / "index.html").is_file() and (site / "graph.html").is_file()
    assert (site / "resource" / "engine-a.html").is_file()
    assert (site / "source" / "fixture-doc.html").is_file()
    statements = list((site / "resource" / "statement").glob("*.html"))
    assert len(statements) >= 3
    assert (site / "queries" / "engine-backends.html").is_file()
    assert (site / "ontology.html").is_file()


def test_site_lists_each_class_and_every_source_and_searches_sources(site):
    engines = (site / "class" / "WorkflowEngine.html").read_text(encoding="utf-8")
    assert 'href="../resource/engine-a.html"' in engines and 'data-client-sort="true"' in engines
    sources = (site / "source" / "index.html").read_text(encoding="utf-8")
    assert 'href="../source/fixture-paper.html"' in sources and "doe2020fixture" in sources
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="./class/WorkflowEngine.html"' in home and 'href="./source/index.html"' in home
    index = (site / "static" / "search-index.js").read_text(encoding="utf-8")
    assert "A Fixture Paper" in index and "doe2020fixture" in index
    progress = (site / "progress.html").read_text(encoding="utf-8")
    assert "<tbody>" in progress and "object at 0x" not in progress
    assert (site / "static" / "fonts" / "noto-sans-sc-subset.woff").stat().st_size > 100_000
    assert (site / "static" / "fonts" / "OFL.txt").is_file()
    paper = (site / "source" / "fixture-paper.html").read_text(encoding="utf-8")
    assert "<h1>A Fixture Paper" in paper


def test_every_relative_link_and_asset_of_the_site_resolves(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) > 20
    broken = []
    for page in pages:
        for tag, ref in refs_of(page):
            parts = urlsplit(ref)
            if parts.scheme in ("http", "https", "mailto", "data") or ref.startswith("#"):
                if tag in ("script", "link", "img") and parts.scheme in ("http", "https"):
                    broken.append((page, ref, "network asset"))
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.exists():
                broken.append((page.relative_to(site), ref, "missing"))
    assert not broken, broken[:10]


def test_site_pages_keep_hostile_labels_as_text(site):
    for page in [site / "resource" / "hostile.html", site / "graph.html",
                 site / "resource" / "engine-a.html"]:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert(1)" not in text and "<img src=x" not in text, page
    index = (site / "static" / "search-index.js").read_text(encoding="utf-8")
    assert "</script>" not in index and "\\u003cscript>alert(1)" in index


def test_viz_writes_one_self_contained_page(tmp_path, project):
    root = project
    out = tmp_path / "engine-a.html"
    result = CliRunner().invoke(main, ["--project", str(root), "viz", "--focus", "wfr:engine-a",
                                       "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', html)
    assert "vis.Network" in html and "\\u003cscript\\u003ealert(1)" in html
    assert "<script>alert(1)" not in html


def test_viz_of_an_unknown_resource_fails_with_suggestions(project):
    root = project
    result = CliRunner().invoke(main, ["--project", str(root), "viz", "--focus",
                                       "wfr:engine-z", "-o", "/dev/null"])
    assert result.exit_code == 2
    assert "did you mean" in result.output and "wfr:engine-a" in result.output


def test_site_search_index_names_each_class_in_both_languages(site):
    text = (site / "static" / "search-index.js").read_text(encoding="utf-8")
    rows = json.loads(text[text.index("["):text.rindex("]") + 1])
    engine = next(row for row in rows if row[0].endswith("resource/engine-a.html"))
    assert engine[5] == "workflow engine" and engine[7] == "工作流引擎"
