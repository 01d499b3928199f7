"""The pages for people and their machine twins, in process: home, resource and evidence
pages with content negotiation, search, graph views, the ontology's documentation, and
escaping of hostile labels everywhere."""

from __future__ import annotations

import json
import re

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kg import KnowledgeGraph
from kg.query.guard import Policy
from kg_api import create_app
from tests.conftest import FIXTURES, make_project

WFR = "https://w3id.org/workflow-kg/resource/"
WF = "https://w3id.org/workflow-kg/ontology#"
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
NOT_FOUND = ('<h1><span lang="en" class="alt">Not found</span>'
             '<span lang="zh" class="alt">未找到</span></h1>')


@pytest.fixture(scope="module")
def hostile_graph(tmp_path_factory) -> KnowledgeGraph:
    """The fixture project plus labels that try to inject markup."""
    root = make_project(tmp_path_factory.mktemp("hostile"), FIXTURES / "mini.ttl",
                        FIXTURES / "hostile.ttl")
    graph = KnowledgeGraph(root)
    graph.build()
    return graph


@pytest.fixture(scope="module")
def client(hostile_graph):
    with TestClient(create_app(hostile_graph, policy=Policy(time_limit=10), workers=1)) as c:
        yield c


def test_home_names_the_dataset_its_counts_and_every_named_query(client, hostile_graph):
    page = client.get("/", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    meta = "https://w3id.org/workflow-kg/graph/meta"  # the dataset's description
    triples = sum(1 for q in hostile_graph.store.quads() if q.graph_name.value != meta)
    shown = re.search(r"<strong>([\d,]+)</strong> <span lang=\"en\" class=\"alt\">triples",
                      page.text)
    assert shown and int(shown.group(1).replace(",", "")) == triples
    for named in hostile_graph.queries:
        assert f'href="/queries/{named.name}' in page.text
    twin = client.get("/api/overview").json()
    assert twin["triples"] == triples and twin["classes"]["wf:WorkflowEngine"] == 2


def test_named_query_page_runs_with_example_parameters_and_links_rows(client):
    page = client.get("/queries/engine-backends", params={"engine": "wfr:engine-a"},
                      headers=HTML)
    assert page.status_code == 200
    assert 'href="/resource/db-x"' in page.text and "Engine A" in page.text
    assert 'href="/resource/engine-b"' not in page.text  # the parameter narrowed the rows


def test_entity_page_shows_links_with_their_evidence_and_sources(client):
    page = client.get("/resource/engine-a", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "<h1>" in text and "Engine A" in text and "引擎A" in text
    assert 'href="/ontology#WorkflowEngine"' in text  # type links to the ontology docs
    assert 'href="/resource/db-x"' in text
    assert 'class="badge verified"' in text
    assert "[fixture-doc]" in text and "https://example.org/engine-a/docs" in text
    # the contradicted claim is not a link of the entity, but its statement is listed
    assert "badge contradicted" in text
    # cite this: the download link gives BibTeX that an independent parser reads
    link = re.search(r'href="(/api/cite\?iri=[^"]*format=bibtex)"', text).group(1)
    bib = client.get(link.replace("&amp;", "&"))
    assert bib.status_code == 200
    import bibtexparser

    keys = {e.key for e in bibtexparser.parse_string(bib.text).entries}
    assert "fixture-doc" in keys


def test_statement_page_says_the_claim_its_status_and_what_sources_say(client, hostile_graph):
    rows = hostile_graph.sparql(
        "SELECT ?st WHERE { ?st rdf:subject wfr:engine-a ; rdf:object wfr:db-y ; "
        "wf:evidenceStatus wf:Contradicted }").rows()
    iri = rows[0]["st"].value
    page = client.get("/" + iri.removeprefix("https://w3id.org/workflow-kg/"), headers=HTML)
    assert page.status_code == 200
    assert re.search(r"Engine A</span>.*</a> — <a[^>]*>.*supports backend.*— <a[^>]*>", page.text,
                     re.S)
    assert "The plan lists DB Y as a backend." in page.text
    assert "The docs list only DB X." in page.text
    assert "what the sources say instead" in page.text
    # the one source the data names as contradicting it (wf:contradictedBy)
    section = page.text.split("Source that contradicts the claim</span>")[1].split("</ul>")[0]
    assert "[fixture-doc]" in section and "disputes" in section


@pytest.mark.parametrize("suffix, accept, fmt", [
    ("", "text/turtle", "turtle"),
    ("", "application/ld+json", "json-ld"),
    ("", "application/n-triples", "nt"),
    ("", "application/rdf+xml", "xml"),
    (".ttl", "text/html", "turtle"),
    (".jsonld", "text/html", "json-ld"),
    (".nt", "*/*", "nt"),
    (".rdf", "*/*", "xml"),
])
def test_resource_iri_gives_its_triples_to_rdf_clients(client, suffix, accept, fmt):
    answer = client.get(f"/resource/engine-a{suffix}", headers={"Accept": accept})
    assert answer.status_code == 200
    parsed = rdflib.Graph().parse(data=answer.content, format=fmt)
    engine = URIRef(WFR + "engine-a")
    assert (engine, RDF.type, URIRef(WF + "WorkflowEngine")) in parsed
    assert (engine, RDFS.label, Literal("Engine A", lang="en")) in parsed
    assert (engine, URIRef(WF + "supportsBackend"), URIRef(WFR + "db-x")) in parsed


def test_statement_iri_gives_its_triples_as_turtle(client, hostile_graph):
    iri = hostile_graph.sparql("SELECT ?st WHERE { ?st rdf:object wfr:db-x }").rows()[0]["st"]
    answer = client.get("/" + iri.value.removeprefix("https://w3id.org/workflow-kg/"),
                        headers={"Accept": "text/turtle"})
    parsed = rdflib.Graph().parse(data=answer.content, format="turtle")
    assert (URIRef(iri.value), RDF.subject, URIRef(WFR + "engine-a")) in parsed


def test_unknown_resource_is_a_404_page_with_suggestions_not_a_trace(client):
    page = client.get("/resource/engine-aa", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'href="/resource/engine-a"' in page.text  # did you mean
    assert "Traceback" not in page.text and "/tmp" not in page.text
    machine = client.get("/resource/engine-aa", headers={"Accept": "text/turtle"})
    assert machine.status_code == 404 and "wfr:engine-a" in machine.json()["message"]
    nowhere = client.get("/no/such/page", headers=HTML)
    assert nowhere.status_code == 404 and NOT_FOUND in nowhere.text


@pytest.mark.parametrize("query, first", [
    ("Engine A", "engine-a"),  # exact label first, before "Engine A Go SDK"
    ("engine a", "engine-a"),  # case-insensitive
    ("引擎A", "engine-a"),  # Chinese label
    ("数据库", "db-x"),  # Chinese substring
    ("model checker of the", "checker-c"),  # definition
])
def test_search_ranks_exact_labels_first_in_both_languages(client, query, first):
    answer = client.get("/api/search", params={"q": query}).json()
    assert answer["results"], query
    assert answer["results"][0]["iri"] == WFR + first


def test_search_facets_filter_by_class_and_status_and_highlight(client):
    everything = client.get("/api/search", params={"q": "engine"}).json()
    assert everything["facets"]["type"][WF + "WorkflowEngine"] == 2
    engines = client.get("/api/search", params={"q": "engine",
                                                "type": WF + "WorkflowEngine"}).json()
    assert {r["iri"] for r in engines["results"]} == {WFR + "engine-a", WFR + "engine-b"}
    contradicted = client.get("/api/search", params={"q": "engine",
                                                     "status": "contradicted"}).json()
    assert contradicted["results"] and all(r["status"] == "contradicted"
                                           for r in contradicted["results"])
    first = engines["results"][0]["highlight"]
    assert ["Engine", True] in first or ["engine", True] in first
    page = client.get("/search", params={"q": "engine"}, headers=HTML)
    assert "<mark>Engine</mark>" in page.text
    bad = client.get("/api/search", params={"q": "x", "status": "maybe"})
    assert bad.status_code == 400


def test_graph_twin_gives_the_neighbourhood_with_styles_by_class_and_status(client):
    data = client.get("/api/graph", params={"focus": "wfr:engine-a", "depth": "1"}).json()
    ids = {n["id"] for n in data["nodes"]}
    assert {WFR + "engine-a", WFR + "db-x", WFR + "db-y"} <= ids
    edge = next(e for e in data["edges"]
                if e["from"] == WFR + "engine-a" and e["to"] == WFR + "db-y")
    assert edge["status"] == "contradicted" and edge["dashes"]  # shown, dashed
    node = next(n for n in data["nodes"] if n["id"] == WFR + "db-x")
    assert node["group"] == "storage backend" and node["url"] == "/resource/db-x"
    assert "storage backend" in data["options"]["groups"]
    assert any(item["group"] == "storage backend" for item in data["legend"])


def test_whole_graph_filters_by_class_and_status(client):
    engines = client.get("/api/graph", params={"class": "wf:WorkflowEngine"}).json()
    assert {n["id"] for n in engines["nodes"]} == {WFR + "engine-a", WFR + "engine-b"}
    verified = client.get("/api/graph", params={"status": "verified"}).json()
    assert verified["edges"] and {e["status"] for e in verified["edges"]} == {"verified"}
    bad = client.get("/api/graph", params={"class": "wf:NoSuchClass"})
    assert bad.status_code == 400 and "NoSuchClass" in bad.json()["message"]


def test_path_view_explains_how_two_resources_connect(client):
    data = client.get("/api/graph/path", params={"from": "wfr:engine-a",
                                                  "to": "wfr:db-x"}).json()
    assert data["paths"] and data["paths"][0].startswith("Engine A")
    page = client.get("/graph/path", params={"from": "wfr:engine-a", "to": "wfr:db-x"},
                      headers=HTML)
    assert "Shortest explained paths" in page.text
    # each step links to the fact it rests on, with its sources' keys
    [steps] = data["path_facts"][:1]
    assert steps and steps[0]["fact"].startswith(WFR) and steps[0]["keys"] == ["fixture-doc"]
    assert "evidence, step by step:" in page.text and "[1: fixture-doc]" in page.text


def test_ontology_is_documented_with_anchors_and_shapes_and_given_as_rdf(client):
    page = client.get("/ontology", headers=HTML)
    assert page.status_code == 200
    assert 'id="WorkflowEngine"' in page.text and 'id="shapes"' in page.text
    assert "EvidencedFactShape" in page.text or "StatementShape" in page.text
    rdf = client.get("/ontology", headers={"Accept": "text/turtle"})
    parsed = rdflib.Graph().parse(data=rdf.content, format="turtle")
    assert (URIRef(WF + "WorkflowEngine"), RDF.type, URIRef(
        "http://www.w3.org/2002/07/owl#Class")) in parsed


def test_query_editor_page_points_yasgui_at_the_local_endpoint(client):
    page = client.get("/query", headers=HTML)
    assert '/static/yasgui/yasgui.min.js' in page.text
    examples = json.loads(re.search(r'<script type="application/json" id="examples">(.*?)'
                                    r'</script>', page.text, re.S).group(1))
    assert "engine-backends" in examples
    script = client.get("/static/query.js").text
    assert 'window.location.origin + "/sparql"' in script


@pytest.mark.parametrize("path", ["/resource/hostile", "/search?q=alert",
                                  "/graph?focus=wfr:hostile", "/graph",
                                  "/resource/engine-a"])
def test_hostile_labels_are_escaped_on_every_page(client, path):
    page = client.get(path, headers=HTML)
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "<img src=x" not in page.text
    assert "<b>markup</b>" not in page.text
    # the label is still there, as text (HTML-escaped, or \\u003c-escaped inside JSON)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text or \
        "\\u003cscript\\u003ealert(1)" in page.text


def test_progress_page_lists_every_indicator_of_the_plan(client, hostile_graph):
    indicators = hostile_graph.sparql(
        'SELECT ?i ?l WHERE { ?i a wf:SuccessIndicator ; rdfs:label ?l FILTER (LANG(?l) = "en") }'
    ).rows()
    assert indicators
    twin = client.get("/api/progress").json()
    assert len(twin["indicators"]) == len(indicators)
    page = client.get("/progress", headers=HTML)
    assert page.status_code == 200
    for row in indicators:
        assert row["l"].value in page.text


def test_every_error_is_a_page_for_browsers_and_json_for_other_clients(client):
    page = client.get("/graph", params={"class": "wf:NoSuchClass"}, headers=HTML)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "NoSuchClass" in page.text and "Traceback" not in page.text
    missing = client.get("/queries/engine-backend", headers=HTML)
    assert missing.status_code == 404 and NOT_FOUND in missing.text
    anything = client.get("/no/such/page", headers={"Accept": "*/*"})
    assert anything.status_code == 404 and anything.json()["error"] == "NotFound"


# ---------------------------------------------------------------- finding things


def test_sources_are_found_by_title_key_and_author_and_listed(client):
    for q in ("A Fixture Paper", "doe2020fixture", "Roe"):
        hits = client.get("/api/search", params={"q": q}).json()
        assert [h["curie"] for h in hits["results"]][:1] == ["src:fixture-paper"], q
        assert hits["results"][0]["label"] == "A Fixture Paper"
    page = client.get("/source/", headers=HTML)
    assert page.status_code == 200
    assert 'href="/source/fixture-paper"' in page.text and "doe2020fixture" in page.text
    home = client.get("/", headers=HTML).text
    assert 'href="/source/"' in home  # the home page's count of sources opens the list
    assert 'href="/class/WorkflowEngine"' in home


def test_a_class_list_sorts_filters_and_pages(client):
    rows = client.get("/api/class/WorkflowEngine").json()
    assert rows["total"] == 2 and [r["label"] for r in rows["rows"]] == ["Engine A", "Engine B"]
    assert rows["rows"][0]["label_zh"] == "引擎A"
    engine_a = rows["rows"][0]
    assert engine_a["profile"]["verified"] >= 2 and engine_a["sources"] >= 1
    desc = client.get("/api/class/WorkflowEngine", params={"sort": "label", "order": "desc"})
    assert [r["label"] for r in desc.json()["rows"]] == ["Engine B", "Engine A"]
    by_facts = client.get("/api/class/WorkflowEngine", params={"sort": "facts",
                                                               "order": "desc"}).json()
    assert by_facts["rows"][0]["facts"] >= by_facts["rows"][1]["facts"]
    assert client.get("/api/class/WorkflowEngine", params={"q": "引擎B"}).json()["total"] == 1
    # the facets of search: a subclass, an evidence status
    statements = client.get("/api/class/EvidencedFact").json()
    assert "wf:Statement" in statements["facets"]["type"]
    assert set(statements["facets"]["status"]) <= {"verified", "unverified", "contradicted"}
    only = client.get("/api/class/EvidencedFact", params={"status": "contradicted"}).json()
    assert only["total"] == statements["facets"]["status"]["contradicted"]
    # an entity is filed under the statuses of the facts naming it
    engines = {r["label"]: r["profile"] for r in rows["rows"]}
    assert rows["facets"]["status_of"] == "facts naming the row"
    for status in ("verified", "unverified", "contradicted"):
        having = sorted(label for label, profile in engines.items() if profile.get(status))
        listed = client.get("/api/class/WorkflowEngine", params={"status": status}).json()
        assert sorted(r["label"] for r in listed["rows"]) == having, status
        assert rows["facets"]["status"].get(status, 0) == len(having)
    assert rows["facets"]["status"].get("verified")  # Engine A's facts are verified
    page = client.get("/class/WorkflowEngine", headers=HTML)
    assert "of the facts naming each" in page.text
    assert page.status_code == 200 and 'href="/resource/engine-a"' in page.text
    assert "sort=label&amp;order=desc" in page.text  # the heading sorts the other way
    bad = client.get("/api/class/WorkflowEngine", params={"page": "9"})
    assert bad.status_code == 400 and "page" in bad.json()["message"]
    assert client.get("/api/class/WorkflowEngine", params={"sort": "x"}).status_code == 400
    missing = client.get("/api/class/NoSuchClass")
    assert missing.status_code == 404 and "NoSuchClass" in missing.json()["message"]


def test_graph_parameters_are_resolved_like_the_cli_and_bad_ones_are_400(client):
    assert client.get("/api/graph", params={"status": "maybe"}).status_code == 400
    by_label = client.get("/api/graph", params={"focus": "Engine A"}).json()
    assert by_label["focus"] == WFR + "engine-a"
    by_zh = client.get("/api/graph", params={"focus": "引擎B"}).json()
    assert by_zh["focus"] == WFR + "engine-b"
    path = client.get("/api/graph/path", params={"from": "Engine A", "to": "DB X"})
    assert path.status_code == 200 and path.json()["paths"]
    page = client.get("/graph/path", params={"from": "engine-a", "to": "数据库X"}, headers=HTML)
    assert page.status_code == 200
    # "did you mean" names each suggestion by its label beside its short name
    missing = client.get("/resource/engine-c", headers=HTML)
    assert missing.status_code == 404
    assert re.search(r'<a href="/resource/engine-a">Engine A</a> <span class="iri">wfr:engine-a',
                     missing.text)


def test_a_focus_view_ranks_entities_before_findings_and_says_what_it_left_out(client):
    small = client.get("/api/graph", params={"focus": "wfr:engine-a", "limit": "3"}).json()
    assert len(small["nodes"]) == 3 and small["truncated"]
    shown = {n["id"] for n in small["nodes"]}
    assert all(n["group"] not in ("statement", "benchmark finding") for n in small["nodes"])
    assert sum(small["left_out"].values()) >= 1 and WFR + "engine-a" in shown
    page = client.get("/graph", params={"focus": "wfr:engine-a", "limit": "3"}, headers=HTML)
    assert "limit=all" in page.text


def test_the_whole_graph_has_layers_and_a_legend_of_distinct_colours(client):
    view = client.get("/api/graph").json()
    colours = [item["colour"] for item in view["legend"]]
    assert len(colours) == len(set(colours))
    layered = [n for n in view["nodes"] if n.get("layer")]
    assert layered and all(n["layer"] in ("plan", "findings", "own", "statements")
                           for n in layered)
    assert view["layers"] == {k: sum(1 for n in layered if n["layer"] == k)
                              for k in view["layers"]}


def test_answer_tables_link_sources_statements_and_show_badges(client):
    page = client.get("/queries/engine-backends", params={"engine": "wfr:engine-a"},
                      headers=HTML).text
    assert 'href="/source/fixture-doc"' in page  # the key in the sources cell
    assert re.search(r'<td class="facts"><a href="/resource/statement/[^"]+"', page)
    assert re.search(r'<td><span class="badge (verified|unverified|contradicted)"', page)
    assert 'href="/ontology#Verified"' not in page


# ---------------------------------------------------------------- two languages


def test_every_interface_string_of_the_templates_has_its_chinese():
    from pathlib import Path

    from kg.pages.messages import MESSAGES

    folder = Path(__import__("kg.pages.render", fromlist=["x"]).TEMPLATES)
    missing = []
    for template in folder.glob("*.html"):
        for text in re.findall(r'\bt\("((?:[^"\\]|\\.)*)"[,)]', template.read_text()):
            if text not in MESSAGES:
                missing.append((template.name, text))
    assert not missing, missing[:10]


def test_pages_give_both_languages_with_lang_attributes_and_serve_the_font(client):
    page = client.get("/resource/engine-a", headers=HTML).text
    assert '<span lang="zh" class="alt">属性与关联</span>' in page
    assert '<span lang="zh" class="alt">已验证</span>' in page  # the badges too
    font = client.get("/static/fonts/noto-sans-sc-subset.woff")
    assert font.status_code == 200 and font.content[:4] == b"wOFF"
    import io

    from fontTools.ttLib import TTFont

    cmap = TTFont(io.BytesIO(font.content)).getBestCmap()
    from kg.pages.messages import MESSAGES

    han = {ch for text in MESSAGES.values() for ch in text if "\u4e00" <= ch <= "\u9fff"}
    assert han and all(ord(ch) in cmap for ch in han)
    assert "SIL OPEN FONT LICENSE" in client.get("/static/fonts/OFL.txt").text


# ---------------------------------------------------------------- no script from data


def test_every_page_sends_a_strict_content_security_policy(client):
    for path in ["/", "/graph", "/resource/engine-a", "/docs", "/query", "/static/site.js",
                 "/api/search?q=a"]:
        response = client.get(path, headers=HTML)
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0], path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"], path
    for path in ["/", "/graph", "/resource/engine-a", "/docs", "/query", "/search?q=a"]:
        html = client.get(path, headers=HTML).text
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")"
                            r"[^>]*>", html)
        assert not inline, (path, inline)


def test_only_followable_schemes_become_links():
    from kg.pages.browse import SourceRecord, Term
    from kg.pages.render import Links, environment, safe_url

    links = Links()
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x",
                "vbscript:x", "file:///etc/passwd"):
        assert links.href(bad) == "" and safe_url(bad) == "", bad
    for good in ("https://example.org/x", "http://example.org", "mailto:a@example.org",
                 "doi:10.1/x", "urn:isbn:123"):
        assert links.href(good) == good
    env = environment()
    macro = env.from_string('{% from "macros.html" import link, source_item with context %}'
                            "{{ link(t) }}|{{ source_item(s) }}")
    out = macro.render(links=links, t=Term(value="javascript:alert(1)",
                                           iri="javascript:alert(1)", label="click me"),
                       s=SourceRecord(iri="https://w3id.org/workflow-kg/source/x", key="x",
                                      title="X", kind=None, authors=None, publisher=None,
                                      venue=None, issued=None, url="javascript:alert(2)",
                                      doi=None, accessed=None))
    assert "href=\"javascript" not in out and "click me" in out and "javascript:alert(2)" in out


