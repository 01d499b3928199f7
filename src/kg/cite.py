"""Citation export: the sources behind an entity or a query answer, as BibTeX or
CSL-JSON, keyed by the sources' stable citation keys."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from .namespaces import WF, expand
from .results import QueryResult

# Sources behind the given resources: facts naming them, and their defining references.
_SOURCES = """
SELECT DISTINCT ?source WHERE {
  {
    ?fact rdf:subject|rdf:object|wf:organisation|wf:system|wf:backend|wf:verifiesProperty
          |wf:formalism|wf:tool|wf:usesTechnology|wf:caseStudy ?entity ;
          cito:citesAsEvidence ?source .
  } UNION {
    ?entity cito:citesAsEvidence|rdfs:seeAlso ?source . BIND (?entity AS ?fact)
  } UNION {
    ?entity a wf:Source . BIND (?entity AS ?source)
  }
}"""
# The same, leaving out the sources of facts that are not Verified (the verified view).
_VERIFIED_SOURCES = _SOURCES[:_SOURCES.rindex("}")] + """  FILTER (!BOUND(?fact) || NOT EXISTS {
    ?fact wf:evidenceStatus ?status FILTER (?status != wf:Verified) })
}"""

_FIELDS = """
SELECT ?source ?key ?title ?kind ?authors ?publisher ?venue ?issued ?url ?doi ?accessed WHERE {
  ?source wf:citationKey ?key ; dcterms:title ?title ; wf:sourceKind ?fineKind .
  OPTIONAL { ?fineKind skos:broader ?broaderKind }  # e.g. wf:JournalArticle -> wf:Paper
  BIND (COALESCE(?broaderKind, ?fineKind) AS ?kind)
  OPTIONAL { ?source wf:authors ?authors }
  OPTIONAL { ?source dcterms:publisher ?publisher }
  OPTIONAL { ?source wf:venue ?venue }
  OPTIONAL { ?source dcterms:issued ?issued }
  OPTIONAL { ?source schema:url ?url }
  OPTIONAL { ?source bibo:doi ?doi }
  OPTIONAL { ?source wf:accessed ?accessed }
}"""

_CSL_TYPES = {"Paper": "article-journal", "Book": "book", "Documentation": "webpage",
              "BlogPost": "post-weblog", "Talk": "speech", "CoursePage": "webpage",
              "Repository": "software", "ResearchPlanDocument": "report"}
_PROCEEDINGS = re.compile(r"(?i)proceedings|conference|symposium|workshop|\b(CAV|TACAS|"
                          r"PODC|SOSP|OSDI|NSDI|FM|CONCUR|POPL|PLDI|SPIN)\b")


@dataclass(frozen=True)
class Reference:
    """A source's bibliographic record as stored in the graph."""

    key: str
    title: str
    kind: str  # local name of the wf:SourceKind, e.g. Paper
    authors: str | None = None
    publisher: str | None = None
    venue: str | None = None
    issued: str | None = None
    url: str | None = None
    doi: str | None = None
    accessed: str | None = None

    @property
    def is_proceedings(self) -> bool:
        return self.kind == "Paper" and bool(self.venue and _PROCEEDINGS.search(self.venue))


def references(store, iris: Iterable[str], *, verified_only: bool = False
               ) -> list[Reference]:
    """The sources behind the given resources, sorted by citation key; with
    `verified_only`, only those behind Verified facts."""
    found: set[str] = set()
    text = _VERIFIED_SOURCES if verified_only else _SOURCES
    for iri in iris:
        result = store.query(text, bindings={"entity": ox.NamedNode(iri)})
        found.update(result.values("source"))
    if not found:
        return []
    refs = []
    for row in store.query(_FIELDS).rows():
        if row["source"].value not in found:
            continue
        value = {k: t.value for k, t in row.items()}
        refs.append(Reference(
            key=value["key"], title=value["title"],
            kind=value["kind"].removeprefix(str(WF)), authors=value.get("authors"),
            publisher=value.get("publisher"), venue=value.get("venue"),
            issued=value.get("issued"), url=value.get("url"), doi=value.get("doi"),
            accessed=value.get("accessed")))
    return sorted(refs, key=lambda r: r.key)


