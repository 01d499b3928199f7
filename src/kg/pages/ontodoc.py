"""Ontology documentation: pyLODE documents the OWL ontology (classes, properties, their
labels and definitions); the SHACL shapes are documented beside it from the shapes file
(target, path, constraints, message), since pyLODE's profiles read OWL only.

The page is made once per content of ontology/ and cached in the store folder, so the
service and the static site serve a file rather than run pyLODE per request. A copy is
kept in the user's cache folder too ($XDG_CACHE_HOME/workflow-kg, by default
~/.cache/workflow-kg), named by the ontology's content and the code that made the page,
so that another store folder of the same ontology (a second checkout, a test's project)
takes the page rather than running pyLODE again (about a second).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

from ..namespaces import WF, shorten
from ..pipeline.project import Project

_SHAPE_FIELDS = ("minCount", "maxCount", "datatype", "class", "pattern", "minInclusive",
                 "maxInclusive", "languageIn", "in", "hasValue", "nodeKind", "lessThanOrEquals")


@dataclass
class PropertyRule:
    path: str
    constraints: list[str]
    message: str | None


@dataclass
class ShapeDoc:
    iri: str
    targets: list[str]
    rules: list[PropertyRule] = field(default_factory=list)
    sparql: list[str] = field(default_factory=list)  # messages of SPARQL constraints
    message: str | None = None


def _text(graph: Graph, node) -> str:
    if isinstance(node, URIRef):
        return shorten(str(node))
    items = list(graph.items(node)) if (node, RDF.first, None) in graph else None
    if items is not None:
        return "(" + " ".join(_text(graph, i) for i in items) + ")"
    return str(node)


def shape_docs(shapes: Graph) -> list[ShapeDoc]:
    """Each node shape: what it targets, and each property rule with its message."""
    docs = []
    for shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        targets = [f"{kind}: {_text(shapes, t)}" for kind, pred in
                   (("class", SH.targetClass), ("subjects of", SH.targetSubjectsOf),
                    ("objects of", SH.targetObjectsOf), ("node", SH.targetNode))
                   for t in shapes.objects(shape, pred)]
        doc = ShapeDoc(iri=str(shape), targets=targets,
                       message=next((str(m) for m in shapes.objects(shape, SH.message)), None))
        for prop in shapes.objects(shape, SH.property):
            path = next(shapes.objects(prop, SH.path), None)
            constraints = [f"{name} {_text(shapes, value)}" for name in _SHAPE_FIELDS
                           for value in shapes.objects(prop, SH[name])]
            if (prop, SH["or"], None) in shapes:
                constraints.append("or " + " | ".join(
                    " ".join(f"{p.split('#')[-1]} {_text(shapes, o)}" for p, o in
                             shapes.predicate_objects(alt))
                    for alt in shapes.items(next(shapes.objects(prop, SH["or"])))))
            message = next((str(m) for m in shapes.objects(prop, SH.message)), None)
            doc.rules.append(PropertyRule(_text(shapes, path) if path is not None else "?",
                                          constraints, message))
        doc.rules.sort(key=lambda r: r.path)
        for constraint in shapes.objects(shape, SH.sparql):
            doc.sparql.append(next((str(m) for m in shapes.objects(constraint, SH.message)),
                                   "SPARQL constraint"))
        docs.append(doc)
    return docs


@dataclass
class ValueDoc:
    local: str
    label: str
    label_zh: str
    definition: str


# The types of the terms the page documents itself (pyLODE's sections): any other term of
# our namespace is a value of one of our classes (a source kind, a metric, a result...).
_TERM_TYPES = {str(t) for t in (OWL.Class, RDFS.Class, OWL.ObjectProperty,
                                OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property,
                                OWL.Ontology)}


def value_docs(ontology: Graph) -> list[tuple[str, list[ValueDoc]]]:
    """The named values of our classes, by class (its English label): pages link every
    term of our namespace to `ontology#LocalName`, and pyLODE documents only classes and
    properties."""
    def text(node, pred, lang: str) -> str:
        found = [str(o) for o in ontology.objects(node, pred)
                 if getattr(o, "language", None) in (lang, None if lang == "en" else lang)]
        return min(found, default="")

    groups: dict[str, list[ValueDoc]] = {}
    for term in sorted({s for s in ontology.subjects(RDF.type, None)
                        if isinstance(s, URIRef) and str(s).startswith(str(WF))}, key=str):
        types = {str(t) for t in ontology.objects(term, RDF.type)}
        ours = sorted(t for t in types if t.startswith(str(WF)))
        if types & _TERM_TYPES or not (ours or str(SKOS.ConceptScheme) in types):
            continue
        name = (text(URIRef(ours[0]), RDFS.label, "en") or shorten(ours[0])) if ours \
            else "concept scheme"
        groups.setdefault(name, []).append(ValueDoc(
            str(term)[len(str(WF)):], text(term, RDFS.label, "en"), text(term, RDFS.label, "zh"),
            text(term, SKOS.definition, "en") or text(term, RDFS.comment, "en")))
    return sorted(groups.items())


def _inputs(project: Project) -> list[Path]:
    return sorted(project.ontology_dir.glob("*.ttl"))


_PAGE_FORMAT = b"3"  # raised when the page is made differently from the same ontology/


def content_hash(project: Project) -> str:
    digest = hashlib.sha256(_PAGE_FORMAT)
    for path in _inputs(project):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _anchor_local_names(html: str) -> str:
    """pyLODE anchors terms by their label; add an anchor by local name before each
    term's section so that links to `ontology#LocalName` land on it."""
    pattern = re.compile(r'(<div class="property[^"]*" id="([^"]*)">\s*<h3>.*?<code>'
                         + re.escape(str(WF)) + r'([A-Za-z0-9_-]+)</code>)', re.S)

    def add(match: re.Match) -> str:
        block, current, local = match.group(1), match.group(2), match.group(3)
        if current == local:
            return block
        return f'<span id="{local}"></span>' + block
    return pattern.sub(add, html)


