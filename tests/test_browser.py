"""What a person sees, in a real browser: headless Chromium (Debian's `chromium`, driven by
Playwright) against a real `kg serve` on the curated data, and against the static site
opened from disk. Every network request is recorded and must stay on the loopback
address (or on disk); screenshots are saved under test-output/screenshots/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from kg.cli import main
from tests.conftest import FIXTURES, ROOT, make_project
from tests.test_http_sparql import start_kg_serve

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--headless"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(curated):
    process, base = start_kg_serve(curated.project.root, "--time-limit", "20",
                                   env={"KG_STORE": str(curated.project.store_dir)})
    yield base
    process.terminate()
    process.wait(timeout=10)


class Visit:
    """A browser page that records every request, page error and dialog."""

    def __init__(self, browser, width=1280, height=800):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    def external(self) -> list[str]:
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "file", "about"):
                continue
            if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
                out.append(url)
        return out

    def close(self):
        self.page.close()


def click_node(page, iri: str) -> None:
    """Click the node `iri` of the graph view where vis-network drew it."""
    box = page.evaluate(f"""() => {{
        const el = document.querySelector("#graph");
        const pos = el.network.getPositions(["{iri}"])["{iri}"];
        const dom = el.network.canvasToDOM(pos);
        const r = el.getBoundingClientRect();
        return {{x: r.left + dom.x, y: r.top + dom.y}};
    }}""")
    page.mouse.click(box["x"], box["y"])


def graph_ready(page, selector: str) -> int:
    """Wait until the vis-network in `selector` has drawn; the number of its nodes."""
    page.wait_for_selector(f"{selector}[data-ready='true']", timeout=30000)
    return page.evaluate(f"document.querySelector(\"{selector}\").network.body.data.nodes.length")


def painted_pixels(page, selector: str) -> int:
    """How many pixels of the graph's canvas are not blank: the drawing is really there."""
    return page.evaluate(f"""() => {{
        const c = document.querySelector("{selector} canvas");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {{
            if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
        }}
        return n;
    }}""")


def test_a_newcomer_browses_from_home_to_every_feature(browser, server):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + "/")
    assert "Workflow KG" in page.locator("h1").inner_text()
    visit.shot("home")

    # search in both languages from the header
    page.fill("header input[type=search]", "Temporal")
    page.press("header input[type=search]", "Enter")
    page.wait_for_url("**/search?q=Temporal")
    first = page.locator("ol.results li a strong").first
    assert first.inner_text() == "Temporal"
    visit.shot("search-temporal")
    page.goto(server + "/search?q=时间自动机")
    assert page.locator("ol.results li a strong").first.inner_text() == "Timed automata"
    assert page.locator("ol.results mark").first.inner_text() == "时间自动机"

    # the entity page, a link from it, and an evidence page
    page.goto(server + "/search?q=Temporal")
    page.locator("ol.results li a").first.click()
    page.wait_for_url("**/resource/temporal")
    assert page.locator("h1").inner_text().startswith("Temporal")
    assert page.locator(".badge.verified").count() > 5
    visit.shot("entity-temporal")
    page.locator("dd a[href='/resource/cadence']").first.click()
    page.wait_for_url("**/resource/cadence")
    assert "Cadence" in page.locator("h1").inner_text()
    page.locator("div.evidence a", has_text="statement").first.click()
    page.wait_for_url("**/resource/statement/*")
    assert page.locator("p.claim").count() == 1
    assert page.locator("h1 .badge").count() == 1
    visit.shot("statement")

    # the language switch persists between pages
    page.click(".langswitch button[data-lang='zh']")
    page.goto(server + "/resource/timed-automata")
    assert page.evaluate("document.documentElement.dataset.lang") == "zh"
    assert page.locator("h1 [lang='zh']").is_visible()
    assert not page.locator("h1 [lang='en']").is_visible()
    page.click(".langswitch button[data-lang='en']")

    assert not visit.external(), visit.external()
    assert not visit.errors, visit.errors
    visit.close()