def resources_in(result: QueryResult) -> list[str]:
    """Every IRI that appears in a query answer (the resources whose evidence to cite)."""
    iris: list[str] = []
    if result.kind == "graph":
        terms = [t for triple in result.triples()
                 for t in (triple.subject, triple.predicate, triple.object)]
    else:
        terms = [t for row in result.rows() for t in row.values()]
    for term in terms:
        if isinstance(term, ox.NamedNode) and term.value not in iris:
            iris.append(term.value)
    return iris


def resolve(names: Iterable[str]) -> list[str]:
    return [expand(name) for name in names]


# --------------------------------------------------------------------- BibTeX

def _bibtex_escape(text: str) -> str:
    return re.sub(r"([&%$#_])", r"\\\1", text).replace("~", r"\textasciitilde{}")


def _date_parts(issued: str | None) -> list[int]:
    if not issued:
        return []
    return [int(p) for p in issued.split("T")[0].split("-") if p.isdigit()][:3]


def to_bibtex(refs: Iterable[Reference]) -> str:
    months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
              "dec"]
    entries = []
    for ref in refs:
        if ref.kind == "Book":
            entry_type = "book"
        elif ref.kind == "Paper":
            entry_type = "inproceedings" if ref.is_proceedings else "article"
        else:
            entry_type = "misc"
        fields: list[tuple[str, str]] = [("title", "{" + _bibtex_escape(ref.title) + "}")]
        if ref.authors:
            fields.append(("author", _bibtex_escape(ref.authors)))
        elif ref.publisher:
            fields.append(("author", "{" + _bibtex_escape(ref.publisher) + "}"))
        if ref.venue:
            venue_field = {"article": "journal", "inproceedings": "booktitle"}.get(
                entry_type, "howpublished")
            fields.append((venue_field, _bibtex_escape(ref.venue)))
        if ref.publisher and (ref.authors or entry_type == "book"):
            fields.append(("publisher", _bibtex_escape(ref.publisher)))
        parts = _date_parts(ref.issued)
        if parts:
            fields.append(("year", str(parts[0])))
        if len(parts) > 1:
            fields.append(("month", months[parts[1] - 1]))
        if ref.doi:
            fields.append(("doi", ref.doi))
        if ref.url:
            fields.append(("url", ref.url))
        if ref.accessed:
            fields.append(("urldate", ref.accessed))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@{entry_type}{{{ref.key},\n{body}\n}}\n")
    return "\n".join(entries)


# --------------------------------------------------------------------- CSL-JSON

def _csl_names(ref: Reference) -> list[dict[str, str]]:
    if not ref.authors:
        return [{"literal": ref.publisher}] if ref.publisher else []
    names = []
    for name in re.split(r"\s+and\s+", ref.authors.strip()):
        if "," in name:
            family, given = (part.strip() for part in name.split(",", 1))
            names.append({"family": family, "given": given})
        else:
            names.append({"literal": name.strip()})
    return names


def to_csl(refs: Iterable[Reference]) -> list[dict]:
    items = []
    for ref in refs:
        item: dict = {"id": ref.key, "type": _CSL_TYPES.get(ref.kind, "document"),
                      "title": ref.title}
        if ref.is_proceedings:
            item["type"] = "paper-conference"
        if names := _csl_names(ref):
            item["author"] = names
        if ref.venue:
            item["container-title"] = ref.venue
        if ref.publisher:
            item["publisher"] = ref.publisher
        if parts := _date_parts(ref.issued):
            item["issued"] = {"date-parts": [parts]}
        if parts := _date_parts(ref.accessed):
            item["accessed"] = {"date-parts": [parts]}
        if ref.doi:
            item["DOI"] = ref.doi
        if ref.url:
            item["URL"] = ref.url
        items.append(item)
    return items


def to_csl_json(refs: Iterable[Reference]) -> str:
    return json.dumps(to_csl(refs), indent=2, ensure_ascii=False) + "\n"
