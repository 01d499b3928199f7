"""The static site: the service's pages written as files with relative links, so the
folder opens from disk (file://) or from any static host, with no server and no network.

Written: index.html (home), a page per resource and per statement, finding and source
(resource/..., source/...), each named query's answer with its example parameters
(queries/NAME.html), the whole graph (graph.html), search with a client-side index
(search.html, static/search-index.js), the instances of each class (class/NAME.html) and
every source (source/index.html), the plan's progress (progress.html) and the
ontology's documentation (ontology.html).
The query editor and the HTTP API need the service and are left out.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..evidence.catalogue import catalogue
from ..evidence.progress import progress as plan_progress
from ..namespaces import SRC, WF, WFR
from .browse import citations, describe, example_params, overview, result_table
from .lists import instances
from .ontodoc import ontology_html
from .render import STATIC, Links, render
from .search import source_names
from .viz import LAYERS, VIS_DIR, neighbourhood, whole


@dataclass
class SiteResult:
    folder: Path
    pages: int


def _links_for(relative: str) -> Links:
    """Links from a page at `relative` (e.g. resource/statement/x.html) to the root."""
    depth = relative.count("/")
    return Links(root="../" * depth if depth else "./", suffix=".html", static=True)


def _write(folder: Path, relative: str, html: str) -> None:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")


def search_index(cat, links: Links, sources: dict | None = None) -> list[list]:
    """[href, English label, Chinese label, alternative labels, definition, class label,
    status, class label in Chinese] for every named resource (and every source of
    `sources`, by its title, key and authors: kg.pages.search.source_names), read by
    static/search.js."""
    rows = []
    sources = sources or {}
    for iri in sorted(set(cat.labels) | set(cat.claims) | set(sources)):
        href = links.href(iri)
        if href == iri or not href:  # not a page of this site
            continue
        definitions = cat.definitions.get(iri, {})
        main = cat.main_type(iri)
        alt = list(cat.alt_labels.get(iri, []))
        label = cat.label(iri, "en")
        if iri in sources:
            key, title, authors = sources[iri]
            label = title or label
            alt += [t for t in (key, authors) if t]
        rows.append([href, label, cat.label(iri, "zh") if iri not in sources else label,
                     " | ".join(alt), " ".join(definitions.values()),
                     cat.label(main) if main else "", cat.status.get(iri) or "",
                     cat.label(main, "zh") if main else ""])
    return rows


def _example(cat) -> str:
    """The entity the home page offers as an example: Temporal, else the first engine."""
    if cat.known(str(WFR["temporal"])):
        return str(WFR["temporal"])
    engines = sorted(i for i in cat.types if cat.is_a(i, str(WF.WorkflowEngine)))
    return engines[0] if engines else str(WFR["temporal"])


def write_site(graph, folder: str | Path, *,
               progress: Callable[[str], None] | None = None) -> SiteResult:
    """Write the static site of the graph's store into `folder` (replaced if present)."""
    out = Path(folder)
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    say = progress or (lambda message: None)
    store = graph.store
    cat = catalogue(store)
    version = __version__
    pages = 0

    say("copying assets")
    shutil.copytree(STATIC, partial / "static", ignore=shutil.ignore_patterns("yasgui"))
    shutil.copytree(VIS_DIR, partial / "static" / "vis")

    say("home and named queries")
    home = Links(root="./", suffix=".html", static=True)
    data = overview(graph)

    def query_href(named) -> str:
        return f"queries/{named.name}.html"
    _write(partial, "index.html", render("home.html", links=home, title="Home", nav="home",
                                         overview=data, version=version,
                                         example_path=(_example(cat), ""),
                                         query_href=query_href))
    pages += 1
    for named in graph.queries:
        params = example_params(named.examples[0]) if named.examples else {}
        links = _links_for(f"queries/{named.name}.html")
        result = store.query(named.text, bindings=named.bindings(params))
        _write(partial, f"queries/{named.name}.html",
               render("named_query.html", links=links, title=named.title, named=named,
                      params=params, table=result_table(store, result), version=version))
        pages += 1

    names = sorted(i for i in set(cat.types) | set(cat.labels) | set(cat.claims)
                   if i.startswith(str(WFR)) or i.startswith(str(SRC)))
    say(f"{len(names)} resource pages")
    for iri in names:
        relative = home.href(iri)[2:]  # drop "./"
        links = _links_for(relative)
        view = describe(store, iri)
        near = neighbourhood(store, iri, depth=1, href=links.href, max_nodes=60)
        bibtex, csl = citations(store, iri)
        _write(partial, relative, render("resource.html", links=links, title=view.label,
                                         view=view, neighbourhood=near, version=version,
                                         bibtex=bibtex, csl=csl,
                                         cite_count=sum(1 for line in bibtex.splitlines()
                                                        if line.startswith("@")),
                                         filename=relative.rsplit("/", 1)[-1][:-5]))
        pages += 1

    say("graph, search and ontology pages")
    view = whole(store, href=home.href)
    _write(partial, "graph.html", render("graph.html", links=home, title=view.title,
                                         nav="graph", view=view, wide=True, version=version,
                                         layer_names=LAYERS))
    index = search_index(cat, home, source_names(store))
    (partial / "static" / "search-index.js").write_text(
        "window.WORKFLOW_KG_SEARCH = " + json.dumps(index, ensure_ascii=False)
        .replace("<", "\\u003c") + ";\n", encoding="utf-8")
    _write(partial, "search.html", render("search_static.html", links=home, title="Search",
                                          version=version))
    _write(partial, "ontology.html", ontology_html(graph.project, home))
    _write(partial, "progress.html", render("progress.html", links=home, nav="progress",
                                            title="Research progress", report=plan_progress(graph),
                                            version=version))
    pages += 4

    say("class lists and the list of sources")
    classes = sorted({cls.iri for cls, _ in data.classes})
    for cls in classes:
        listing = instances(store, cls, per_page=100000)
        is_sources = cls == str(WF.Source)
        relative = home.instances(cls)[2:]
        _write(partial, relative, render("class_list.html", links=_links_for(relative),
                                         title="Sources" if is_sources else listing.label,
                                         listing=listing, is_sources=is_sources,
                                         here=lambda **_: "", api_href="",
                                         version=version))
        pages += 1

    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return SiteResult(folder=out, pages=pages)


__all__ = ["SiteResult", "search_index", "write_site"]