_BLOCK = re.compile(r'(?:<span id="[^"]+"></span>)?<div class="property entity" id="')


def _ours_first(html: str) -> str:
    """Each term section of pyLODE's page (classes, properties) in a fixed order: the
    terms of this ontology first, then those it reuses (PROV, SKOS, ...), each by label
    (pyLODE lists them in the order of a set)."""
    ours: set[str] = set()
    for section in re.finditer(r'<div class="section" id="(classes|properties|objectproperties'
                               r'|datatypeproperties|annotationproperties|functionalproperties)">',
                               html):
        start = section.end()
        end = html.find('<div class="section"', start)
        end = len(html) if end < 0 else end
        body = html[start:end]
        starts = [m.start() for m in _BLOCK.finditer(body)]
        if len(starts) < 2:
            continue
        close = body.rfind("</div>")  # the section's own closing tag
        blocks = [body[a:b] for a, b in zip(starts, starts[1:] + [close], strict=True)]

        def key(block: str) -> tuple[bool, str]:
            title = re.search(r"<h3>(.*?)</h3>", block, re.S)
            text = re.sub(r"<[^>]+>", "", title.group(1)) if title else block
            return ("<code>" + str(WF) not in block, text.strip().casefold())
        for block in blocks:
            found = re.search(r'<div class="property entity" id="([^"]+)"', block)
            if found and "<code>" + str(WF) in block:
                ours.add(found.group(1))
        html = (html[:start] + body[:starts[0]] + "".join(sorted(blocks, key=key))
                + body[close:] + html[end:])

    def toc(match: re.Match) -> str:  # the table of contents in the same order
        items = re.findall(r"<li>.*?</li>", match.group(2), re.S)
        if not items:
            return match.group(0)

        def key(item: str) -> tuple[bool, str]:
            target = re.search(r'href="#([^"]+)"', item)
            return (not target or target.group(1) not in ours,
                    re.sub(r"<[^>]+>", "", item).strip().casefold())
        return match.group(1) + "\n".join(sorted(items, key=key)) + match.group(3)
    return re.sub(r'(<ul class="second">\s*)(.*?)(\s*</ul>)', toc, html, flags=re.S)