def test_graph_view_draws_and_a_click_opens_the_node_page(browser, server):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + "/graph?focus=wfr:temporal&depth=1")
    nodes = graph_ready(page, "#graph")
    assert nodes > 20
    assert painted_pixels(page, "#graph") > 2000
    visit.shot("graph-temporal")
    target = "https://w3id.org/workflow-kg/resource/cadence"
    click_node(page, target)
    page.wait_for_url("**/resource/cadence", timeout=10000)
    assert "Cadence" in page.locator("h1").inner_text()

    page.goto(server + "/graph")
    assert graph_ready(page, "#graph") > 200  # the whole graph, drawn at once
    assert painted_pixels(page, "#graph") > 2000
    visit.shot("graph-whole")
    page.goto(server + "/graph/path?from=wfr:tla-plus&to=wfr:payment-atomicity")
    assert graph_ready(page, "#graph") >= 2
    assert page.locator("ol li").first.inner_text().startswith("TLA+")
    visit.shot("graph-path")
    assert not visit.external(), visit.external()
    visit.close()


def test_query_editor_runs_a_query_and_shows_rows(browser, server):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + "/query")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.evaluate("""() => { window.workflowKgYasgui.getTab().setQuery(
        'PREFIX wf: <https://w3id.org/workflow-kg/ontology#>\\n'
        + 'PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\\n'
        + 'SELECT ?engine ?label WHERE { ?engine a wf:WorkflowEngine ; rdfs:label ?label . '
        + 'FILTER (LANG(?label) = "en") } ORDER BY ?label'); return true; }""")
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table tbody tr", timeout=20000)
    rows = page.locator(".yasr table tbody tr").count()
    assert rows >= 10
    assert "Temporal" in page.locator(".yasr table").inner_text()
    # the service's prefixes are known to the editor: no "Prefix 'wf' is not defined"
    page.evaluate("""() => { window.workflowKgYasgui.getTab().setQuery(
        'SELECT ?e WHERE { ?e a wf:WorkflowEngine }'); return true; }""")
    page.wait_for_timeout(500)
    assert page.locator(".yasqe .parseErrorIcon").count() == 0
    page.evaluate("""() => { window.workflowKgYasgui.getTab().setQuery(
        'SELECT ?e WHERE { ?e a nosuch:WorkflowEngine }'); return true; }""")
    page.wait_for_selector(".yasqe .parseErrorIcon")  # an unknown prefix is still marked
    visit.shot("query-editor")
    assert not visit.external(), visit.external()
    visit.close()


def test_api_docs_render_the_openapi_operations(browser, server):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + "/docs")
    page.wait_for_selector(".opblock", timeout=20000)
    assert page.locator(".opblock").count() > 20
    assert "Unable to render" not in page.content()
    visit.shot("api-docs")
    assert not visit.external(), visit.external()
    visit.close()


