"""The HTTP service: a thin adapter over `kg`. Each route parses the request, calls one
core function, and renders; errors are mapped to status codes in one handler.

Routes: /sparql (SPARQL 1.1 Protocol: query, update, service description), /store
(Graph Store Protocol), /api/queries[/{name}] (named queries as REST), /api/stats,
/api/metrics, /healthz, /docs and /openapi.json; the pages for people and their JSON
twins are in kg_api.pages, client keys and the Host check in kg_api.clients."""

from __future__ import annotations

import hmac
import logging
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import pyoxigraph as ox
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg import KnowledgeGraph, __version__
from kg import errors as kg_errors
from kg.evidence.decide import decide
from kg.evidence.decide import render as render_decision
from kg.evidence.views import in_view, withheld_note
from kg.namespaces import HISTORY_GRAPH
from kg.pages.prepare import Preparer
from kg.pages.render import render as render_page
from kg.paper.cite import MEDIA_TYPES as CITE_MEDIA_TYPES
from kg.paper.cite import render as render_citations
from kg.pipeline.history import rollback, versions
from kg.pipeline.store import StoreLayout
from kg.pipeline.update import UpdateResult, refuse_system_target
from kg.pipeline.writer import Writer
from kg.query.guard import Policy, check_body_size
from kg.query.queries import NamedQuery
from kg.query.results import QueryResult
from kg.workers import QueryRunner

from .clients import ClientKeys, HostCheck
from .negotiation import FORMAT_TYPES, GRAPH_TYPES, SOLUTION_TYPES, choose
from .pages import add_pages, error_page, fresh, wants_html
from .parameters import check_parameters, takes
from .service import service_description

log = logging.getLogger("kg_api")

# The one map from the exception hierarchy to status codes: first match wins.
STATUS: list[tuple[type[kg_errors.KgError], int]] = [
    (kg_errors.QueryNotFound, 404),
    (kg_errors.VersionNotFound, 404),
    (kg_errors.BuildLocked, 409),
    (kg_errors.NeedsConfirmation, 409),
    (kg_errors.StoreWriteFailed, 507),
    (kg_errors.ResourceNotFound, 404),
    (kg_errors.NotAuthenticated, 401),
    (kg_errors.Refused, 403),
    (kg_errors.Overloaded, 429),
    (kg_errors.QueryTimeout, 503),
    (kg_errors.MemoryLimit, 503),
    (kg_errors.RequestTooLarge, 413),
    (kg_errors.ResultTooLarge, 400),
    (kg_errors.LimitExceeded, 413),
    (kg_errors.FormatNotAcceptable, 406),
    (kg_errors.UnsupportedInput, 415),
    (kg_errors.ValidationFailed, 422),
    (kg_errors.QueryError, 400),
    (kg_errors.StoreNotBuilt, 503),
    (kg_errors.RemoteError, 502),
    (kg_errors.KgError, 500),
]
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM = "application/x-www-form-urlencoded"
DATASET = ("default-graph-uri", "named-graph-uri")  # SPARQL 1.1 Protocol's, repeatable
USING = ("using-graph-uri", "using-named-graph-uri")
# what SPARQL clients send beside `format` to name the answer's format (SPARQLWrapper sends
# all three: Joseki read `output`, rasqal `results`); taken, and the Accept header decides
CLIENT_FORMATS = ("format", "output", "results")
ROW_TYPES = {"application/json": "rows", "text/csv": "csv",
             "application/sparql-results+json": "json",
             "text/tab-separated-values": "tsv", "application/sparql-results+xml": "xml"}
NAMED_FORMATS = {"json": "application/json", "csv": "text/csv",
                 "srj": "application/sparql-results+json", "tsv": "text/tab-separated-values",
                 "xml": "application/sparql-results+xml"}
