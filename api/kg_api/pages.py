"""Pages for people, each with a machine twin: home (`/`, `/api/overview`), resource and
evidence pages (`/resource/...`, `/source/...`, HTML or RDF by `Accept` or suffix),
search (`/search`, `/api/search`), graph views (`/graph`, `/graph/path`, `/api/graph`),
named-query tables (`/queries/{name}`, `/api/queries/{name}`), the instances of each
class (`/class/{name}`, `/api/class/{name}`) and every source (`/source/`), the query
editor (`/query`), and the ontology's documentation (`/ontology`, `/ontology.ttl`).
Every response carries a strict Content-Security-Policy (scripts from this service's
files only, no framing) with X-Content-Type-Options and Referrer-Policy.

Every page's data comes from one core call (kg.pages.browse, kg.pages.search, kg.pages.viz,
kg.pages.ontodoc); this module only parses the request and renders."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from kg import KnowledgeGraph, __version__
from kg import errors as kg_errors
from kg.evidence.catalogue import catalogue
from kg.evidence.progress import progress
from kg.evidence.views import in_view
from kg.namespaces import PREFIXES, SRC, WF, WFR, expand, shorten
from kg.pages.browse import (
    citation_count,
    describe,
    editor_text,
    example_params,
    overview,
    resource_rdf,
    result_table,
)
from kg.pages.lists import instances
from kg.pages.ontodoc import ontology_html
from kg.pages.render import STATIC, Links, render
from kg.pages.search import search, source_names
from kg.pages.viz import LAYERS, VIS_DIR, neighbourhood, path_view, whole
from kg.query.terms import resolve

from .negotiation import FORMAT_TYPES, GRAPH_TYPES, choose
from .parameters import takes

HTML = "text/html"
PAGE_TYPES = {HTML: "html", "application/xhtml+xml": "html", **GRAPH_TYPES}
# The query parameters each kind of page (and its twin) reads (kg_api.parameters).
LIST_PARAMS = ("q", "type", "status", "sort", "order", "page")
SEARCH_PARAMS = ("q", "type", "status", "lang", "limit")
GRAPH_PARAMS = ("focus", "depth", "limit", "class", "status")
PATH_PARAMS = ("from", "to", "limit")
SUFFIXES = {".ttl": "ttl", ".nt": "nt", ".jsonld": "jsonld", ".rdf": "rdfxml"}
SEARCH_MAX = 500  # results a search page shows at most (`?limit=`)
EXAMPLE_PATH = (str(WFR["tla-plus"]), str(WFR["payment-atomicity"]))
# Scripts and styles from this service only (the pages have no inline script; styles
# may be inline, as vis-network's and YASGUI's are), no plugins, no framing by others.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY")]


class SecurityHeaders:
    """ASGI middleware: every HTTP response gets SECURITY_HEADERS (unless it set them)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in present]
            await send(message)
        await self.app(scope, receive, with_headers)


def wants_html(request: Request) -> bool:
    """True when a person's browser asks: it names HTML and prefers it (a client that
    accepts anything, `*/*`, gets the machine's answer)."""
    accept = (request.headers.get("accept") or "").lower()
    if "html" not in accept:
        return False
    return choose(accept, PAGE_TYPES) in (HTML, "application/xhtml+xml")


def page(template: str, *, http_status: int = 200, **context) -> HTMLResponse:
    context.setdefault("links", Links())
    context.setdefault("version", __version__)
    return HTMLResponse(render(template, **context), status_code=http_status,
                        headers={"Vary": "Accept"})