def test_pages_are_readable_at_phone_width(browser, server):
    visit = Visit(browser, width=390, height=844)
    for path in ["/", "/resource/temporal", "/search?q=saga", "/graph?focus=wfr:saga"]:
        visit.page.goto(server + path)
        overflow = visit.page.evaluate(
            "document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow, path
    visit.shot("phone-entity")
    visit.close()


def test_static_site_opens_from_disk_and_its_links_work(browser, tmp_path):
    root = make_project(tmp_path / "project", FIXTURES / "mini.ttl", FIXTURES / "hostile.ttl")
    runner = CliRunner()
    assert runner.invoke(main, ["--project", str(root), "build", "-q"]).exit_code == 0
    out = tmp_path / "site"
    assert runner.invoke(main, ["--project", str(root), "site", "-o", str(out), "-q"]
                         ).exit_code == 0
    visit = Visit(browser)
    page = visit.page
    page.goto((out / "index.html").as_uri())
    page.click("a[href='./resource/engine-a.html']")
    page.wait_for_url("**/resource/engine-a.html")
    assert "Engine A" in page.locator("h1").inner_text()
    assert graph_ready(page, "#neighbourhood") >= 3
    page.click("a[href='../resource/db-x.html']")
    page.wait_for_url("**/resource/db-x.html")
    page.goto((out / "search.html").as_uri() + "?q=引擎")
    assert page.locator("#search-results li").count() >= 2
    # ?limit= shows the best few, and a link shows every match
    matches = page.locator("#search-results li").count()
    page.goto((out / "search.html").as_uri() + "?q=引擎&limit=1")
    assert page.locator("#search-results li").count() == 1
    page.locator("#search-summary a", has_text=f"show all {matches}").click()
    page.wait_for_url(f"**limit={matches}**")
    assert page.locator("#search-results li").count() == matches
    assert page.locator("#search-summary a").count() == 0
    page.goto((out / "search.html").as_uri() + "?q=Fixture%20Paper")
    page.locator("#search-results li a").first.click()
    page.wait_for_url("**/source/fixture-paper.html")
    assert page.locator("h1").inner_text().startswith("A Fixture Paper")
    # the new pages: a class list sorted in the browser, the list of sources
    page.goto((out / "index.html").as_uri())
    page.click("a[href='./class/WorkflowEngine.html']")
    page.wait_for_url("**/class/WorkflowEngine.html")
    column = "table.list tbody td:nth-child(1) a"
    assert page.locator(column).all_inner_texts() == ["Engine A", "Engine B"]
    page.click("table.list th[data-sort='label'] button")  # sorted by label: now descending
    assert page.locator(column).all_inner_texts() == ["Engine B", "Engine A"]
    page.click("table.list th[data-sort='facts'] button")
    assert page.locator("table.list th[data-sort='facts']").get_attribute("aria-sort")
    page.goto((out / "source" / "index.html").as_uri())
    assert page.locator("table.list tbody tr").count() >= 2
    page.goto((out / "graph.html").as_uri())
    assert graph_ready(page, "#graph") > 10
    page.fill("#graph-find-input", "Engine A")
    page.press("#graph-find-input", "Enter")
    page.wait_for_selector("#graph[data-found='https://w3id.org/workflow-kg/resource/engine-a']")
    visit.shot("static-graph")
    page.goto((out / "resource" / "hostile.html").as_uri())
    assert "<script>alert(1)</script>" in page.locator("h1").inner_text()
    assert not visit.dialogs, visit.dialogs
    assert not visit.failed, visit.failed
    assert not visit.external(), visit.external()
    visit.close()
    shutil.rmtree(out)


def test_hostile_labels_run_no_script_in_the_browser(browser, tmp_path):
    root = make_project(tmp_path / "project", FIXTURES / "mini.ttl", FIXTURES / "hostile.ttl")
    assert CliRunner().invoke(main, ["--project", str(root), "build", "-q"]).exit_code == 0
    # links the shapes refuse, written into the store behind their back (as a store built
    # before the shape, or a remote store, may hold them): the pages still run no script
    import pyoxigraph as ox

    from kg.pipeline.store import StoreLayout

    store = ox.Store(str(StoreLayout(root / ".kg").live()))
    engine = ox.NamedNode("https://w3id.org/workflow-kg/resource/engine-a")
    data = ox.NamedNode("https://w3id.org/workflow-kg/graph/data/mini.ttl")
    for predicate, target in [("http://www.w3.org/2000/01/rdf-schema#seeAlso",
                               "javascript:alert(document.domain)"),
                              ("https://w3id.org/workflow-kg/ontology#usesTechnology",
                               "javascript:alert(3)")]:
        store.add(ox.Quad(engine, ox.NamedNode(predicate), ox.NamedNode(target), data))
    store.flush()
    del store
    process, base = start_kg_serve(root)
    try:
        visit = Visit(browser)
        for path in ["/resource/hostile", "/search?q=alert", "/graph?focus=wfr:hostile",
                     "/resource/engine-a"]:
            visit.page.goto(base + path)
            if "graph" in path:
                graph_ready(visit.page, "#graph")
        label = visit.page.locator("dd a[href='/resource/hostile']").first.inner_text()
        assert "<script>alert(1)</script>" in label
        page = visit.page
        assert page.locator("a[href^='javascript' i]").count() == 0
        text = page.locator("dd span.iri", has_text="javascript:alert(document.domain)")
        text.first.click()  # shown as text: a click goes nowhere
        assert page.url.endswith("/resource/engine-a")
        # the policy itself: an inline script put into the page does not run
        ran = page.evaluate("""() => new Promise(done => {
            document.addEventListener("securitypolicyviolation", () => done("blocked"));
            const s = document.createElement("script");
            s.textContent = "window.__ran = true;";
            document.body.appendChild(s);
            setTimeout(() => done(window.__ran ? "ran" : "silent"), 500);
        })""")
        assert ran == "blocked"
        # and in the graph view, the node of the javascript: link opens nothing
        page.goto(base + "/graph?focus=wfr:engine-a")
        graph_ready(page, "#graph")
        target = "javascript:alert(3)"
        click_node(page, target)
        page.wait_for_timeout(500)
        assert "/graph" in page.url
        assert not visit.dialogs, visit.dialogs
        assert not visit.errors, visit.errors
        visit.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


# ---------------------------------------------------------------- finding things

HAN = "[\u4e00-\u9fff]"


def han_share(page) -> float:
    """Han characters / (Han characters + Latin words) of the page's visible text: a
    Han character and an English word carry about as much; data with no Chinese label
    (source titles, product names) stays Latin in both interfaces."""
    return page.evaluate(r"""() => {
        const text = document.body.innerText;
        const han = (text.match(/[\u4e00-\u9fff]/g) || []).length;
        const words = (text.match(/[A-Za-z]+/g) || []).length;
        return han / Math.max(1, han + words);
    }""")


def test_search_by_an_author_opens_the_source(browser, server):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + "/")
    page.fill("header input[type=search]", "Garcia")
    page.press("header input[type=search]", "Enter")
    page.wait_for_url("**/search?q=Garcia")
    page.locator("ol.results li a[href^='/source/']").first.click()
    page.wait_for_url("**/source/garciamolina1987sagas")
    assert page.locator("h1").inner_text().startswith("Sagas")  # the title, not the key
    record = page.locator("dl.props").first.inner_text()
    assert "Garcia-Molina" in record and "garciamolina1987sagas" in record
    visit.shot("source-sagas")
    assert not visit.external(), visit.external()
    visit.close()


