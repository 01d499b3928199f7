"""HTML for people: Jinja2 templates (autoescaped) shared by the HTTP service and the
static site, and the one function that turns a resource IRI into a link.

The service links by absolute path (`/resource/temporal`); the static site by relative
file path (`../resource/temporal.html`), so it opens from disk or any static host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..namespaces import BASE, SRC, WF, WFR, shorten

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATUS_SYMBOLS = {"verified": "✓", "unverified": "?", "contradicted": "✗"}


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
        """The page of a resource of this dataset, or the IRI itself for others."""
        if not iri:
            return ""
        if iri.startswith(str(WF)):
            return f"{self.page('ontology')}#{iri[len(str(WF)):]}"
        for ns, folder in ((str(WFR), "resource/"), (str(SRC), "source/")):
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{self.root}{folder}{page_path(iri[len(ns):])}{self.suffix}"
        return iri

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


def page_path(local: str) -> str:
    """A local name as a path safe for URLs and file systems (keeps '/')."""
    from urllib.parse import quote

    return quote(local, safe="/-_.~")


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html", "xml"], default=True),
                      trim_blocks=True, lstrip_blocks=True)

    env.filters["script_json"] = script_json
    env.filters["curie"] = shorten
    env.globals["STATUS_SYMBOLS"] = STATUS_SYMBOLS
    return env


_ENV: Environment | None = None


def render(template: str, **context) -> str:
    global _ENV
    if _ENV is None:
        _ENV = environment()
    context.setdefault("links", Links())
    return _ENV.get_template(template).render(**context)


def script_json(value) -> str:
    """JSON safe to place inside a <script> element: no '<', '>' or '&' survives, so a
    label such as '</script><script>alert(1)</script>' stays text."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


__all__ = ["STATIC", "TEMPLATES", "Links", "page_path", "render", "script_json"]