def error_page(err: kg_errors.KgError, status: int,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    """The page a browser gets for an error; the service's one error handler renders it
    (kg_api.app), so routes just raise."""
    suggestions = []
    if isinstance(err, kg_errors.ResourceNotFound):
        suggestions = [{"iri": expand(s), "label": _label_of(expand(s)), "curie": s}
                       for s in err.suggestions]
    heading = {404: "Not found", 400: "Bad request", 503: "Unavailable"}.get(status, "Error")
    response = page("error.html", http_status=status, title=heading, heading=heading,
                    message=str(err), suggestions=suggestions)
    response.headers.update(headers or {})
    return response


def add_pages(app: FastAPI, graph: KnowledgeGraph) -> None:
    """Mount the static assets and add every page route to the service."""
    app.add_middleware(SecurityHeaders)
    _LABELS["graph"] = graph
    app.mount("/static/vis", StaticFiles(directory=Path(VIS_DIR)), name="vis")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def store():
        return fresh(graph).store

    async def call(fn, *args, **kwargs):
        return await run_in_threadpool(fn, *args, **kwargs)

    # ------------------------------------------------------------ home
    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        data = await call(lambda: overview(fresh(graph)))
        return page("home.html", title="Home", nav="home", overview=data,
                    example_path=EXAMPLE_PATH, query_href=_query_href)

    @app.get("/api/overview", tags=["browse"], summary="The home page's data: dataset "
             "version, build, counts per class, named queries, success indicators")
    async def overview_json() -> dict:
        data = await call(lambda: overview(fresh(graph)))
        return {"title": data.title, "version": data.version, "built_at": data.built_at,
                "triples": data.triples, "input_hash": data.input_hash,
                "classes": {shorten(t.iri): n for t, n in data.classes},
                "queries": [q.name for q in data.queries],
                "indicators": _table_json(data.indicators) if data.indicators else None}

    # ------------------------------------------------------------ research progress
    @app.get("/progress", include_in_schema=False)
    async def progress_page() -> Response:
        report = await call(lambda: progress(fresh(graph)))
        return page("progress.html", title="Research progress", nav="progress", report=report)

    @app.get("/api/progress", tags=["browse"], summary="The plan's progress: success "
             "indicators against their targets with the facts blocking them, plan items "
             "with their evidence coverage, the plan's contradicted claims")
    async def progress_json() -> dict:
        return (await call(lambda: progress(fresh(graph)))).to_dict()

    # ------------------------------------------------------------ resources
    async def resource(request: Request, iri: str, fmt: str | None) -> Response:
        media = None if fmt else choose(request.headers.get("accept") or HTML, PAGE_TYPES)
        if fmt is None and (media is None or PAGE_TYPES[media] == "html"):
            if media is None:
                raise kg_errors.FormatNotAcceptable(
                    "a resource is given as HTML or as " + ", ".join(GRAPH_TYPES))
            view, near, cited = await call(_resource_page_data, store(), iri)
            return page("resource.html", title=view.label, view=view, neighbourhood=near,
                        cite_count=cited,
                        rdf_href=_path_of(iri), cite_iri=shorten(iri),
                        filename=shorten(iri).replace(":", "-").replace("/", "-"))
        result = await call(resource_rdf, store(), iri)
        kind = fmt or PAGE_TYPES[media]
        return Response(result.serialize(kind), media_type=FORMAT_TYPES[kind],
                        headers={"Vary": "Accept"})

    # ------------------------------------------------------------ lists
    def listing(request: Request, cls: str):
        params = request.query_params
        type_ = params.get("type") or None
        return instances(store(), cls, q=params.get("q", ""),
                         type=_iri(type_) if type_ else None,
                         status=params.get("status") or None,
                         sort=params.get("sort") or ("key" if cls == str(WF.Source) else "label"),
                         order=params.get("order") or "asc", page=_int(params.get("page"), 1))

    def list_page(request: Request, cls: str, api: str) -> Response:
        data = listing(request, cls)
        current = dict(request.query_params)

        def here(**changes) -> str:
            from urllib.parse import urlencode

            merged = {**current, **changes}
            query = urlencode({k: v for k, v in merged.items() if v not in (None, "")})
            return "?" + query if query else "?"
        title = "Sources" if cls == str(WF.Source) else data.label
        return page("class_list.html", title=title, listing=data, here=here,
                    is_sources=cls == str(WF.Source),
                    api_href=api + ("?" + str(request.query_params) if current else ""))

    @app.get("/source/", include_in_schema=False, openapi_extra=takes(*LIST_PARAMS))
    async def sources_page(request: Request) -> Response:
        return await call(list_page, request, str(WF.Source), "/api/class/Source")

    @app.get("/class/{name}", include_in_schema=False, openapi_extra=takes(*LIST_PARAMS))
    async def class_page(request: Request, name: str) -> Response:
        return await call(list_page, request, str(WF) + name, f"/api/class/{name}")

    @app.get("/api/class/{name}", tags=["browse"], summary="The instances of a class "
             "(wf:NAME, its subclasses' included) with the evidence status of the facts "
             "naming each and how many sources: ?q= filters labels, ?type= and ?status= "
             "are facets, ?sort=label|label_zh|verified|facts|sources (a source list also "
             "key|title|authors|issued|kind), ?order=asc|desc, ?page=N (50 a page)",
             openapi_extra=takes(*LIST_PARAMS))
    async def class_json(request: Request, name: str) -> dict:
        return (await call(listing, request, str(WF) + name)).to_dict()

    for prefix, ns in (("resource", WFR), ("source", SRC)):
        def route(ns=ns):
            async def handler(request: Request, path: str) -> Response:
                fmt = None
                for suffix, name in SUFFIXES.items():
                    if path.endswith(suffix):
                        path, fmt = path[: -len(suffix)], name
                        break
                return await resource(request, str(ns) + path, fmt)
            return handler
        app.add_api_route(f"/{prefix}/{{path:path}}", route(), methods=["GET"],
                          tags=["browse"], summary=f"A {prefix}'s page (HTML) or its triples "
                          "(Turtle, N-Triples, JSON-LD, RDF/XML by Accept or by a suffix "
                          ".ttl, .nt, .jsonld, .rdf)", operation_id=f"{prefix}_page")

    # ------------------------------------------------------------ ontology
    @app.get("/ontology", tags=["browse"], summary="The ontology's documentation (HTML) or "
             "the ontology and shapes as RDF, by Accept")
    async def ontology(request: Request) -> Response:
        media = choose(request.headers.get("accept") or HTML, PAGE_TYPES)
        if media is not None and PAGE_TYPES[media] != "html":
            return await ontology_rdf(PAGE_TYPES[media])
        html = await call(ontology_html, graph.project, Links())
        return HTMLResponse(html, headers={"Vary": "Accept"})

    @app.get("/ontology.ttl", include_in_schema=False)
    async def ontology_ttl() -> Response:
        return await ontology_rdf("ttl")

    async def ontology_rdf(fmt: str) -> Response:
        graphs = [g for g in await call(lambda: store().named_graphs())
                  if "/graph/ontology/" in g]
        result = await call(lambda: store().query(
            "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", default_graph=graphs))
        return Response(result.serialize(fmt), media_type=FORMAT_TYPES[fmt])

    # ------------------------------------------------------------ search
    def run_search(request: Request):
        params = request.query_params
        type_ = params.get("type") or None
        status = params.get("status") or None
        if status and status not in ("verified", "unverified", "contradicted"):
            raise kg_errors.QueryError("status is one of verified, unverified, contradicted")
        cat = catalogue(store())
        return cat, search(cat, params.get("q", ""), type=_iri(type_) if type_ else None,
                           status=status,
                           sources=source_names(store()),
                           lang=params.get("lang", "en"),
                           limit=min(_int(params.get("limit"), 50), SEARCH_MAX))

    @app.get("/search", include_in_schema=False, openapi_extra=takes(*SEARCH_PARAMS))
    async def search_page(request: Request) -> Response:
        cat, result = await call(run_search, request)
        type_labels = {t: (cat.label(t), cat.label(t, "zh")) for t in result.types if t}
        api = "/api/search?" + str(request.query_params)
        more = None  # the same search with every match shown (up to SEARCH_MAX)
        if result.total > len(result.results) and len(result.results) < SEARCH_MAX:
            from urllib.parse import urlencode

            more = "/search?" + urlencode({**dict(request.query_params),
                                           "limit": min(result.total, SEARCH_MAX)})
        return page("search.html", title="Search", result=result, query=result.query,
                    type=request.query_params.get("type"),
                    status_filter=request.query_params.get("status"), type_labels=type_labels,
                    api_href=api, more_href=more, more_count=min(result.total, SEARCH_MAX))

    @app.get("/api/search", tags=["browse"], summary="Search labels, alternative labels "
             "and definitions (English and Chinese), ranked, with facets",
             openapi_extra=takes(*SEARCH_PARAMS))
    async def search_json(request: Request) -> dict:
        cat, result = await call(run_search, request)
        return {"query": result.query, "total": result.total,
                "results": [{"iri": h.iri, "curie": h.curie, "label": h.label, "type": h.type,
                             "status": h.status, "matched": h.matched, "rank": h.rank,
                             "highlight": [[p.text, p.hit] for p in h.parts]}
                            for h in result.results],
                "facets": {"type": result.types, "status": result.statuses}}

    # ------------------------------------------------------------ graph views
    def graph_view(request: Request):
        params = request.query_params
        focus = params.get("focus")
        href = Links().href
        if focus:
            limit = 1000 if params.get("limit") == "all" else _int(params.get("limit"), 150)
            return neighbourhood(store(), _named(store(), focus, "focus"),
                                 depth=_int(params.get("depth"), 1), href=href,
                                 max_nodes=max(1, min(limit, 1000)))
        classes = [_iri(c) for c in params.getlist("class") if c]
        return whole(store(), classes=classes, statuses=params.getlist("status"), href=href)

    @app.get("/graph", include_in_schema=False, openapi_extra=takes(*GRAPH_PARAMS))
    async def graph_page(request: Request) -> Response:
        view = await call(graph_view, request)
        classes = await call(_class_choices, store())
        params = request.query_params
        show_all = None
        if view.left_out:
            from urllib.parse import urlencode

            show_all = "/graph?" + urlencode({**dict(params), "limit": "all"})
        return page("graph.html", title=view.title, nav="graph", view=view, wide=True,
                    classes=classes, chosen_classes=[_iri(c) for c in params.getlist("class")],
                    chosen_statuses=params.getlist("status"), focus=params.get("focus"),
                    depth=params.get("depth"), layer_names=LAYERS, show_all_href=show_all)

    @app.get("/api/graph", tags=["browse"], summary="The graph view's data (vis-network "
             "nodes and edges): ?focus=IRI&depth=N, or the whole graph with ?class= and "
             "?status= filters", openapi_extra=takes(*GRAPH_PARAMS))
    async def graph_json(request: Request) -> dict:
        return (await call(graph_view, request)).to_dict()

    def path_data(request: Request):
        params = request.query_params
        if not params.get("from") or not params.get("to"):
            raise kg_errors.QueryError("give both ?from=IRI and ?to=IRI")
        return path_view(store(), _named(store(), params["from"], "from"),
                         _named(store(), params["to"], "to"),
                         limit=_int(params.get("limit"), 3), href=Links().href)

    @app.get("/graph/path", include_in_schema=False, openapi_extra=takes(*PATH_PARAMS))
    async def path_page(request: Request) -> Response:
        view = await call(path_data, request)
        params = request.query_params
        return page("graph.html", title=view.title, nav="graph", view=view, wide=True,
                    classes=await call(_class_choices, store()), chosen_classes=[],
                    chosen_statuses=[], path_from=params.get("from"), path_to=params.get("to"),
                    layer_names=LAYERS)

    @app.get("/api/graph/path", tags=["browse"], summary="Shortest explained paths between "
             "two resources, with the graph view's data", openapi_extra=takes(*PATH_PARAMS))
    async def path_json(request: Request) -> dict:
        return (await call(path_data, request)).to_dict()

    # ------------------------------------------------------------ queries
    @app.get("/query", include_in_schema=False)
    async def query_editor() -> Response:
        resolve = fresh(graph).resolve
        examples = {q.name: await call(editor_text, q, resolve) for q in graph.queries}
        return page("query.html", title="Query editor", nav="query", queries=list(graph.queries),
                    examples=examples, prefixes=PREFIXES, wide=True)

    @app.get("/queries/{name}", include_in_schema=False,
             openapi_extra=takes("evidence", more="the named query's parameters"))
    async def named_page(request: Request, name: str) -> Response:
        named = graph.queries.get(name)
        params = dict(request.query_params)
        evidence = params.pop("evidence", "all")
        live = fresh(graph)
        bindings = await call(named.bindings, params, live.resolve)
        result = await call(request.app.state.runner.query, named.text, bindings=bindings,
                            default_graph=await call(live.view, evidence))
        result = named.tidy(await call(in_view, live.store, result, evidence))
        if evidence != "all":
            params["evidence"] = evidence
        table = await call(result_table, store(), result)
        api = f"/api/queries/{name}?" + "&".join(f"{k}={v}" for k, v in params.items())
        return page("named_query.html", title=named.title, named=named, params=params,
                    table=table, api_href=api)


# -------------------------------------------------------------------- helpers
def fresh(graph: KnowledgeGraph) -> KnowledgeGraph:
    """The graph, its store reopened if a build or update swapped in a new one."""
    graph.reopen()
    return graph


def _iri(text: str) -> str:
    try:
        return expand(text)
    except ValueError as err:
        raise kg_errors.QueryError(str(err)) from err


def _named(store, text: str, parameter: str) -> str:
    """The resource a graph parameter names, resolved as the CLI resolves names: an IRI,
    a prefixed or bare local name, or a label in English or Chinese (kg.terms)."""
    return resolve(store, text, parameter=parameter).value


_LABELS: dict = {}


def _label_of(iri: str) -> str:
    """The label of a suggested resource, for the error page's "did you mean"."""
    graph = _LABELS.get("graph")
    if graph is None:
        return iri
    try:
        return catalogue(graph.store).label(iri)
    except kg_errors.KgError:
        return iri


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError as err:
        raise kg_errors.QueryError(f"not a whole number: {text!r}") from err


def _path_of(iri: str) -> str:
    return Links().href(iri)


def _query_href(named) -> str:
    params = example_params(named.examples[0]) if named.examples else {}
    from urllib.parse import urlencode

    return f"/queries/{named.name}" + (f"?{urlencode(params)}" if params else "")


def _resource_page_data(store, iri: str):
    view = describe(store, iri)
    near = neighbourhood(store, iri, depth=1, href=Links().href, max_nodes=60) \
        if view.kind != "term" else None
    return view, near, citation_count(store, iri) if view.kind != "term" else 0


def _class_choices(store) -> list[tuple[str, str]]:
    cat = catalogue(store)
    used = {t for types in cat.types.values() for t in types if t.startswith(str(WF))}
    return sorted(((t, cat.label(t), cat.label(t, "zh")) for t in used),
                  key=lambda x: x[1].casefold())


def _table_json(table) -> dict:
    return {"columns": table.columns,
            "rows": [[None if c is None else (c.iri or c.value) for c in row]
                     for row in table.rows]}


__all__ = ["add_pages", "error_page", "fresh", "wants_html"]
