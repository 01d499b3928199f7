"""A remote SPARQL 1.1 server as the store (Oxigraph server, Apache Jena Fuseki, Virtuoso,
or any other): queries through the SPARQL 1.1 Protocol, pushes through the Graph Store
Protocol and SPARQL Update, each store's departures from SPARQL 1.1 in one adapter
(`Dialect`; kg.pipeline.oxigraph_server, kg.pipeline.fuseki, kg.pipeline.virtuoso).

A push is incremental: the remote keeps a manifest (the graph `PUSH_GRAPH`: a content
hash and a triple count per named graph the push wrote), and only the graphs whose hash
changed are sent. Each is sent whole into a staging graph of its own, or, when the push
is given the remote's triples of that graph (`base`: a write through `kg serve` has
them in its local copy), as its difference when that is small (at most DELTA_SHARE of
the graph, DELTA_MAX triples in all, and no blank node among the changed triples: DELETE
DATA cannot name a blank node). Then one SPARQL Update request does the rest, in this
order: the manifest marks every graph it changes PENDING, staged graphs are moved onto
their live names, differences are applied (per graph, `DELETE DATA` then `INSERT
DATA`), gone graphs are dropped, and one operation replaces the graphs' old entries in
the manifest by the new ones. A push that fails while staging leaves the live graphs as
they were (the staging graphs are dropped, or by the next push). Where the store runs
an update request as one transaction (the adapter's `atomic_update`: Oxigraph server),
a failed request changes nothing either; where it runs the operations one by one
(Virtuoso), a failed request leaves the graphs it had begun to change marked PENDING,
so that every reader sees the store changed and the next push sends those graphs whole
(a new graph it had moved in stays out of the manifest until then). After a request
that applied differences, each such graph's triple count is read back; a graph that
does not have the count it should (the store held something else than the copy said)
is sent again whole.

Credentials come from the environment only, never from the command line, and never
appear in messages: KG_REMOTE_USER and KG_REMOTE_PASSWORD (HTTP basic or digest, as
the server asks) or KG_REMOTE_TOKEN (a bearer token). TLS certificates are verified;
KG_REMOTE_CA_BUNDLE names a PEM file of extra trusted authorities.

HTTP is spoken with the standard library: SPARQLWrapper opens every request with the
process-wide `urlopen`, so it cannot take a TLS context or credentials per store."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..errors import BuildLocked, QueryTimeout, RemoteError, SparqlSyntaxError
from ..namespaces import BASE, META_GRAPH, PREFIXES
from ..query.queries import with_values
from ..query.results import QueryResult

DEFAULT_TIMEOUT = 60.0
PUSH_TIMEOUT = 600.0
USER_AGENT = "workflow-kg"
PUSH_GRAPH = BASE + "graph/push"  # the manifest of what the pushes wrote
STAGING = BASE + "graph/staging/"  # + push id + "/" + the graph's IRI, percent-encoded
DEFAULT_GRAPH = BASE + "graph/default"  # where the embedded default graph goes
PENDING = "pending"  # a manifest's hash for a graph a push had begun to change
ANOTHER_WRITER = ("another writer changed the remote store meanwhile; nothing was changed: "
                  "send the write again")
ENV_USER, ENV_PASSWORD, ENV_TOKEN, ENV_CA = (
    "KG_REMOTE_USER", "KG_REMOTE_PASSWORD", "KG_REMOTE_TOKEN", "KG_REMOTE_CA_BUNDLE")
STORE_KINDS = ("auto", "oxigraph", "fuseki", "virtuoso", "sparql")
# A changed graph goes as its difference when that is at most DELTA_SHARE of the graph's
# triples (more than the graph itself would be parsed slower than the graph's N-Triples,
# and change more than writing it to staging and moving it would), and the differences
# of one push are at most DELTA_MAX triples in all: they go in one request, and
# Virtuoso 7.2's SPARQL compiler runs out of memory on a DATA block of about 5000.
DELTA_SHARE = 0.5
DELTA_MAX = 1000
_IDENTIFIER = "http://purl.org/dc/terms/identifier"
_TRIPLES = "http://rdfs.org/ns/void#triples"
_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


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


# --------------------------------------------------------------------------- HTTP
class Transport:
    """HTTP to one server with the environment's credentials and verified TLS."""

    def __init__(self, urls: Iterable[str], environ: Mapping[str, str] | None = None):
        """Credentials are given only to the hosts of `urls` (never to a host a
        redirect leads to)."""
        env = os.environ if environ is None else environ
        context = ssl.create_default_context(cafile=env.get(ENV_CA) or None)
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=context)]
        self.user = env.get(ENV_USER) or None
        if self.user:
            passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            hosts = sorted({"{}://{}/".format(*urllib.parse.urlsplit(u)[:2]) for u in urls})
            passwords.add_password(None, hosts, self.user, env.get(ENV_PASSWORD, ""))
            handlers += [urllib.request.HTTPBasicAuthHandler(passwords),
                         urllib.request.HTTPDigestAuthHandler(passwords)]
        self.headers = {"User-Agent": USER_AGENT}
        token = env.get(ENV_TOKEN)
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.opener = urllib.request.build_opener(*handlers)
        self.sent = 0  # requests that wrote something (kg push counts them)

    @property
    def authenticated(self) -> bool:
        return bool(self.user or "Authorization" in self.headers)

    def request(self, method: str, url: str, *, data: bytes | None = None,
                headers: Mapping[str, str] | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> tuple[dict[str, str], bytes]:
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={**self.headers, **(headers or {})})
        where = _without_query(url)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as err:
            detail = _detail(err.read())
            if err.code in (401, 403):
                raise RemoteError(
                    f"{where} refused the request (HTTP {err.code}): set {ENV_USER} and "
                    f"{ENV_PASSWORD}, or {ENV_TOKEN}, to credentials it accepts"
                    + (f"; it said: {detail}" if detail else "")) from err
            if err.code == 400:
                raise SparqlSyntaxError(f"{where} rejected the request: {detail}") from err
            raise RemoteError(f"{where} answered HTTP {err.code}: {detail}") from err
        except TimeoutError as err:
            raise QueryTimeout(f"{where} did not answer within {timeout:g} s") from err
        except ssl.SSLError as err:
            raise RemoteError(f"{where}: TLS failed ({err.reason or err}); give the "
                              f"server's authority in {ENV_CA}") from err
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise QueryTimeout(f"{where} did not answer within {timeout:g} s") from err
            if isinstance(err.reason, ssl.SSLError):
                raise RemoteError(f"{where}: TLS failed ({err.reason.reason or err.reason}); "
                                  f"give the server's authority in {ENV_CA}") from err
            raise RemoteError(f"{where}: {err.reason}") from err
        except OSError as err:
            raise RemoteError(f"{where}: {err}") from err

    def form(self, url: str, fields: list[tuple[str, str]], *, accept: str,
             timeout: float = DEFAULT_TIMEOUT) -> tuple[dict[str, str], bytes]:
        return self.request("POST", url, data=urllib.parse.urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded",
                                     "Accept": accept}, timeout=timeout)