PARAM_SCHEMAS = {"iri": {"type": "string", "format": "iri"}, "string": {"type": "string"},
                 "integer": {"type": "integer"}, "decimal": {"type": "number"},
                 "boolean": {"type": "boolean"}, "date": {"type": "string", "format": "date"}}


def status_of(err: kg_errors.KgError) -> int:
    return next(code for cls, code in STATUS if isinstance(err, cls))


def create_app(graph: KnowledgeGraph, *, policy: Policy | None = None,
               workers: int | None = None, allowed_hosts: list[str] | None = None,
               trusted_proxies: list[str] | None = None,
               client_tokens: dict[str, str] | None = None, **runner_options) -> FastAPI:
    """The service for one KnowledgeGraph. Worker processes start with the app's
    lifespan and stop with it; `workers` (default: from the machine) and
    `runner_options` (per_client, max_queue, cache_bytes, memory_limit, ...) go to
    QueryRunner. `allowed_hosts` (None: any) are the names the Host header may give
    (a defence against DNS rebinding); `trusted_proxies` (addresses or networks) are
    the reverse proxies whose Forwarded / X-Forwarded-For header says who the client
    is, for the client's share of the workers; `client_tokens` (token: name) give the
    clients that send them a share of their own."""
    policy = policy or Policy()
    keys = ClientKeys(trusted_proxies or [], policy, client_tokens)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runner = await run_in_threadpool(QueryRunner, graph, policy, workers=workers,
                                                   **runner_options)
        app.state.writer = await run_in_threadpool(_writer, graph)  # started at the first write
        # the pages' per-version values, made now and after each new version, off the
        # request path
        app.state.preparer = Preparer(graph).start()
        try:
            yield
        finally:
            await run_in_threadpool(app.state.preparer.stop)
            await run_in_threadpool(app.state.runner.close)
            await run_in_threadpool(app.state.writer.close)

    app = FastAPI(title="Workflow KG", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, dependencies=[Depends(check_parameters)],
                  description="SPARQL 1.1 endpoint and named competency queries of the "
                              "Workflow KG knowledge graph.")
    app.state.graph = graph
    app.state.policy = policy
    app.state.client_keys = keys
    if allowed_hosts is not None:
        app.add_middleware(HostCheck, allowed=allowed_hosts)

    @app.exception_handler(kg_errors.KgError)
    async def kg_error(request: Request, err: kg_errors.KgError) -> Response:
        status = status_of(err)
        if status >= 500 and not isinstance(err, kg_errors.QueryTimeout | kg_errors.StoreNotBuilt
                                             | kg_errors.RemoteError):
            log.error("%s %s failed: %r", request.method, request.url.path, err)
        message = str(err)
        if isinstance(err, kg_errors.StoreNotBuilt):  # its text names the store's folder
            message = "no store has been built yet: run `kg build` on the server"
            err = kg_errors.StoreNotBuilt(message)
        body: dict = {"error": type(err).__name__, "message": message}
        if isinstance(err, kg_errors.ValidationFailed):
            body["report"] = err.report.to_dict()
        headers = {"WWW-Authenticate": 'Bearer realm="kg"'} if status == 401 else None
        if isinstance(err, kg_errors.BuildLocked):
            headers = {"Retry-After": "2"}
        if isinstance(err, kg_errors.Overloaded | kg_errors.QueueTimeout):
            headers = {"Retry-After": str(err.retry_after)}
        if wants_html(request):
            return error_page(err, status, headers)
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(Exception)
    async def bug(request: Request, err: Exception) -> Response:
        log.exception("%s %s: unexpected error", request.method, request.url.path)
        return JSONResponse({"error": "InternalError", "message": "internal error; see the "
                             "server log"}, status_code=500)

    _mount_docs(app)
    add_pages(app, graph)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> Response:
        if wants_html(request):
            return error_page(kg_errors.KgError(str(err.detail)), err.status_code)
        return JSONResponse({"error": "NotFound" if err.status_code == 404 else "HTTPError",
                             "message": str(err.detail)}, status_code=err.status_code)

    def runner(request: Request) -> QueryRunner:
        return request.app.state.runner

    # ---------------------------------------------------------------- SPARQL protocol
    @app.get("/sparql", tags=["SPARQL"], summary="SPARQL 1.1 query (GET)",
             openapi_extra=takes("query", "update", *DATASET, *CLIENT_FORMATS, "evidence"),
             responses={200: {"content": {t: {} for t in {**SOLUTION_TYPES, **GRAPH_TYPES}}}})
    async def sparql_get(request: Request) -> Response:
        params = request.query_params
        _single(params.multi_items())
        if "update" in params:
            raise kg_errors.QueryError("an update must be sent with POST")
        if "query" not in params:
            return _describe(request, policy)
        return await _answer(request, runner(request), params["query"],
                             params.getlist("default-graph-uri"),
                             params.getlist("named-graph-uri"))

    @app.post("/sparql", tags=["SPARQL"], summary="SPARQL 1.1 query or update (POST)",
              openapi_extra=takes("query", "update", *DATASET, *USING, *CLIENT_FORMATS,
                                  "evidence", "confirm"),
              responses={200: {"content": {t: {} for t in {**SOLUTION_TYPES, **GRAPH_TYPES}}}})
    async def sparql_post(request: Request) -> Response:
        media = _media_type(request)
        body = await _read_body(request, policy)
        url_params = request.query_params
        if media == FORM:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8", "replace"),
                                           keep_blank_values=True)
            _single(pairs)
            form: dict[str, list[str]] = {}
            for name, value in pairs:
                form.setdefault(name, []).append(value)
            if "update" in form:
                return await _update(request, policy, form["update"][0], form)
            if "query" not in form:
                raise kg_errors.QueryError("the form has no 'query' or 'update' field")
            return await _answer(request, runner(request), form["query"][0],
                                 form.get("default-graph-uri", []),
                                 form.get("named-graph-uri", []))
        if media == SPARQL_QUERY:
            return await _answer(request, runner(request), _text(body),
                                 url_params.getlist("default-graph-uri"),
                                 url_params.getlist("named-graph-uri"))
        if media == SPARQL_UPDATE:
            return await _update(request, policy, _text(body), {})
        raise kg_errors.UnsupportedInput(
            f"cannot read a {media or 'body without a Content-Type'}; send {FORM}, "
            f"{SPARQL_QUERY} or {SPARQL_UPDATE}")

    @app.post("/update", tags=["SPARQL"], summary="SPARQL 1.1 update (needs the token)",
              openapi_extra=takes(*USING, "confirm"))
    async def update_post(request: Request) -> Response:
        media = _media_type(request)
        body = await _read_body(request, policy)
        if media == FORM:
            _single(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            if "update" not in form:
                raise kg_errors.QueryError("the form has no 'update' field")
            return await _update(request, policy, form["update"][0], form)
        if media == SPARQL_UPDATE:
            return await _update(request, policy, _text(body), {})
        raise kg_errors.UnsupportedInput(f"send {FORM} or {SPARQL_UPDATE}")

    # ---------------------------------------------------------------- Graph Store
    @app.get("/store", tags=["Graph Store"], summary="Read one named graph",
             openapi_extra=takes("format"),
             responses={200: {"content": {t: {} for t in GRAPH_TYPES}}})
    async def store_get(request: Request, graph: str) -> Response:
        iri = _graph_iri(graph)
        result = await run_in_threadpool(
            runner(request).query, "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
            bindings={"g": iri}, default_graph=[])
        return _render(request, result)

    async def store_write(request: Request) -> Response:
        _authorize(request, policy)
        target = _gsp_target(request)
        project = graph.project
        confirm = request.query_params.get("confirm")
        if target is not None:
            refuse_system_target(project, target)
        if request.method == "DELETE":
            result = await _write(request, "delete_graph", graph=target,
                                  agent=policy.token_name,
                                  confirm="drop" if policy.allow_drop else confirm)
        else:
            body = await _read_body(request, policy)
            result = await _write(request, "write_graph", graph=target, data=body,
                                  media_type=_media_type(request) or "",
                                  replace=request.method == "PUT", policy=policy,
                                  confirm=confirm, agent=policy.token_name)
        return _updated(result)

    async def _write(request: Request, name: str, **kwargs) -> UpdateResult:
        """A write in the writer process, under the time limit (kg.pipeline.writer); a
        Graph Store body is read first, within a time limit of its own (kg.pipeline.intake)."""
        limit = 2 * policy.time_limit + 1 if name == "write_graph" else policy.time_limit
        return await run_in_threadpool(request.app.state.writer.run, name, limit, **kwargs)

    for method, summary in [("PUT", "Replace a graph"), ("POST", "Add to a graph"),
                            ("DELETE", "Delete a graph")]:
        app.add_api_route("/store", store_write, methods=[method], tags=["Graph Store"],
                          summary=f"{summary} (needs the token)",
                          operation_id=f"store_{method.lower()}",
                          openapi_extra=takes("graph", "default", "confirm"))

    async def _update(request: Request, policy: Policy, text: str,
                      form: dict[str, list[str]]) -> Response:
        _authorize(request, policy)
        params = request.query_params
        confirm = (form.get("confirm") or [params.get("confirm")])[0]
        using = form.get("using-graph-uri") or params.getlist("using-graph-uri")
        using_named = (form.get("using-named-graph-uri")
                       or params.getlist("using-named-graph-uri"))
        result = await _write(
            request, "apply_update", sparql=text, policy=policy, confirm=confirm,
            agent=policy.token_name, base_iri=_endpoint(request),
            using=[_graph_iri(g).value for g in using],
            using_named=[_graph_iri(g).value for g in using_named])
        return _updated(result)

    # ---------------------------------------------------------------- history
    @app.get("/api/history", tags=["service"],
             summary="Kept store versions, newest first (needs the token)")
    async def history(request: Request) -> list[dict]:
        _authorize(request, policy)
        _embedded_only("the kept store versions")
        return [v.to_dict() for v in await run_in_threadpool(versions, graph.project)]

    @app.post("/api/rollback", tags=["service"],
              summary="Make a kept store version live again (needs the token)")
    async def rollback_post(request: Request, version: str | None = None) -> dict:
        _authorize(request, policy)
        _embedded_only("a rollback")
        done = await run_in_threadpool(rollback, graph.project, version)
        return {"status": "rolled back", "version": done.to_dict()}

    def _embedded_only(what: str) -> None:
        if graph.remote is not None:
            raise kg_errors.Refused(f"{what} needs the embedded store: over a remote store "
                                    "each write's record is in the history graph "
                                    f"<{HISTORY_GRAPH}>, and no earlier version is kept")

    def _authorize(request: Request, policy: Policy) -> None:
        if not policy.writable:
            raise kg_errors.ReadOnly("the service is read-only: start it with "
                                     "KG_UPDATE_TOKEN set to accept updates")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expected = (policy.update_token or "").encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                 expected):
            raise kg_errors.NotAuthenticated("an update needs 'Authorization: Bearer <token>' "
                                             "with the service's update token")

    # ---------------------------------------------------------------- named queries
    @app.get("/api/queries", tags=["named queries"], summary="List the named queries")
    async def list_queries(request: Request) -> list[dict]:
        return [_describe_query(q, request) for q in graph.queries]

    for named in graph.queries:
        _add_named_route(app, named)

    @app.get("/api/queries/{name}", tags=["named queries"], include_in_schema=False,
             openapi_extra=takes(more="the named query's, once there is one"))
    async def unknown_query(name: str) -> Response:
        graph.queries.get(name)  # raises QueryNotFound with a hint
        raise kg_errors.QueryNotFound(name)  # pragma: no cover - a route exists for it

    # ---------------------------------------------------------------- health, stats
    @app.get("/healthz", tags=["service"], summary="Liveness and store status")
    async def healthz(request: Request) -> dict:
        pages = "ready" if request.app.state.preparer.ready() else "preparing"
        if graph.remote is not None:
            return {"status": "ok", "store": "remote", "endpoint": graph.remote.endpoint,
                    "pages": pages}
        live = StoreLayout(graph.project.store_dir).live()
        return {"status": "ok" if live else "no store: run `kg build`",
                "store": "embedded", "built": live is not None, "pages": pages,
                "read_only": not policy.writable}

    @app.get("/api/stats", tags=["service"], summary="Counts per class and graph, build info")
    async def stats(request: Request) -> dict:
        result = await run_in_threadpool(fresh(graph).stats)
        return {"classes": result.classes, "graphs": result.graphs, "build": result.info,
                "service": dict(runner(request).stats)}

    @app.get("/api/metrics", tags=["service"],
             summary="Query counters since the start: cache hits and misses, queries run")
    async def metrics(request: Request) -> dict:
        """`cache_hits` and `cache_misses` count answers given from and past the answer
        cache (each response says which in its `X-KG-Cache` header); `executed` the
        queries run, `costly` those run in the costly share, `stopped` those stopped at
        the time or memory limit."""
        return dict(runner(request).stats)

    _add_cite_route(app, graph)
    _add_decide_route(app, graph)
    return app