def _pylode():
    """pyLODE's OntPub, imported without the root logging set-up pyLODE does on import
    (which would print its debug lines, and asyncio's, under every later command)."""
    import logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    from pylode import OntPub

    root.setLevel(level)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    return OntPub


def generate(project: Project) -> str:
    """The ontology's documentation as one HTML page (pyLODE + shapes)."""
    from .render import render

    OntPub = _pylode()

    ontology = Graph()
    shapes = Graph()
    for path in _inputs(project):
        graph = Graph().parse(path, format="turtle")
        target = shapes if (None, RDF.type, SH.NodeShape) in graph else ontology
        target += graph
    values = value_docs(ontology)
    # pyLODE runs all labels of a term together ("workflow engine工作流引擎"): give it the
    # English label as the label and the Chinese one as an alternative label.
    for term, label in list(ontology.subject_objects(RDFS.label)):
        if getattr(label, "language", None) == "zh":
            ontology.remove((term, RDFS.label, label))
            ontology.add((term, SKOS.altLabel, label))
    # pyLODE takes every skos:ConceptScheme for an ontology of its own: it ran their
    # titles into the page's heading and named one of them as the ontology's IRI. The
    # schemes stay documented as classes' values; only the ontology is an ontology here.
    from rdflib.namespace import DCTERMS

    for scheme in list(ontology.subjects(RDF.type, SKOS.ConceptScheme)):
        if (scheme, RDF.type, OWL.Ontology) in ontology:
            continue
        ontology.remove((scheme, RDF.type, SKOS.ConceptScheme))
        for pred in (DCTERMS.title, RDFS.label, DCTERMS.description):
            ontology.remove((scheme, pred, None))
    html = _ours_first(_anchor_local_names(OntPub(ontology=ontology).make_html()))
    taken = set(re.findall(r'id="([^"]+)"', html))
    values = [(cls, [v for v in docs if v.local not in taken]) for cls, docs in values]
    shapes_html = render("values.html", groups=[g for g in values if g[1]]) + render(
        "shapes.html", shapes=shape_docs(shapes))
    html = html.replace("<body>", "<body>\n" + _NAV, 1)
    return html.replace("</body>", shapes_html + "\n</body>", 1)


_NAV = "<!-- workflow-kg navigation -->"


def ontology_html(project: Project, links) -> str:
    """The documentation page with the navigation bar of the service or the site."""
    from .render import render

    page = ontology_page(project).read_text(encoding="utf-8")
    return page.replace(_NAV, render("ontology_nav.html", links=links), 1)


def ontology_page(project: Project) -> Path:
    """The documentation file for the current ontology/, made if missing (or taken from
    the user's cache folder, see the module's docstring)."""
    folder = project.store_dir / "docs"
    key = content_hash(project)
    target = folder / f"ontology-{key}.html"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        shared = _shared_page(key)
        text = _read(shared)
        if text is None:
            text = generate(project)
            with contextlib.suppress(OSError):  # a cache folder it cannot write is no error
                _write_whole(shared, text)
        _write_whole(target, text)
        for old in folder.glob("ontology-*.html"):
            if old != target:
                old.unlink(missing_ok=True)
    return target


def _shared_page(key: str) -> Path:
    """The page's name in the user's cache folder: the ontology's content hash and a hash
    of what makes the page (this module, its templates, pyLODE's version)."""
    here = Path(__file__)
    maker = hashlib.sha256(here.read_bytes()
                           + (here.parent / "templates" / "shapes.html").read_bytes()
                           + (here.parent / "templates" / "values.html").read_bytes()
                           + metadata.version("pylode").encode()).hexdigest()[:12]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "workflow-kg" / "ontology-docs" / f"ontology-{key}-{maker}.html"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write_whole(path: Path, text: str) -> None:
    """Write `path` whole or not at all (another process may write it at the same time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".partial")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(partial, path)


__all__ = ["PropertyRule", "ShapeDoc", "content_hash", "generate", "ontology_html", "ontology_page",
           "shape_docs"]