def _without_query(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2],
                                    parts.path, "", ""))


def _detail(body: bytes) -> str:
    return " ".join(body[:400].decode("utf-8", "replace").split())


# --------------------------------------------------------------------------- adapters
class Dialect:
    """How one kind of store departs from plain SPARQL 1.1 (the defaults are SPARQL 1.1
    with every graph as the default graph, as Oxigraph server and Fuseki are configured
    for it). An adapter overrides only what its store does differently."""

    name = "sparql"
    writes = "Graph Store Protocol PUT"
    atomic_update = True  # one update request is one transaction (all or nothing)

    def endpoints(self, endpoint: str, *, authenticated: bool) -> tuple[str, str]:
        """The update and Graph Store URLs a query URL implies."""
        return endpoint, endpoint

    def graph_url(self, store_endpoint: str, graph: str) -> str:
        separator = "&" if "?" in store_endpoint else "?"
        return f"{store_endpoint}{separator}graph={urllib.parse.quote(graph, safe='')}"

    def prepare(self, sparql: str) -> str:
        """The query text the store is sent."""
        return sparql

    def dataset(self, remote: RemoteStore, default_graph: list[str] | None,
                named_graphs: list[str] | None) -> tuple[str, list[tuple[str, str]]]:
        """A text to put before the query and the protocol's dataset fields for a
        query's dataset (None: every graph kg pushed)."""
        return "", ([("default-graph-uri", g) for g in default_graph or []]
                    + [("named-graph-uri", g) for g in named_graphs or []])

    def results(self, payload: bytes, sparql: str) -> bytes:
        """SPARQL results JSON (of the query `sparql`) as the embedded store answers."""
        return payload

    def write_graph(self, remote: RemoteStore, graph: str, triples: list[ox.Triple]) -> None:
        """Write `triples` into the (new, empty) graph `graph`."""
        remote.transport.request(
            "PUT", self.graph_url(remote.store_endpoint, graph),
            data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"",
            headers={"Content-Type": "application/n-triples"}, timeout=PUSH_TIMEOUT)
        remote.transport.sent += 1