def _writer(graph: KnowledgeGraph) -> Writer:
    """The service's writer: over a remote store, its writes go to that store
    (kg.pipeline.remote_write)."""
    return Writer(graph.project, graph.remote.settings if graph.remote is not None else None)


# -------------------------------------------------------------------- citations
def _add_cite_route(app: FastAPI, graph: KnowledgeGraph) -> None:
    @app.get("/api/cite", tags=["citations"],
             summary="Sources behind resources or a named query's answer, or the dataset",
             openapi_extra=takes("param", more="the parameters of the named query "
                                 "query=NAME, as on /api/queries/NAME"))
    async def cite(request: Request,
                   iri: Annotated[list[str] | None, Query(description="wfr:temporal")] = None,
                   query: Annotated[str | None, Query(description="a named query")] = None,
                   dataset: bool = False, format: str = "json", style: str = "apa",
                   evidence: Annotated[str, Query(description="all or verified")] = "all"
                   ) -> Response:
        """The named query's parameters are given as on /api/queries/{name}
        (`/api/cite?query=engine-backends&engine=wfr:temporal`). JSON lists each entry
        with its CiTO relations (cito:citesAsEvidence, cito:disputes), the facts it
        supports or disputes, and its CSL data; the other formats are the files
        `kg cite` writes (biblatex, bibtex, csl-json, ris, text)."""
        if not iri and not query and not dataset:
            raise kg_errors.QueryError("give iri=..., query=NAME or dataset=true")
        if format not in ("json", *CITE_MEDIA_TYPES):
            raise kg_errors.QueryError(f"unknown format {format!r}; choose json, "
                                       f"{', '.join(CITE_MEDIA_TYPES)}")
        params = {k: v for k, v in request.query_params.items() if k not in CITE_OPTIONS}
        for pair in request.query_params.getlist("param"):  # the older NAME=VALUE spelling
            name, sep, value = pair.partition("=")
            if not sep:
                raise kg_errors.ParameterError("param expects NAME=VALUE")
            params[name] = value
        if params and query is None:
            raise kg_errors.ParameterError(
                f"{', '.join(sorted(params))}: parameters of a named query need query=NAME "
                f"(the options of /api/cite are {', '.join(sorted(CITE_OPTIONS))})")
        try:
            entries = await run_in_threadpool(
                fresh(graph).citations, iri or [], query=query, params=params,
                dataset=dataset, evidence=evidence)
            if format == "json":
                return JSONResponse({"entries": [e.to_dict() for e in entries]})
            text = render_citations(entries, format, style=style)
        except ValueError as err:
            raise kg_errors.QueryError(str(err)) from err
        return Response(text, media_type=f"{CITE_MEDIA_TYPES[format]}; charset=utf-8")