def test_a_class_count_on_home_opens_a_sortable_list(browser, server):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + "/")
    link = page.locator("ul.counts a[href='/class/WorkflowEngine']")
    shown = int("".join(ch for ch in link.inner_text() if ch.isdigit()))  # the home's count
    link.click()
    page.wait_for_url("**/class/WorkflowEngine")
    assert shown > 20 and page.locator("table.list tbody tr").count() == shown
    page.click("table.list th[data-sort='facts'] a")
    page.wait_for_url("**sort=facts**")
    facts = [int(t) for t in page.locator("table.list tbody td:nth-child(4)").all_inner_texts()]
    assert facts == sorted(facts, reverse=True) and facts[0] > facts[-1]
    page.click("table.list th[data-sort='label'] a")
    page.wait_for_url("**sort=label**")
    labels = page.locator("table.list tbody td:nth-child(1) a").all_inner_texts()
    assert labels == sorted(labels, key=str.casefold)
    visit.shot("class-list")
    visit.close()


LABELS_SHOWN = """() => {
    const el = document.querySelector("#graph"), net = el.network, ds = net.body.data.nodes;
    const r = el.getBoundingClientRect(), out = {};
    net.body.nodeIndices.forEach(id => {
        const n = ds.get(id);
        if (!n || n.hidden) return;
        const dom = net.canvasToDOM(net.getPositions([id])[id]);
        const inside = dom.x >= 0 && dom.y >= 0 && dom.x <= r.width && dom.y <= r.height;
        const shown = !!n.label && net.body.nodes[id].labelModule.visible() && inside;
        const g = out[n.group] = out[n.group] || [0, 0];
        g[0] += shown ? 1 : 0; g[1] += 1;
    });
    return out;
}"""