def test_shapes_reject_a_link_of_another_scheme(mini_project, cli):
    (mini_project / "data" / "links.ttl").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix wfr: <https://w3id.org/workflow-kg/resource/> .\n"
        "wfr:engine-a rdfs:seeAlso <javascript:alert(1)> .\n", encoding="utf-8")
    result = cli("validate")
    assert result.exit_code == 1
    assert "rdfs:seeAlso" in result.output and "javascript:" in result.output
    (mini_project / "data" / "links.ttl").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix wfr: <https://w3id.org/workflow-kg/resource/> .\n"
        "wfr:engine-a rdfs:seeAlso <https://example.org/engine-a> .\n", encoding="utf-8")
    assert cli("validate").exit_code == 0


def test_another_store_of_the_same_ontology_takes_its_page_from_the_cache(tmp_path,
                                                                          monkeypatch):
    from kg.pages import ontodoc
    from kg.pipeline.project import find_project

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    made = []
    generate = ontodoc.generate
    monkeypatch.setattr(ontodoc, "generate", lambda project: made.append(project) or
                        generate(project))
    first, second = (find_project(make_project(tmp_path / name, FIXTURES / "mini.ttl"))
                     for name in ("a", "b"))
    page = ontodoc.ontology_page(first)
    assert len(made) == 1 and "Workflow KG ontology" in page.read_text(encoding="utf-8")
    again = ontodoc.ontology_page(second)  # pyLODE is not run again
    assert len(made) == 1 and again.parent == second.store_dir / "docs"
    assert again.read_text(encoding="utf-8") == page.read_text(encoding="utf-8")
    # a changed ontology is documented anew, in both places
    ontology = second.ontology_dir / "workflow-kg.ttl"
    ontology.write_text(ontology.read_text(encoding="utf-8").replace(
        '"workflow engine"@en', '"workflow-engine system"@en', 1), encoding="utf-8")
    changed = ontodoc.ontology_page(second)
    assert len(made) == 2 and changed != again and not again.exists()
    assert "workflow-engine system" in changed.read_text(encoding="utf-8")
    assert len(list((tmp_path / "cache" / "workflow-kg" / "ontology-docs").glob("*.html"))) == 2