CITE_OPTIONS = ("iri", "query", "dataset", "format", "style", "evidence", "param")


# -------------------------------------------------------------------- helpers
def _media_type(request: Request) -> str:
    """The body's media type, refusing a charset other than UTF-8 (SPARQL 1.1 Protocol:
    queries and updates are UTF-8)."""
    media, _, params = request.headers.get("content-type", "").partition(";")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip(' "').lower() not in (
                "utf-8", "utf8", "us-ascii"):
            raise kg_errors.UnsupportedInput(f"cannot read a body in {value.strip()}; "
                                             "send UTF-8")
    return media.strip().lower()


def _endpoint(request: Request) -> str:
    """The endpoint's URL: the base IRI of a query or update's relative IRIs."""
    return str(request.url.replace(query="", fragment=""))


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise kg_errors.UnsupportedInput("the body is not UTF-8 text") from err


async def _read_body(request: Request, policy: Policy) -> bytes:
    """The body, refusing one larger than the limit before and while reading it."""
    length = request.headers.get("content-length")
    check_body_size(int(length) if length and length.isdigit() else None, policy)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        check_body_size(size, policy)
        chunks.append(chunk)
    return b"".join(chunks)


async def _answer(request: Request, runner: QueryRunner, query: str,
                  default_graph: list[str], named_graphs: list[str]) -> Response:
    _acceptable(request)
    dataset = [_graph_iri(g).value for g in default_graph] or None
    evidence = request.query_params.get("evidence", "all")
    if dataset is None and evidence != "all":  # ?evidence=verified: the verified view
        dataset = await run_in_threadpool(fresh(runner.graph).view, evidence)
    # the endpoint's URL is the base IRI of relative IRIs; the query's own BASE wins
    result, hit = await _run(request, runner, query, default_graph=dataset,
                             named_graphs=[_graph_iri(g).value for g in named_graphs] or None,
                             base_iri=_endpoint(request))
    if evidence != "all":
        result = await run_in_threadpool(in_view, fresh(runner.graph).store, result, evidence)
    return _cache_header(_render(request, result), hit)


