"""HTML for people: Jinja2 templates (autoescaped) shared by the HTTP service and the
static site, and the one function that turns a resource IRI into a link.

The service links by absolute path (`/resource/temporal`); the static site by relative
file path (`../resource/temporal.html`), so it opens from disk or any static host.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..namespaces import BASE, SRC, WF, WFR, shorten

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATUS_SYMBOLS = {"verified": "✓", "unverified": "?", "contradicted": "✗"}
# The only schemes a page renders as a link: anything else (javascript:, data:, file:,
# vbscript:, ...) is shown as text, so no stored IRI can run script when clicked.
SAFE_SCHEMES = ("http://", "https://", "mailto:", "doi:", "urn:")


def safe_url(url: str | None) -> str:
    """`url` if a reader may follow it (http(s), mailto, doi, urn, or a path of this
    site), else ""."""
    if not url:
        return ""
    text = str(url).strip()
    lowered = text.lower()
    if lowered.startswith(SAFE_SCHEMES):
        return text
    scheme = lowered.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if ":" in scheme:  # some other scheme
        return ""
    return text  # a relative path or an absolute path of this site


@dataclass(frozen=True)
class Links:
    """Where each page lives. `root` is the path from the current page to the site's
    root ("/" on the service, e.g. "../" in the static site); `suffix` is ".html" in the
    static site."""

    root: str = "/"
    suffix: str = ""
    static: bool = False

    def page(self, name: str) -> str:
        """A top-level page: home (""), search, graph, query, ontology, progress."""
        if not name:
            return self.root + ("index.html" if self.static else "")
        return f"{self.root}{name}{self.suffix}"

    def asset(self, name: str) -> str:
        return f"{self.root}static/{name}"

    def href(self, iri: str | None) -> str:
        """The page of a resource of this dataset, the IRI itself for others that a
        reader may follow (kg.render.safe_url), else ""."""
        if not iri:
            return ""
        if iri.startswith(str(WF)):
            return f"{self.page('ontology')}#{iri[len(str(WF)):]}"
        for ns, folder in ((str(WFR), "resource/"), (str(SRC), "source/")):
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{self.root}{folder}{page_path(iri[len(ns):])}{self.suffix}"
        return iri if iri.lower().startswith(SAFE_SCHEMES) else ""

    def instances(self, cls: str | None, **params: str) -> str:
        """The list of a class's instances (the sources' list for wf:Source)."""
        if not cls:
            return ""
        local = cls[len(str(WF)):] if cls.startswith(str(WF)) else shorten(cls)
        if local == "Source":
            target = f"{self.root}source/" + ("index.html" if self.static else "")
        else:
            target = f"{self.root}class/{page_path(local)}{self.suffix}"
        if params and not self.static:
            from urllib.parse import urlencode

            query = urlencode({k: v for k, v in params.items() if v})
            return target + (f"?{query}" if query else "")
        return target

    def is_local(self, iri: str | None) -> bool:
        return bool(iri) and iri.startswith(BASE)

    def graph(self, **params: str) -> str:
        """The graph page, e.g. graph(focus=IRI, depth="2"); the static site has the
        whole graph only (each resource page draws its own neighbourhood)."""
        if self.static:
            return self.root + "graph.html"
        from urllib.parse import urlencode

        query = urlencode({k: v for k, v in params.items() if v})
        return f"{self.root}graph" + (f"?{query}" if query else "")


STATUS_IRIS = {str(WF.Verified): "verified", str(WF.Unverified): "unverified",
               str(WF.Contradicted): "contradicted"}
_KEYISH = __import__("re").compile(r"[A-Za-z][A-Za-z0-9_:.-]*[A-Za-z0-9]")


def key_parts(text: str, keys: dict[str, str]) -> list[tuple[str, str | None]]:
    """`text` split into (piece, source IRI or None): each citation key of `keys` that
    the text names becomes a piece of its own, to be linked to its source."""
    if not keys:
        return [(text, None)]
    parts: list[tuple[str, str | None]] = []
    last = 0
    for match in _KEYISH.finditer(text):
        iri = keys.get(match.group(0))
        if iri is None:
            continue
        if match.start() > last:
            parts.append((text[last:match.start()], None))
        parts.append((match.group(0), iri))
        last = match.end()
    if last < len(text):
        parts.append((text[last:], None))
    return parts


def page_path(local: str) -> str:
    """A local name as a path safe for URLs and file systems (keeps '/')."""
    from urllib.parse import quote

    return quote(local, safe="/-_.~")


def anchor(iri: str) -> str:
    """An element id made from an IRI's local name: a link and its target that both use
    it agree whatever else a list holds (a position in a list would not)."""
    local = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_-]", "-", local) or "x"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html", "xml"], default=True),
                      trim_blocks=True, lstrip_blocks=True)

    env.filters["script_json"] = script_json
    env.filters["curie"] = shorten
    env.filters["anchor"] = anchor
    env.filters["safe_url"] = safe_url
    env.filters["key_parts"] = key_parts
    env.globals["STATUS_IRIS"] = STATUS_IRIS
    env.globals["STATUS_SYMBOLS"] = STATUS_SYMBOLS
    from .messages import t, zh

    env.globals["t"] = t
    env.globals["zh"] = zh
    return env


_ENV: Environment | None = None


def _environment() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = environment()
    return _ENV


def render(template: str, **context) -> str:
    context.setdefault("links", Links())
    return _environment().get_template(template).render(**context)


def compile_templates() -> None:
    """Compile every page template ahead of its first page (the home page's first render
    is about 40 ms of compiling, a repeat 2 ms); Jinja keeps them compiled."""
    env = _environment()
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)


def script_json(value) -> str:
    """JSON safe to place inside a <script> element: no '<', '>' or '&' survives, so a
    label such as '</script><script>alert(1)</script>' stays text."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


__all__ = ["SAFE_SCHEMES", "STATIC", "TEMPLATES", "Links", "page_path", "render", "safe_url",
           "script_json"]