def test_the_ontology_page_has_one_title_its_iri_and_our_classes_first(client):
    page = client.get("/ontology", headers=HTML).text
    assert re.findall(r"<h1>(.*?)</h1>", page) == ["Workflow KG ontology"]
    assert "<code>https://w3id.org/workflow-kg/ontology</code>" in page
    assert "#EvidenceStatusScheme</code>" not in page.split('id="classes"')[0]
    start = page.index('<div class="section" id="classes">')
    classes = page[start:page.index('<div class="section"', start + 10)]
    ours = [WF in block for block in classes.split('class="property entity"')[1:]]
    assert ours and ours == sorted(ours, reverse=True)  # ours first, then reused terms
    assert False in ours  # reused classes (PROV, SKOS) are still documented
    toc = page[page.index('id="toc"'):]
    toc = toc[:toc.index("</ul>")]  # the classes' list
    assert toc.index(">workflow engine</a>") < toc.index(">Activity</a>")  # PROV's, reused


def test_the_query_editor_examples_answer_as_their_named_queries_do(curated):
    """The editor's example of a named query binds its example's parameters: run as
    SPARQL, it gives the named query's answer for them (unbound, `citations` listed every
    source and `connection` ran over the time limit)."""
    from kg.pages.browse import editor_text

    for name, params in (("citations", {"entity": "wfr:temporal"}),
                         ("connection", {"a": "wfr:temporal", "b": "wfr:durability"})):
        text = editor_text(curated.queries.get(name), curated.resolve)
        assert "VALUES ?" in text, name
        expected = curated.query(name, params).rows()
        assert expected and curated.sparql(text).rows() == expected, name
    every = curated.sparql("SELECT (COUNT(*) AS ?n) WHERE { ?s a wf:Source }").values("n")
    assert len(curated.query("citations", {"entity": "wfr:temporal"}).rows()) < int(every[0])


