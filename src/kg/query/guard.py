"""Query safety: what a SPARQL request may do before it reaches a store, and the limits
it runs under.

pyoxigraph executes `SERVICE` over HTTP by itself, so the check must happen on the text
before execution. The text is tokenised the way Oxigraph's grammar reads it (strings,
comments, IRIs, variables and blank-node labels are lexed exactly; a keyword may touch
the token before or after it, as a PEG parser allows). Every other token that contains
a guarded keyword (SERVICE, LOAD) is either exactly that keyword, or the query is
refused as ambiguous: when in doubt, refuse.

>>> check_query("SELECT * { ?s ?p ?o } # SERVICE <http://example.org/> in a comment")
Checked(services=(), from_graphs=(), from_named=(), costly=False)
>>> check_query("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
Traceback (most recent call last):
...
kg.errors.Refused: SERVICE <http://example.org/sparql> is not allowed (allowed: none)
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import QueryError, Refused

DEFAULT_TIME_LIMIT = 10.0  # seconds per query
DEFAULT_MAX_ROWS = 10_000  # solutions or triples per answer
DEFAULT_MAX_RESULT_BYTES = 50_000_000
DEFAULT_MAX_BODY_BYTES = 1_000_000
MAX_NESTING = 100  # groups, brackets and parentheses inside each other
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_iri(iri: str) -> str:
    """An http(s) IRI in the form a server reads it: scheme and host in lower case, the
    default port dropped, percent-encoded dots decoded and dot segments removed
    (RFC 3986, section 6.2.2)."""
    parts = urllib.parse.urlsplit(iri)
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port if parts.port != DEFAULT_PORTS.get(scheme) else None
    except ValueError:
        raise QueryError(f"<{iri}> has no valid port (0 to 65535)") from None
    netloc = host + (f":{port}" if port is not None else "")
    path = re.sub("%2e", ".", parts.path, flags=re.IGNORECASE)
    if path:
        trailing = path.endswith(("/", "/.", "/.."))
        path = posixpath.normpath(path).replace("//", "/") + ("/" if trailing else "")
        path = "/" + path.lstrip("/") if path != "/" else path
    return urllib.parse.urlunsplit((scheme, netloc, path, parts.query, parts.fragment))


@dataclass(frozen=True)
class Policy:
    """What the service allows. `service_allow` lists SERVICE endpoints: an entry matches
    an IRI equal to it, or starting with it when the entry ends with '/'."""

    time_limit: float = DEFAULT_TIME_LIMIT
    max_rows: int = DEFAULT_MAX_ROWS
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    service_allow: tuple[str, ...] = ()
    update_token: str | None = None
    token_name: str = "update-token"  # who updates with the token, in the history
    allow_drop: bool = False  # remove whole graphs without confirm=drop (a scratch store)

    @property
    def writable(self) -> bool:
        return bool(self.update_token)

    def allows_service(self, iri: str) -> bool:
        """Whether `iri` (already in normal form, see normalise_iri) is allowed: same
        scheme, host and port as an entry, and the same path, or a path below an entry
        ending with '/' (whole segments, after the entry's own normalisation)."""
        target = urllib.parse.urlsplit(iri)
        if target.username is not None or target.password is not None:
            return False
        for entry in self.service_allow:
            norm = normalise_iri(entry)
            if iri == norm:
                return True
            allowed = urllib.parse.urlsplit(norm)
            if (norm.endswith("/") and not allowed.query
                    and (target.scheme, target.netloc) == (allowed.scheme, allowed.netloc)
                    and target.path.startswith(allowed.path)):
                return True
        return False


@dataclass(frozen=True)
class Checked:
    """What a query asks for beyond the local data: SERVICE endpoints (all allowed) and
    the dataset named by FROM / FROM NAMED (or USING / USING NAMED in an update), and
    whether it looks costly (see estimate_costly)."""

    services: tuple[str, ...] = ()
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()
    costly: bool = False

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named)


@dataclass(frozen=True)
class Token:
    kind: str  # iri, string, var, bnode, pname, word, number, punct
    text: str
    start: int