async def _run(request: Request, runner: QueryRunner, query: str,
               **options) -> tuple[QueryResult, bool]:
    """A cached answer straight from the event loop, else the query run in a thread
    under the client's share of the workers; and whether the cache answered."""
    answer = runner.cached(query, **options)
    if answer is not None:
        return answer, True
    client = request.app.state.client_keys.of(request)
    return await runner.answer_async(query, client=client, **options)


def _cache_header(response: Response, hit: bool) -> Response:
    response.headers["X-KG-Cache"] = "hit" if hit else "miss"
    return response


def _requested(request: Request) -> str | None:
    """The Accept header, or the media type a `format` parameter names (for browsers)."""
    fmt = request.query_params.get("format")
    if fmt:
        by_name = {v: k for k, v in {**GRAPH_TYPES, **SOLUTION_TYPES}.items()}
        return by_name.get(fmt, fmt)
    return request.headers.get("accept")


def _acceptable(request: Request) -> None:
    """406 before running anything if the client accepts no format at all."""
    accept = _requested(request)
    if choose(accept, SOLUTION_TYPES) is None and choose(accept, GRAPH_TYPES) is None:
        raise kg_errors.FormatNotAcceptable(
            f"cannot answer in {accept!r}; results come as "
            f"{', '.join(sorted(set(SOLUTION_TYPES) | set(GRAPH_TYPES)))}")