def test_an_example_the_graph_cannot_bind_shows_the_query_unbound(client, hostile_graph):
    from kg.pages.browse import editor_text

    named = hostile_graph.queries.get("citations")  # its example names wfr:temporal
    assert editor_text(named, hostile_graph.resolve) == named.text
    assert client.get("/query", headers=HTML).status_code == 200


def test_every_term_of_our_namespace_a_page_links_has_its_place_in_the_ontology_page(curated):
    """Pages link each wf: term to `ontology#LocalName`: classes and properties (pyLODE)
    and the named values of the classes (source kinds, metrics, results, roles...), each
    used term of the curated data has an element with that id."""
    from kg.pages.ontodoc import ontology_page

    ids = set(re.findall(r'id="([^"]+)"', ontology_page(curated.project).read_text()))
    used = curated.sparql("""SELECT DISTINCT ?x WHERE {
        { ?s ?p ?x } UNION { ?s ?x ?o } UNION { ?x ?p ?o }
        FILTER (isIRI(?x) && STRSTARTS(STR(?x), STR(wf:))) }""").values("x")
    local = {x.rsplit("#", 1)[1] for x in used}
    assert {"JournalArticle", "Latency", "BugFound", "PersistenceRole", "High"} <= local
    assert sorted(local - ids) == []