def test_the_graph_overview_is_labelled_findable_and_layered(browser, server):
    visit = Visit(browser, width=1280, height=900)
    page = visit.page
    page.goto(server + "/graph")
    graph_ready(page, "#graph")
    visit.shot("graph-overview")
    # the main classes carry readable labels at the initial zoom
    shown = page.evaluate(LABELS_SHOWN)
    for group in ("workflow engine", "theory", "property"):
        labelled, total = shown[group]
        assert labelled >= 5 and labelled >= total / 3, (group, shown[group])
    # the legend: no two classes share a colour
    colours = page.locator(".legend-item").evaluate_all(
        "items => items.map(i => getComputedStyle(i.querySelector('.glyph')).color)")
    assert len(colours) >= 10 and len(colours) == len(set(colours))

    # the find box centres Temporal, selects it and labels it
    temporal = "https://w3id.org/workflow-kg/resource/temporal"
    page.fill("#graph-find-input", "Temporal")
    page.press("#graph-find-input", "Enter")
    page.wait_for_selector(f"#graph[data-found='{temporal}']")
    where = page.evaluate(f"""() => {{
        const el = document.querySelector("#graph"), net = el.network;
        const dom = net.canvasToDOM(net.getPositions(["{temporal}"])["{temporal}"]);
        const r = el.getBoundingClientRect();
        return {{dx: dom.x - r.width / 2, dy: dom.y - r.height / 2,
                 selected: net.getSelectedNodes(),
                 label: net.body.data.nodes.get("{temporal}").label,
                 visible: net.body.nodes["{temporal}"].labelModule.visible()}};
    }}""")
    assert abs(where["dx"]) < 30 and abs(where["dy"]) < 30, where
    assert where["selected"] == [temporal] and where["label"] == "Temporal" and where["visible"]
    visit.shot("graph-find-temporal")

    # layers are off by default; switching one on adds its nodes, findings grouped
    before = page.evaluate("document.querySelector('#graph').shownCount()")
    layers = page.evaluate("""() => {
        const out = {};
        document.querySelectorAll("#graph-layers label").forEach(l => {
            const n = l.textContent.match(/\\((\\d+)\\)/)[1];
            out[l.querySelector("input").dataset.layer] = parseInt(n);
        });
        return out;
    }""")
    page.check("#graph-layers input[data-layer='own']")
    with_own = page.evaluate("document.querySelector('#graph').shownCount()")
    assert before < with_own < before + layers["own"]  # 96 own runs, a few grouped nodes
    page.check("#graph-layers input[data-layer='plan']")
    with_plan = page.evaluate("document.querySelector('#graph').shownCount()")
    assert with_plan == with_own + layers["plan"]
    page.uncheck("#graph-layers input[data-layer='plan']")
    page.uncheck("#graph-layers input[data-layer='own']")
    assert page.evaluate("document.querySelector('#graph').shownCount()") == before
    assert not visit.errors, visit.errors
    visit.close()


def test_the_chinese_interface_is_chinese(browser, server):
    visit = Visit(browser)
    page = visit.page
    shares = {}
    for path in ["/", "/resource/temporal", "/graph"]:
        page.goto(server + path)
        if path == "/graph":
            graph_ready(page, "#graph")
        english = han_share(page)
        page.click(".langswitch button[data-lang='zh']")
        assert page.evaluate("document.documentElement.lang") == "zh-Hans"
        shares[path] = (english, han_share(page))
        # no interface string that has its Chinese stays visible in English
        assert page.evaluate("""() => [...document.querySelectorAll(".alt[lang='en']")]
            .filter(e => e.offsetParent !== null).length""") == 0, path
        page.click(".langswitch button[data-lang='en']")
    for path, (english, chinese) in shares.items():
        assert english < 0.05 and chinese > 0.3, (path, shares)
    page.click(".langswitch button[data-lang='zh']")
    page.goto(server + "/graph")
    graph_ready(page, "#graph")
    labels = page.evaluate("""() => document.querySelector('#graph').network.body.data.nodes
        .get({filter: n => !!n.label}).map(n => [n.label, n.label_zh, n.label_en])""")
    assert all(shown in (zh, zh[:25] + "…") for shown, zh, _ in labels), labels[:5]
    assert sum(1 for shown, _, _ in labels if re.search(HAN, shown)) >= 10, labels
    visit.shot("graph-zh")
    page.click(".langswitch button[data-lang='en']")
    visit.close()