_HEX = r"[0-9A-Fa-f]"
_IRI = re.compile(rf'<((?:[^<>"{{}}|^`\\\x00-\x20]|\\u{_HEX}{{4}}|\\U{_HEX}{{8}})*)>')
_ECHAR = r"""\\[tbnrf"'\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"""
_STRINGS = [
    re.compile(rf'"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}))*"""'),
    re.compile(rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*'''"),
    re.compile(rf'"(?:[^"\\\n\r]|{_ECHAR})*"'),
    re.compile(rf"'(?:[^'\\\n\r]|{_ECHAR})*'"),
]
_NAME_CHARS = r"[\w\-.\u00B7]"
_VAR = re.compile(r"[?$]\w*")
_BNODE = re.compile(rf"_:{_NAME_CHARS}*")
_PNAME = re.compile(rf"(?:[^\W\d_]{_NAME_CHARS}*)?:(?:[\w\-.:%\\\u00B7]|\\.)*")
_WORD = re.compile(r"[^\W\d]\w*")
_NUMBER = re.compile(r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+")
_LANG = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*")


def tokens(text: str) -> Iterator[Token]:
    """SPARQL tokens, comments and whitespace dropped. Raises Refused on text that no
    SPARQL lexer could read (an unterminated string), since its meaning is unclear."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "#":
            end = re.compile(r"[\r\n]").search(text, i)
            i = end.start() if end else n
            continue
        match = None
        kind = ""
        if c == "<":
            match, kind = _IRI.match(text, i), "iri"
        elif c in "\"'":
            for pattern in _STRINGS:
                match = pattern.match(text, i)
                if match:
                    break
            if match is None:
                raise Refused(f"cannot read the string starting at character {i}")
            kind = "string"
        elif c in "?$":
            match, kind = _VAR.match(text, i), "var"
        elif c == "@":
            match, kind = _LANG.match(text, i), "lang"
        elif text.startswith("_:", i):
            match, kind = _BNODE.match(text, i), "bnode"
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            match, kind = _NUMBER.match(text, i), "number"
        if match is None and (c.isalpha() or c == ":"):
            match, kind = _PNAME.match(text, i), "pname"
            if match is None or ":" not in match.group(0):
                match, kind = _WORD.match(text, i), "word"
        if match is None or match.end() == i:
            yield Token("punct", c, i)
            i += 1
            continue
        value = match.group(0)
        if kind == "pname":
            value = value.rstrip(".")  # a local name never ends with '.'
        yield Token(kind, value, i)
        i += len(value)


def _unescape_iri(text: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})",
                  lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _hits(token: Token, keyword: str) -> bool:
    """Whether a token could hide `keyword` from a PEG parser: any word, number or
    prefix part of a prefixed name that contains it."""
    if token.kind not in ("word", "pname", "number", "punct"):
        return False
    part = token.text.split(":", 1)[0] if token.kind == "pname" else token.text
    return keyword in part.lower()


def _iri_after(toks: list[Token], at: int) -> str | None:
    """The full IRI written at toks[at], or None if it is anything else."""
    if at < len(toks) and toks[at].kind == "iri":
        return _unescape_iri(toks[at].text[1:-1])
    return None


def _prefixes(toks: list[Token]) -> dict[str, str]:
    """The PREFIX declarations of a request over the project's own prefixes."""
    from ..namespaces import PREFIXES

    declared = dict(PREFIXES)
    for i, tok in enumerate(toks[:-2]):
        if (tok.kind == "word" and tok.text.upper() == "PREFIX" and toks[i + 1].kind == "pname"
                and toks[i + 2].kind == "iri"):
            declared[toks[i + 1].text.rstrip(":")] = _unescape_iri(toks[i + 2].text[1:-1])
    return declared


def _dataset(toks: list[Token], at: int, prefixes: dict[str, str]) -> tuple[bool, str]:
    """The graph a FROM / USING clause names (NAMED or not), whether written as <IRI> or
    as a prefixed name; a clause that names no graph is an error, never ignored."""
    named = at < len(toks) and toks[at].kind == "word" and toks[at].text.upper() == "NAMED"
    at += named
    iri = _iri_after(toks, at)
    if iri is None and at < len(toks) and toks[at].kind == "pname":
        prefix, _, local = toks[at].text.partition(":")
        if prefix not in prefixes:
            raise QueryError(f"unknown prefix '{prefix}:' in {toks[at].text}")
        iri = prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
    if iri is None:
        found = toks[at].text if at < len(toks) else "the end"
        raise QueryError(f"a dataset clause needs a graph IRI, found {found!r}")
    return named, iri


def _nesting(toks: list[Token]) -> None:
    depth = 0
    for tok in toks:
        if tok.kind == "punct" and tok.text in "{([":
            depth += 1
            if depth > MAX_NESTING:
                raise Refused(f"the request nests groups more than {MAX_NESTING} deep "
                              f"(at character {tok.start})")
        elif tok.kind == "punct" and tok.text in "})]":
            depth -= 1


# Text that may skip the tokenizer: ASCII with no escape, short, with too few brackets to
# nest past the limit, and naming none of the guarded keywords anywhere (not even inside
# a string or an IRI): no token of it can be, or hide, SERVICE, LOAD, FROM or USING.
_FAST_MAX_CHARS = 4000
_GUARDED = ("service", "load", "from", "using")
# a triple pattern whose three terms are variables: a scan of the whole store
_SCAN = re.compile(r"(?<![\w?$])[?$]\w+\s+[?$]\w+\s+[?$]\w+\s*(?:[.}]|$)")


def estimate_costly(text: str) -> bool:
    """The guard's cost estimate: a query that joins two or more whole-store scans
    (triple patterns of three variables) is costly; anything else is taken as cheap
    until its run says otherwise (see kg.workers)."""
    body = text[text.find("{"):] if "{" in text else ""
    return body.count("?") + body.count("$") >= 6 and len(_SCAN.findall(body)) >= 2


def plain(text: str) -> bool:
    """Whether the guard can clear `text` without tokenising it (see _GUARDED): then
    check_query costs microseconds."""
    if len(text) > _FAST_MAX_CHARS or not text.isascii() or "\\" in text:
        return False
    lower = text.lower()
    return (not any(word in lower for word in _GUARDED)
            and text.count("{") + text.count("(") + text.count("[") <= MAX_NESTING)


def _check(text: str, policy: Policy, *, update: bool) -> Checked:
    if plain(text):
        return Checked(costly=estimate_costly(text))
    toks = list(tokens(text))
    _nesting(toks)
    prefixes = _prefixes(toks)
    services: list[str] = []
    from_graphs: list[str] = []
    from_named: list[str] = []
    for i, tok in enumerate(toks):
        upper = tok.text.upper()
        if tok.kind == "word" and upper == "SERVICE":
            at = i + 1
            if at < len(toks) and toks[at].kind == "word" and toks[at].text.upper() == "SILENT":
                at += 1
            iri = _iri_after(toks, at)
            if iri is None:
                raise Refused("SERVICE needs a literal endpoint IRI written as <...> "
                              "(a variable or prefixed name cannot be checked)")
            if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", iri):
                raise Refused(f"SERVICE <{iri}> is not an absolute IRI")
            if re.match(r"(?i)https?:", iri) and normalise_iri(iri) != iri:
                raise Refused(f"SERVICE <{iri}> is not in normal form: write it as "
                              f"<{normalise_iri(iri)}>")
            if not policy.allows_service(iri):
                allowed = ", ".join(policy.service_allow) or "none"
                raise Refused(f"SERVICE <{iri}> is not allowed (allowed: {allowed})")
            services.append(iri)
        elif _hits(tok, "service"):
            raise Refused(f"'{tok.text}' at character {tok.start} could be read as "
                          "SERVICE; write keywords apart from other tokens")
        if update and _hits(tok, "load"):
            raise Refused("LOAD is not allowed: the service never fetches remote data")
        if tok.kind == "word" and upper in ("FROM", "USING"):
            named, iri = _dataset(toks, i + 1, prefixes)
            if iri.lower().startswith("file:"):
                raise Refused(f"{upper} <{iri}>: local-file graphs are never read")
            (from_named if named else from_graphs).append(iri)
    checked = Checked(tuple(services), tuple(from_graphs), tuple(from_named),
                      costly=estimate_costly(text))
    if any(t.kind == "word" and t.text.upper() in _CLAUSES for t in toks):
        _agree(checked, parsed(text, update=update))
    return checked


_CLAUSES = {"FROM", "USING", "SERVICE", "LOAD"}


@dataclass(frozen=True)
class Parsed:
    """What a SPARQL parser reads in a request: SERVICE endpoints (None: a variable),
    dataset graphs (FROM / USING, NAMED or not), and whether it has a LOAD."""

    services: frozenset[str | None]
    from_graphs: frozenset[str]
    from_named: frozenset[str]
    load: bool


def parsed(text: str, *, update: bool) -> Parsed | None:
    """Read a request with rdflib's SPARQL 1.1 parser and algebra (prefixed names
    resolved as the store resolves them). None when rdflib cannot read it (syntax it does
    not know, nesting deeper than its recursion allows): then the tokenizer's reading
    stands, which refuses whatever it cannot read exactly."""
    from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate, traverse
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
    from rdflib.plugins.sparql.parserutils import CompValue

    from ..namespaces import PREFIXES

    try:
        if update:
            roots = list(translateUpdate(parseUpdate(text), initNs=PREFIXES).algebra)
        else:
            roots = [translateQuery(parseQuery(text), initNs=PREFIXES).algebra]
    except Exception:  # noqa: BLE001 - any failure of the second reader means "cannot read"
        return None
    services: set[str | None] = set()
    graphs: set[str] = set()
    named: set[str] = set()
    load = False

    def visit(node: object) -> None:
        nonlocal load
        if not isinstance(node, CompValue):
            return
        if node.name == "ServiceGraphPattern":
            services.add(str(node.term) if node.term.__class__.__name__ == "URIRef" else None)
        elif node.name == "Load":
            load = True
        clauses = [c for key in ("datasetClause", "using")
                   if key in node and isinstance(node[key], list) for c in node[key]]
        for clause in clauses:
            if "default" in clause:
                graphs.add(str(clause["default"]))
            if "named" in clause:
                named.add(str(clause["named"]))

    for root in roots:
        try:
            traverse(root, visit)
        except RecursionError:
            return None
    return Parsed(frozenset(services), frozenset(graphs), frozenset(named), load)


def _agree(checked: Checked, reading: Parsed | None) -> None:
    """Refuse a request the parser reads differently from the tokenizer: no spelling of
    a SERVICE, LOAD or dataset clause may slip between them."""
    if reading is None:
        return
    if reading.load:
        raise Refused("LOAD is not allowed: the service never fetches remote data")
    if reading.services - set(checked.services):
        raise Refused("the request calls a SERVICE that could not be checked")
    if (reading.from_graphs, reading.from_named) != (frozenset(checked.from_graphs),
                                                     frozenset(checked.from_named)):
        raise Refused("the request's dataset clauses (FROM / USING) read two ways; "
                      "write each as FROM <IRI> or FROM prefix:name")


def check_query(text: str, policy: Policy | None = None) -> Checked:
    """Refuse a query that would call a SERVICE not in the allow-list; return the
    endpoints and the FROM / FROM NAMED graphs it names."""
    return _check(text, policy or Policy(), update=False)


def check_update(text: str, policy: Policy | None = None) -> Checked:
    """As check_query, and refuse LOAD (the service never fetches data)."""
    return _check(text, policy or Policy(), update=True)


def check_body_size(size: int | None, policy: Policy) -> None:
    from ..errors import RequestTooLarge

    if size is not None and size > policy.max_body_bytes:
        raise RequestTooLarge(f"the request body has {size} bytes; the limit is "
                              f"{policy.max_body_bytes}")