def test_progress_links_to_blocking_facts_reach_their_heading():
    from kg.evidence.progress import Gap, Indicator, Progress
    from kg.pages.render import render

    def indicator(name, gaps):
        return Indicator(iri=WFR + name, label=name, kind="quantitative", target=10,
                         current=3, measure=None, gaps=gaps)

    gap = Gap(fact=WFR + "statement/1", label="a fact", status="unverified")
    report = Progress(phases=[], indicators=[indicator("no-gaps", []),
                                             indicator("with-gaps", [gap])])
    page = render("progress.html", report=report)
    links = re.findall(r'href="#(gaps-[^"]*)"', page)
    assert links == ["gaps-with-gaps"]
    assert set(links) <= set(re.findall(r'id="(gaps-[^"]*)"', page))


def test_chinese_view_of_query_and_search_has_no_english_left(client):
    def zh(text):
        return f'<span lang="zh" class="alt">{text}</span>'

    query = client.get("/query", headers=HTML).text
    assert re.search(r"<h1>[^\n]*" + zh("查询编辑器"), query)
    assert '<span lang="zh" class="alt">对本服务的端点 <code>/sparql</code> 运行' in query
    assert zh("示例：命名查询") in query
    # class names in the ontology's Chinese; the count one sentence, Chinese punctuation
    search = client.get("/search", params={"q": "engine", "limit": "1"}, headers=HTML).text
    assert zh("工作流引擎") in search
    total = client.get("/api/search", params={"q": "engine"}).json()["total"]
    assert zh(f"共 {total} 条结果，显示最佳 1 条。") in search
    every = client.get("/search", params={"q": "engine"}, headers=HTML).text
    assert zh(f"共 {total} 条结果。") in every and "显示最佳" not in every


