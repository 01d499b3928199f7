"""A remote SPARQL 1.1 server as the store: queries through SPARQLWrapper, uploads
through the SPARQL 1.1 Graph Store HTTP Protocol. Any server works (Oxigraph server,
Apache Jena Fuseki, GraphDB, Virtuoso, QLever, ...).

The embedded store answers with all graphs as the default graph; configure the server
the same way (Oxigraph: `--union-default-graph`; Fuseki: `tdb2:unionDefaultGraph true`;
GraphDB and Virtuoso do it by default) so that named queries give the same answers."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping

import pyoxigraph as ox
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

from ..errors import QueryTimeout, RemoteError, SparqlSyntaxError
from ..namespaces import META_GRAPH, PREFIXES
from ..query.queries import with_values
from ..query.results import QueryResult

DEFAULT_TIMEOUT = 60.0
USER_AGENT = "workflow-kg (SPARQLWrapper)"


def with_prefixes(sparql: str) -> str:
    """The query with the graph's prefixes declared first (a remote server does not know
    them; a PREFIX the query declares itself comes later and wins)."""
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
    return head + sparql


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside comments,
    strings and IRIs."""
    from ..query.guard import tokens

    forms = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
    return next((t.text.upper() for t in tokens(sparql)
                 if t.kind == "word" and t.text.upper() in forms), "SELECT")


class RemoteStore:
    """A SPARQL 1.1 server. `update_endpoint` and `store_endpoint` (Graph Store Protocol)
    default to `endpoint`, as on servers that serve every protocol at one URL."""

    def __init__(self, endpoint: str, *, update_endpoint: str | None = None,
                 store_endpoint: str | None = None):
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint or endpoint
        self.store_endpoint = store_endpoint or endpoint

    def __repr__(self) -> str:
        return f"RemoteStore({self.endpoint!r})"

    # ------------------------------------------------------------- reading
    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
              default_graph: list[str] | None = None,
              named_graphs: list[str] | None = None,
              timeout: float | None = None) -> QueryResult:
        """Run a query on the server; the same signature and answer as
        EmbeddedStore.query (plus a client-side `timeout` in seconds)."""
        text = with_prefixes(with_values(sparql, dict(bindings or {})))
        client = SPARQLWrapper(self.endpoint, agent=USER_AGENT)
        client.setQuery(text)
        client.setMethod(POST)
        client.setTimeout(max(1, round(timeout or DEFAULT_TIMEOUT)))
        for graph in default_graph or []:
            client.addDefaultGraph(graph)
        for graph in named_graphs or []:
            client.addNamedGraph(graph)
        form = query_form(sparql)
        client.queryType = form  # its own guess can be fooled by words in comments
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        client.setReturnFormat(TURTLE if graph_form else JSON)
        try:
            response = client.query().response
            body = response.read()
        except QueryBadFormed as err:
            raise SparqlSyntaxError(_short(err)) from err
        except TimeoutError as err:
            raise QueryTimeout(f"{self.endpoint} did not answer within "
                               f"{timeout or DEFAULT_TIMEOUT:g} s") from err
        except (SPARQLWrapperException, urllib.error.URLError, OSError) as err:
            raise RemoteError(f"{self.endpoint}: {_short(err)}") from err
        if graph_form:
            media = (response.headers.get("Content-Type") or "text/turtle").split(";")[0]
            rdf_format = ox.RdfFormat.from_media_type(media.strip()) or ox.RdfFormat.TURTLE
            triples = [q.triple for q in ox.parse(body, format=rdf_format)]
            return QueryResult("graph",
                               ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
        parsed = json.loads(body)
        if "boolean" in parsed:
            return QueryResult("ask", json.dumps({"head": {}, "boolean": bool(parsed["boolean"])}
                                                 ).encode())
        return QueryResult("select", body)

    @property
    def info(self) -> dict:
        """What the pushed build recorded in its metadata graph (empty if nothing)."""
        result = self.query(
            "SELECT ?p ?o WHERE { GRAPH ?meta { ?d a void:Dataset ; ?p ?o "
            "FILTER NOT EXISTS { ?x void:subset ?d } } }",
            bindings={"meta": ox.NamedNode(str(META_GRAPH))}, default_graph=[])
        names = {"http://purl.org/dc/terms/created": "built_at",
                 "http://purl.org/dc/terms/identifier": "input_hash",
                 "http://purl.org/dc/terms/hasVersion": "version",
                 "http://rdfs.org/ns/void#triples": "triples"}
        info: dict = {"endpoint": self.endpoint}
        for row in result.rows():
            key = names.get(row["p"].value)
            if key:
                info[key] = row["o"].value
        return info

    def quads(self) -> Iterator[ox.Quad]:
        """Every triple of every named graph."""
        result = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                            default_graph=[])
        for row in result.rows():
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

    def named_graphs(self) -> list[str]:
        result = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                            default_graph=[])
        return sorted(result.values("g"))

    # ------------------------------------------------------------- writing
    def put_graph(self, graph: str | None, triples: list[ox.Triple], *,
                  timeout: float = DEFAULT_TIMEOUT) -> None:
        """Replace one graph (None: the default graph) through the Graph Store Protocol."""
        target = "default" if graph is None else "graph=" + urllib.parse.quote(graph, safe="")
        separator = "&" if "?" in self.store_endpoint else "?"
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        request = urllib.request.Request(
            f"{self.store_endpoint}{separator}{target}", data=body, method="PUT",
            headers={"Content-Type": "application/n-triples", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as err:
            detail = err.read()[:300].decode("utf-8", "replace").strip()
            raise RemoteError(f"{self.store_endpoint}: PUT <{graph or 'default'}> failed "
                              f"with HTTP {err.code}: {detail}") from err
        except (urllib.error.URLError, OSError) as err:
            raise RemoteError(f"{self.store_endpoint}: {_short(err)}") from err

    def push(self, quads: Iterator[ox.Quad], *,
             progress: Callable[[str], None] | None = None) -> dict[str, int]:
        """Upload a dataset graph by graph (each PUT replaces that graph on the server);
        returns the triples sent per graph."""
        graphs: dict[str | None, list[ox.Triple]] = {}
        for quad in quads:
            name = None if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
            graphs.setdefault(name, []).append(quad.triple)
        sent: dict[str, int] = {}
        for name, triples in sorted(graphs.items(), key=lambda item: item[0] or ""):
            if progress:
                progress(f"PUT {len(triples)} triples into <{name or 'default graph'}>")
            self.put_graph(name, triples)
            sent[name or "default"] = len(triples)
        return sent


def _short(err: Exception) -> str:
    """The server's message if the client kept it, else the error's first line."""
    text = str(err).strip() or type(err).__name__
    if "Response:" in text:  # SPARQLWrapper: "...\n\nResponse:\nb'<server message>'"
        detail = text.split("Response:", 1)[1].strip()
        if detail.startswith(("b'", 'b"')):
            detail = detail[2:-1].encode().decode("unicode_escape", "replace")
        return detail.strip()[:500] or text.splitlines()[0]
    return text.splitlines()[0][:500]