def _render(request: Request, result: QueryResult) -> Response:
    offered = GRAPH_TYPES if result.kind == "graph" else SOLUTION_TYPES
    accept = _requested(request)
    media = choose(accept, offered)
    if media is None:
        raise kg_errors.FormatNotAcceptable(
            f"a {result.kind} result cannot be given as {accept!r}; choose one of "
            f"{', '.join(offered)}")
    fmt = offered[media]
    return Response(result.serialize(fmt), media_type=FORMAT_TYPES[fmt],
                    headers={"Vary": "Accept"})


def _describe(request: Request, policy: Policy) -> Response:
    accept = _requested(request)
    media = choose(accept, GRAPH_TYPES)
    if media is None:
        raise kg_errors.FormatNotAcceptable("the service description is RDF; accept one of "
                                            + ", ".join(GRAPH_TYPES))
    fmt = GRAPH_TYPES[media]
    body = service_description(str(request.url.replace(query="")), fmt=fmt,
                               writable=policy.writable)
    return Response(body, media_type=FORMAT_TYPES[fmt], headers={"Vary": "Accept"})


def _graph_iri(text: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(text)
    except ValueError as err:
        raise kg_errors.QueryError(f"not a graph IRI: {text!r}") from err


def _gsp_target(request: Request) -> str | None:
    params = request.query_params
    if "graph" in params:
        return _graph_iri(params["graph"]).value
    if "default" in params:
        return None
    raise kg_errors.QueryError("name the graph with ?graph=IRI or ?default")


def _updated(result: UpdateResult) -> Response:
    return JSONResponse({"status": "updated" if result.version else "unchanged",
                         "added": result.added, "removed": result.removed,
                         "change": result.change, "version": result.version,
                         "graphs": result.graphs, "seconds": round(result.seconds, 3),
                         "checked": result.path, "notes": result.notes})


def _single(pairs) -> None:
    """A request carries at most one 'query' and one 'update', never both (SPARQL 1.1
    Protocol, sections 2.1 and 2.2)."""
    names = [name for name, _ in pairs if name in ("query", "update")]
    if len(names) > 1:
        raise kg_errors.QueryError(f"the request has {len(names)} 'query'/'update' "
                                   "parameters; send exactly one")


def _describe_query(q: NamedQuery, request: Request | None = None) -> dict:
    return {"name": q.name, "title": q.title, "description": q.description, "form": q.form,
            "url": f"/api/queries/{q.name}",
            "parameters": [{"name": p.name, "type": p.type, "default": p.default,
                            "required": p.required, "description": p.description}
                           for p in q.parameters],
            "examples": list(q.examples)}


def _add_named_route(app: FastAPI, named: NamedQuery) -> None:
    """GET /api/queries/{name}: parameters from the query's header, documented in
    OpenAPI; values are converted to RDF terms by the core and bound, never spliced."""
    async def run_named(request: Request) -> Response:
        raw = {k: v for k, v in request.query_params.items() if k not in ("format", "evidence")}
        runner = request.app.state.runner
        graph = fresh(request.app.state.graph)
        evidence = request.query_params.get("evidence", "all")
        bindings, dataset = await run_in_threadpool(_bound, graph, named, raw, evidence)
        result, hit = await _run(request, runner, named.text, bindings=bindings,
                                 default_graph=dataset)
        result = named.tidy(await run_in_threadpool(in_view, graph.store, result, evidence))
        return _cache_header(_render_rows(request, named, result), hit)

    parameters = [{"name": p.name, "in": "query", "required": p.required,
                   "description": p.description or p.name,
                   "schema": {**PARAM_SCHEMAS[p.type],
                              **({"default": p.default} if p.default is not None else {})}}
                  for p in named.parameters]
    parameters.append({"name": "evidence", "in": "query", "required": False,
                       "description": "'verified': answer from facts a cited source states only.",
                       "schema": {"type": "string", "enum": ["all", "verified"],
                                  "default": "all"}})
    parameters.append({"name": "format", "in": "query", "required": False,
                       "description": "Output format (else the Accept header decides).",
                       "schema": {"type": "string", "enum": list(NAMED_FORMATS)}})
    description = named.description + ("\n\nExamples:\n\n" + "\n".join(
        f"    {e}" for e in named.examples) if named.examples else "")
    app.add_api_route(
        f"/api/queries/{named.name}", run_named, methods=["GET"], tags=["named queries"],
        summary=named.title, description=description, operation_id=f"query_{named.name}",
        openapi_extra={"parameters": parameters},
        responses={200: {"content": {t: {} for t in ROW_TYPES}}})


def _bound(graph: KnowledgeGraph, named: NamedQuery, raw: dict[str, str], evidence: str
           ) -> tuple[dict, list[str] | None]:
    """A named query's parameters as terms (names resolved as `kg query` resolves them)
    and the default graph of the evidence view."""
    return named.bindings(raw, graph.resolve), graph.view(evidence)


def _render_rows(request: Request, named: NamedQuery, result: QueryResult) -> Response:
    if result.kind == "graph":
        return _render(request, result)
    fmt = request.query_params.get("format")
    media = NAMED_FORMATS.get(fmt) if fmt else choose(request.headers.get("accept"), ROW_TYPES)
    if media is None:
        raise kg_errors.FormatNotAcceptable(
            f"choose one of {', '.join(ROW_TYPES)} (or ?format={'|'.join(NAMED_FORMATS)})")
    kind = ROW_TYPES[media]
    if kind != "rows":
        return Response(result.serialize(kind), media_type=FORMAT_TYPES[kind],
                        headers={"Vary": "Accept"})
    if result.kind == "ask":
        return JSONResponse({"query": named.name, "boolean": result.boolean})
    body = {"query": named.name, "variables": result.variables,
            "rows": [{k: v.value for k, v in row.items()} for row in result.rows()]}
    if result.withheld:
        body["withheld"] = result.withheld
        body["note"] = withheld_note(result.withheld)
    return JSONResponse(body)


def _mount_docs(app: FastAPI) -> None:
    """/docs with Swagger UI served from the installed swagger-ui-bundle: no CDN."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/static/swagger", StaticFiles(directory=Path(swagger_ui_path)),
              name="swagger")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        # our page rather than FastAPI's: its start-up script is a file (static/docs.js),
        # so the Content-Security-Policy needs no inline script
        return HTMLResponse(render_page("docs.html"))


# -------------------------------------------------------------------- decision framework
DECIDE_TYPES = {"text": "text/plain", "md": "text/markdown", "mermaid": "text/plain"}


def _add_decide_route(app: FastAPI, graph: KnowledgeGraph) -> None:
    @app.get("/api/decide", tags=["decision framework"],
             summary="Rank workflow engines against requirements, rule by rule")
    async def decide_route(
            require: Annotated[list[str] | None, Query(description="KEY=VALUE")] = None,
            prefer: Annotated[list[str] | None, Query(description="KEY=VALUE")] = None,
            format: str = "json", limit: int = 10) -> Response:
        """JSON lists every candidate with its verdict and, per requirement, the rule,
        the facts it used (status, citation keys) and the verdict; `undecidable` names
        the requirements the evidence cannot decide. format=mermaid gives the decision
        tree."""
        if format != "json" and format not in DECIDE_TYPES:
            raise kg_errors.QueryError(f"unknown format {format!r}; choose json, "
                                       f"{', '.join(DECIDE_TYPES)}")
        if not require and not prefer:  # the core's message gives the CLI's spelling
            raise kg_errors.ParameterError("give at least one requirement, e.g. "
                                           "/api/decide?require=language=Go")
        decision = await run_in_threadpool(decide, fresh(graph), require=require or [],
                                           prefer=prefer or [])
        if format == "json":
            return JSONResponse(decision.to_dict())
        return Response(render_decision(decision, format, limit=max(1, limit)),
                        media_type=f"{DECIDE_TYPES[format]}; charset=utf-8")