def dialect_for(kind: str) -> Dialect:
    from .fuseki import Fuseki
    from .oxigraph_server import OxigraphServer
    from .virtuoso import Virtuoso

    kinds: dict[str, type[Dialect]] = {"oxigraph": OxigraphServer, "fuseki": Fuseki,
                                       "virtuoso": Virtuoso, "sparql": Dialect}
    if kind not in kinds:
        raise RemoteError(f"unknown store kind {kind!r}; choose one of {', '.join(STORE_KINDS)}")
    return kinds[kind]()


def detect(headers: Mapping[str, str]) -> str:
    """The kind of store that sent these response headers."""
    server = headers.get("server", "").lower()
    if "virtuoso" in server:
        return "virtuoso"
    if "fuseki" in server or "fuseki-request-id" in headers:
        return "fuseki"
    if "oxigraph" in server:
        return "oxigraph"
    return "sparql"


def components(triples: Iterable[ox.Triple]) -> list[list[ox.Triple]]:
    """The triples in groups that share no blank node with another group: a request that
    carries a group carries every triple naming its blank nodes (each request is a blank
    node scope of its own)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    plain, linked = [], []
    for t in triples:
        nodes = [n.value for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]
        if not nodes:
            plain.append([t])
            continue
        linked.append((t, nodes[0]))
        if len(nodes) == 2:
            parent[find(nodes[0])] = find(nodes[1])
    groups: dict[str, list[ox.Triple]] = {}
    for t, node in linked:
        groups.setdefault(find(node), []).append(t)
    return plain + list(groups.values())


def content_hash(triples: Iterable[ox.Triple]) -> str:
    """A hash of a graph's content that does not depend on blank node labels: each blank
    node is named by the triples around it (with blank nodes as `_`), so a rebuild of
    the same input hashes the same."""
    triples = list(triples)
    around: dict[str, list[str]] = {}

    def blank(term) -> str:
        return "_" if isinstance(term, ox.BlankNode) else str(term)

    for t in triples:
        line = f"{blank(t.subject)} {t.predicate} {blank(t.object)}"
        for role, term in (("s", t.subject), ("o", t.object)):
            if isinstance(term, ox.BlankNode):
                around.setdefault(term.value, []).append(role + line)
    names = {b: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]
             for b, lines in around.items()}

    def term(t) -> str:
        return f"_:{names[t.value]}" if isinstance(t, ox.BlankNode) else str(t)

    digest = hashlib.sha256()
    for line in sorted(f"{term(t.subject)} {t.predicate} {term(t.object)}" for t in triples):
        digest.update(line.encode() + b"\n")
    return "sha256:" + digest.hexdigest()


# --------------------------------------------------------------------------- push plan
@dataclass
class PushPlan:
    """What a push changes on the remote: graphs to send (IRI -> triples after), those of
    them sent as their difference (IRI -> triples removed, added; the others are sent
    whole), graphs the remote has that the dataset no longer has (to drop), and graphs
    already there."""

    send: dict[str, int] = field(default_factory=dict)
    drop: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    hashes: dict[str, tuple[str, int]] = field(default_factory=dict)  # after the push
    remote: dict[str, tuple[str, int]] = field(default_factory=dict)  # the manifest before
    delta: dict[str, tuple[int, int]] = field(default_factory=dict)
    hashed: list[str] = field(default_factory=list)  # graphs hashed (others: `known`)
    resent: list[str] = field(default_factory=list)  # deltas that missed, then sent whole
    requests: int = 0  # write requests the push made (0: a dry run, or nothing changed)

    @property
    def changes(self) -> bool:
        return bool(self.send or self.drop)

    @property
    def whole(self) -> list[str]:
        """The graphs sent whole (staged, then moved)."""
        return sorted((set(self.send) - set(self.delta)) | set(self.resent))

    def describe(self) -> list[str]:
        lines = [f"change <{g}> (-{r} +{a} of {self.send[g]} triples)"
                 for g, (r, a) in sorted(self.delta.items())]
        lines += [f"send <{g}> ({self.send[g]} triples)" for g in self.whole]
        lines += [f"drop <{g}> (no longer in the dataset)" for g in self.drop]
        return lines


# --------------------------------------------------------------------------- the store
class RemoteStore:
    """A SPARQL 1.1 server. `update_endpoint` and `store_endpoint` (Graph Store Protocol)
    default to what the store's adapter derives from `endpoint`; `kind` is one of
    STORE_KINDS ("auto": from the server's response headers)."""

    def __init__(self, endpoint: str, *, update_endpoint: str | None = None,
                 store_endpoint: str | None = None, kind: str = "auto",
                 environ: Mapping[str, str] | None = None):
        if "@" in urllib.parse.urlsplit(endpoint).netloc:
            raise RemoteError(f"credentials in a URL would show in logs: set {ENV_USER} "
                              f"and {ENV_PASSWORD} (or {ENV_TOKEN}) instead")
        self.endpoint = endpoint
        self.transport = Transport([u for u in (endpoint, update_endpoint, store_endpoint) if u],
                                   environ)
        self._kind = kind
        self._update_endpoint = update_endpoint
        self._store_endpoint = store_endpoint
        self._ours: tuple[float, tuple[list[str], list[str]]] | None = None

    def __repr__(self) -> str:
        return f"RemoteStore({self.endpoint!r})"

    @property
    def dialect(self) -> Dialect:
        if "_dialect" not in self.__dict__:
            kind = self._kind
            if kind == "auto":
                headers, _ = self.transport.form(self.endpoint, [("query", "ASK {}")],
                                                 accept="application/sparql-results+json")
                kind = detect(headers)
            self.__dict__["_dialect"] = dialect_for(kind)
        return self.__dict__["_dialect"]

    @property
    def kind(self) -> str:
        return self.dialect.name

    @property
    def settings(self) -> dict[str, str | None]:
        """What opens this store again in another process (credentials excepted: they
        come from that process's environment)."""
        return {"endpoint": self.endpoint, "update_endpoint": self._update_endpoint,
                "store_endpoint": self._store_endpoint, "kind": self.kind}

    @property
    def update_endpoint(self) -> str:
        return self._update_endpoint or self.dialect.endpoints(
            self.endpoint, authenticated=self.transport.authenticated)[0]

    @property
    def store_endpoint(self) -> str:
        return self._store_endpoint or self.dialect.endpoints(
            self.endpoint, authenticated=self.transport.authenticated)[1]

    # ------------------------------------------------------------- reading
    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None,
              default_graph: list[str] | None = None,
              named_graphs: list[str] | None = None,
              timeout: float | None = None) -> QueryResult:
        """Run a query on the server; the same signature and answer as
        EmbeddedStore.query (plus a client-side `timeout` in seconds)."""
        dialect = self.dialect
        prologue, fields = dialect.dataset(self, default_graph, named_graphs)
        text = prologue + dialect.prepare(with_prefixes(with_values(sparql, dict(bindings or {}))))
        fields = [("query", text), *fields]
        form = query_form(sparql)
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        accept = "application/n-triples" if graph_form else "application/sparql-results+json"
        headers, body = self.transport.form(self.endpoint, fields, accept=accept,
                                            timeout=timeout or DEFAULT_TIMEOUT)
        if graph_form:
            media = headers.get("content-type", "application/n-triples").split(";")[0]
            rdf_format = ox.RdfFormat.from_media_type(media.strip()) or ox.RdfFormat.N_TRIPLES
            triples = [q.triple for q in ox.parse(body, format=rdf_format)]
            return QueryResult("graph",
                               ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
        body = dialect.results(body, sparql)
        try:
            parsed = json.loads(body)
        except ValueError as err:
            raise RemoteError(f"{self.endpoint} answered something other than SPARQL "
                              f"results JSON: {_detail(body)}") from err
        if "boolean" in parsed:
            return QueryResult("ask", json.dumps({"head": {}, "boolean": bool(parsed["boolean"])}
                                                 ).encode())
        return QueryResult("select", body)

    def update(self, sparql: str, *, timeout: float = PUSH_TIMEOUT) -> None:
        """Run a SPARQL 1.1 Update request (one transaction on the store)."""
        self.transport.form(self.update_endpoint, [("update", sparql)], accept="*/*",
                            timeout=timeout)
        self.transport.sent += 1

    def manifest(self) -> dict[str, tuple[str, int]]:
        """What the pushes wrote: graph IRI -> (content hash, triples); the hash is
        PENDING for a graph whose push stopped midway (see the module's docstring)."""
        result = self.query(
            "SELECT ?g ?h ?n WHERE { GRAPH ?push { ?g ?identifier ?h ; ?triples ?n } }",
            bindings={"push": ox.NamedNode(PUSH_GRAPH),
                      "identifier": ox.NamedNode(_IDENTIFIER),
                      "triples": ox.NamedNode(_TRIPLES)},
            default_graph=[], named_graphs=[PUSH_GRAPH])
        manifest: dict[str, tuple[str, int]] = {}
        for row in result.rows():
            name, entry = row["g"].value, (row["h"].value, int(row["n"].value))
            if name not in manifest or entry[0] == PENDING:
                manifest[name] = entry
        return manifest

    def version(self) -> str:
        """A probe of the store's version: a hash of the push manifest, which every push
        and every write through `kg serve` rewrites (the history graph's hash changes
        with each write). One small query; "" when no push wrote the store."""
        manifest = sorted(self.manifest().items())
        return hashlib.sha256(json.dumps(manifest).encode()).hexdigest()[:16] if manifest \
            else ""

    def our_graphs(self) -> tuple[list[str], list[str]]:
        """The graphs the pushes wrote, and the store's other graphs (read at most every
        5 s)."""
        if self._ours is None or time.monotonic() - self._ours[0] > 5:
            ours = sorted(self.manifest())
            every = self.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                               default_graph=[], named_graphs=[]).values("g")
            self._ours = (time.monotonic(), (ours, sorted(set(every) - set(ours))))
        return self._ours[1]

    @property
    def info(self) -> dict:
        """What the pushed build recorded in its metadata graph (empty if nothing)."""
        result = self.query(
            "SELECT ?p ?o WHERE { GRAPH ?meta { ?d a void:Dataset ; ?p ?o "
            "FILTER NOT EXISTS { ?x void:subset ?d } } }",
            bindings={"meta": ox.NamedNode(str(META_GRAPH))}, default_graph=[],
            named_graphs=[str(META_GRAPH)])
        names = {"http://purl.org/dc/terms/created": "built_at",
                 "http://purl.org/dc/terms/identifier": "input_hash",
                 "http://purl.org/dc/terms/hasVersion": "version",
                 "http://rdfs.org/ns/void#triples": "triples"}
        info: dict = {"endpoint": self.endpoint, "kind": self.kind}
        for row in result.rows():
            key = names.get(row["p"].value)
            if key:
                info[key] = row["o"].value
        return info

    def quads(self, graphs: Iterable[str] | None = None) -> Iterator[ox.Quad]:
        """Every triple of every graph the pushes wrote, or of those of `graphs` (the
        embedded default graph's as the default graph again)."""
        pushed = self.named_graphs(with_default=True)
        graphs = pushed if graphs is None else sorted(set(graphs) & set(pushed))
        if not graphs:
            return
        result = self.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                            default_graph=[], named_graphs=graphs)
        for row in result.rows():
            name = row["g"]
            yield ox.Quad(row["s"], row["p"], row["o"],
                          ox.DefaultGraph() if name.value == DEFAULT_GRAPH else name)

    def named_graphs(self, *, with_default: bool = False) -> list[str]:
        """The named graphs of the pushed dataset (from the manifest; a remote store
        no push wrote: every non-empty graph the store lists)."""
        graphs = sorted(self.manifest())
        if not graphs:
            result = self.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                                default_graph=[])
            graphs = sorted(g for g in result.values("g")
                            if g != PUSH_GRAPH and not g.startswith(STAGING))
        return [g for g in graphs if with_default or g != DEFAULT_GRAPH]

    # ------------------------------------------------------------- writing
    def plan(self, quads: Iterable[ox.Quad], *,
             known: Mapping[str, tuple[str, int]] | None = None
             ) -> tuple[PushPlan, dict[str, list[ox.Triple]]]:
        """Compare a dataset with the remote's manifest: what a push would send. The
        dataset is `quads` and the graphs of `known` (IRI -> the manifest's entry of a
        graph the dataset holds unchanged: not hashed again, so not in `quads`); a known
        graph whose entry the remote no longer has is refused with BuildLocked."""
        graphs: dict[str, list[ox.Triple]] = {}
        for quad in quads:
            name = DEFAULT_GRAPH if isinstance(quad.graph_name, ox.DefaultGraph) \
                else quad.graph_name.value
            graphs.setdefault(name, []).append(quad.triple)
        known = dict(known or {})
        if any(entry[0] == PENDING for entry in known.values()):
            raise ValueError("a graph marked pending has no known content: hash it")
        remote = self.manifest()
        if any(remote.get(name) != entry for name, entry in known.items()):
            raise BuildLocked(ANOTHER_WRITER)
        plan = PushPlan(remote=remote, hashed=sorted(graphs), hashes=dict(known))
        plan.unchanged = sorted(known)
        for name, triples in sorted(graphs.items()):
            plan.hashes[name] = (content_hash(triples), len(triples))
            if remote.get(name) == plan.hashes[name]:
                plan.unchanged.append(name)
            else:
                plan.send[name] = len(triples)
        plan.unchanged.sort()
        plan.drop = sorted(set(remote) - set(graphs) - set(known))
        return plan, graphs

    def push(self, quads: Iterable[ox.Quad], *, dry_run: bool = False,
             progress: Callable[[str], None] | None = None,
             expect: Mapping[str, tuple[str, int]] | None = None,
             base: Callable[[str], Iterable[ox.Triple]] | None = None,
             known: Mapping[str, tuple[str, int]] | None = None) -> PushPlan:
        """Send the graphs whose content changed since the last push (see the module's
        docstring); with `dry_run`, only say what would change. With `expect` (the
        manifest the dataset was read with), a push finding that another writer pushed
        meanwhile is refused with BuildLocked, just before the swap. With `base` (graph
        IRI -> the triples the remote holds in it, from a local copy of the remote),
        small changes are sent as differences. With `known` (see `plan`), `quads` need
        hold only the graphs that may have changed."""
        say = progress or (lambda _message: None)
        self.drop_staging()
        plan, graphs = self.plan(quads, known=known)
        if dry_run or not plan.changes:
            return plan
        deltas = self._deltas(plan, graphs, base) if base is not None else {}
        before = self.transport.sent
        try:
            self._send(plan, graphs, deltas, say, expect)
            plan.resent = self._missed(plan)
            if plan.resent:
                say(f"sending {len(plan.resent)} graph(s) again whole: the store did not "
                    "have the triples their differences were taken from")
                again = PushPlan(send={g: plan.send[g] for g in plan.resent},
                                 hashes={g: plan.hashes[g] for g in plan.resent})
                self._send(again, graphs, {}, say, None)
        finally:
            plan.requests = self.transport.sent - before
        self._ours = None
        return plan

    def _deltas(self, plan: PushPlan, graphs: dict[str, list[ox.Triple]],
                base: Callable[[str], Iterable[ox.Triple]]
                ) -> dict[str, tuple[list[ox.Triple], list[ox.Triple]]]:
        """The graphs of `plan.send` to send as their difference from `base` (IRI ->
        triples removed, added), recorded in `plan.delta`; the others go whole."""
        deltas: dict[str, tuple[list[ox.Triple], list[ox.Triple]]] = {}
        budget = DELTA_MAX
        for name in sorted(plan.send):
            if plan.remote.get(name, (PENDING, 0))[0] == PENDING:
                continue  # a new graph, or one a push stopped in: what it holds is unknown
            old = set(base(name))
            if len(old) != plan.remote[name][1]:
                continue  # the copy does not hold what the manifest says the remote does
            new = set(graphs[name])
            removed, added = old - new, new - old
            changed = len(removed) + len(added)
            if changed > min(budget, DELTA_SHARE * max(len(old), len(new))):
                continue
            if any(isinstance(term, ox.BlankNode) for t in (*removed, *added)
                   for term in (t.subject, t.object)):
                continue
            budget -= changed
            deltas[name] = (sorted(removed, key=str), sorted(added, key=str))
            plan.delta[name] = (len(removed), len(added))
        return deltas

    def _send(self, plan: PushPlan, graphs: dict[str, list[ox.Triple]],
              deltas: dict[str, tuple[list[ox.Triple], list[ox.Triple]]],
              say: Callable[[str], None], expect: Mapping[str, tuple[str, int]] | None
              ) -> None:
        """Stage the graphs sent whole, then one update request for all of `plan`."""
        push_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        staged: dict[str, str] = {}
        swapping = False
        try:
            for name in sorted(set(plan.send) - set(deltas)):
                triples = graphs[name]
                stage = f"{STAGING}{push_id}/{urllib.parse.quote(name, safe='')}"
                say(f"sending {len(triples)} triples of <{name}> ({self.dialect.writes})")
                if triples:
                    self.dialect.write_graph(self, stage, triples)
                staged[name] = stage
            if expect is not None and self.manifest() != dict(expect):
                raise BuildLocked(ANOTHER_WRITER)
            for name, (removed, added) in sorted(deltas.items()):
                say(f"changing <{name}>: {len(removed)} triples out, {len(added)} in")
            say(f"swapping {len(staged)} staged graph(s) in")
            swapping = True
            self.update(self._swap(plan, staged, deltas))
        except Exception as err:
            with contextlib.suppress(RemoteError):  # else the next push drops them
                self.drop_staging(prefix=f"{STAGING}{push_id}/")
            if not swapping:
                note = (" The remote store is unchanged: no live graph was touched"
                        f" ({len(staged)} of {len(set(plan.send) - set(deltas))} graph(s)"
                        " had been staged).")
            elif self.dialect.atomic_update:
                note = " The remote store is unchanged: it refused the update request whole."
            else:
                note = (f" {self.dialect.name} applies an update request's operations one by"
                        " one: the graphs this push changes may have changed, and are marked"
                        f" {PENDING!r} in the manifest until the next push sends them whole.")
            if isinstance(err, RemoteError | SparqlSyntaxError | QueryTimeout):
                raise RemoteError(f"push failed: {err}.{note}") from err
            raise

    def _swap(self, plan: PushPlan, staged: dict[str, str],
              deltas: dict[str, tuple[list[ox.Triple], list[ox.Triple]]]) -> str:
        """One update request: the manifest's entries of the graphs it changes marked
        PENDING first (a store that stops midway leaves them so, to be sent whole),
        staged graphs onto their live names, differences applied, gone graphs dropped,
        then, in one operation, the old entries replaced by the new."""
        push, identifier = ox.NamedNode(PUSH_GRAPH), ox.NamedNode(_IDENTIFIER)
        sent = sorted(set(staged) | set(deltas))
        changed = sorted((set(sent) | set(plan.drop)) & set(plan.remote))
        ops = []
        if changed:
            marks = " ".join(f"{ox.NamedNode(g)} {identifier} {ox.Literal(PENDING)} ."
                             for g in changed)
            ops.append(f"INSERT DATA {{ GRAPH {push} {{ {marks} }} }}")
        for name, stage in sorted(staged.items()):
            ops.append(f"DROP SILENT GRAPH {ox.NamedNode(name)}")
            if plan.send[name]:
                ops.append(f"MOVE SILENT GRAPH {ox.NamedNode(stage)} TO GRAPH "
                           f"{ox.NamedNode(name)}")
        for name, (removed, added) in sorted(deltas.items()):
            # one graph per DATA block: Virtuoso 7.2 keeps language-tagged literals that
            # a DELETE DATA naming several graphs removes
            for verb, triples in (("DELETE", removed), ("INSERT", added)):
                if triples:
                    ops.append(f"{verb} DATA {{ GRAPH {ox.NamedNode(name)} {{\n"
                               + "\n".join(f"{t.subject} {t.predicate} {t.object} ."
                                           for t in triples) + "\n} }")
        ops += [f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in plan.drop]
        count = ox.NamedNode(_TRIPLES)
        entries = "\n".join(
            f"{ox.NamedNode(g)} {identifier} {ox.Literal(plan.hashes[g][0])} ; {count} "
            f"{ox.Literal(str(plan.hashes[g][1]), datatype=ox.NamedNode(_INTEGER))} ."
            for g in sent)
        names = " ".join(str(ox.NamedNode(g)) for g in sorted(set(sent) | set(plan.drop)))
        ops.append(f"DELETE {{ GRAPH {push} {{ ?g ?p ?o }} }}\n"
                   f"INSERT {{ GRAPH {push} {{\n{entries}\n}} }}\n"
                   f"WHERE {{ VALUES ?g {{ {names} }}\n"
                   f"        OPTIONAL {{ GRAPH {push} {{ ?g ?p ?o }} }} }}")
        return " ;\n".join(ops)

    def _missed(self, plan: PushPlan) -> list[str]:
        """The graphs sent as differences that do not have the triple count they
        should now (the store held other triples than the copy they were taken from)."""
        missed = []
        for name in sorted(plan.delta):
            result = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                                bindings={"g": ox.NamedNode(name)}, default_graph=[],
                                named_graphs=[name])
            if [int(n) for n in result.values("n")] != [plan.hashes[name][1]]:
                missed.append(name)
        return missed

    def drop_staging(self, *, prefix: str = STAGING) -> list[str]:
        """Drop the staging graphs a failed or interrupted push left behind."""
        result = self.query(
            "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER STRSTARTS(STR(?g), ?prefix) } "
            "GROUP BY ?g",
            bindings={"prefix": ox.Literal(prefix)}, default_graph=[], named_graphs=[])
        left = sorted(result.values("g"))
        if left:
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in left))
        return left