def test_progress_says_kinds_and_states_of_indicators_in_both_languages():
    from kg.evidence.progress import Indicator, Progress
    from kg.pages.render import render

    report = Progress(phases=[], indicators=[
        Indicator(iri=WFR + "q", label="q", kind="qualitative", target=None, current=None,
                  measure=None),
        Indicator(iri=WFR + "n", label="n", kind="quantitative", target=2, current=3,
                  measure="m")])
    page = render("progress.html", report=report)
    for en, zh in [("qualitative", "定性"), ("quantitative", "定量"),
                   ("not measured", "未测量"), ("met", "已达成")]:
        assert f'<span lang="en" class="alt">{en}</span><span lang="zh" class="alt">{zh}</span>' \
            in page, en


def test_a_search_with_more_matches_than_shown_links_to_all_of_them(client):
    total = client.get("/api/search", params={"q": "engine"}).json()["total"]
    assert total > 1
    page = client.get("/search", params={"q": "engine", "limit": "1"}, headers=HTML).text
    link = re.search(r'<a href="(/search\?[^"]*)">' + re.escape(
        f'<span lang="en" class="alt">show all {total}</span>'), page)
    assert link, page[:2000]
    every = client.get(link.group(1).replace("&amp;", "&"), headers=HTML).text
    assert every.count('<br><span class="iri">') == total  # one per result shown
    assert "show all" not in every