def test_a_source_key_in_a_named_query_answer_opens_the_source(browser, server):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + "/queries/engine-backends?engine=wfr:temporal")
    key = page.locator("table.answer a.key").first
    name = key.inner_text()
    key.click()
    page.wait_for_url(f"**/source/{name}")
    assert f"[{name}]" in page.locator("main").inner_text()
    page.go_back()
    statement = page.locator("table.answer td.facts a").first
    statement.click()
    page.wait_for_url("**/resource/statement/**")
    assert page.locator("p.claim").count() == 1
    visit.close()


def test_the_find_box_says_a_missing_name_in_the_language_shown(browser, server):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + "/graph")
    graph_ready(page, "#graph")
    page.fill("#graph-find-input", "zzznotthere")
    page.press("#graph-find-input", "Enter")
    result = page.locator("#graph-find-result")
    page.wait_for_function("document.querySelector('#graph-find-result').textContent")
    english = "Not in the graph as shown: turn on its layer, or search for it."
    assert result.inner_text() == english
    page.click(".langswitch button[data-lang='zh']")
    assert result.inner_text() == "当前图中没有：打开对应图层，或使用搜索。"
    page.click(".langswitch button[data-lang='en']")
    assert result.inner_text() == english
    visit.close()


DRAWN_BOX = """async (sel) => {
    const el = document.querySelector(sel), net = el.network;
    await new Promise(done => { net.once("afterDrawing", done); net.redraw(); });
    const ids = net.body.nodeIndices.filter(id => !net.body.nodes[id].options.hidden);
    const boxes = ids.map(id => net.getBoundingBox(id));
    const a = net.canvasToDOM({x: Math.min(...boxes.map(b => b.left)),
                               y: Math.min(...boxes.map(b => b.top))});
    const b = net.canvasToDOM({x: Math.max(...boxes.map(b => b.right)),
                               y: Math.max(...boxes.map(b => b.bottom))});
    return {left: a.x, top: a.y, right: b.x, bottom: b.y,
            width: el.clientWidth, height: el.clientHeight};
}"""


@pytest.mark.parametrize("path", ["/resource/case-coinbase", "/resource/temporal"])
def test_a_neighbourhood_is_centred_and_fits_its_frame(browser, server, path):
    visit = Visit(browser)
    page = visit.page
    page.goto(server + path)
    graph_ready(page, "#neighbourhood")
    box = page.evaluate(DRAWN_BOX, "#neighbourhood")
    # every node and label inside the frame, the drawing in its middle and filling it
    # one way (vis-network's fit leaves a margin of a tenth)
    assert box["left"] >= 0 and box["top"] >= 0, box
    assert box["right"] <= box["width"] and box["bottom"] <= box["height"], box
    assert abs((box["left"] + box["right"]) / 2 - box["width"] / 2) < box["width"] * 0.03, box
    assert abs((box["top"] + box["bottom"]) / 2 - box["height"] / 2) < box["height"] * 0.03, box
    assert max((box["right"] - box["left"]) / box["width"],
               (box["bottom"] - box["top"]) / box["height"]) > 0.8, box
    visit.shot("neighbourhood-" + path.rsplit("/", 1)[-1])
    assert not visit.errors, visit.errors
    visit.close()
