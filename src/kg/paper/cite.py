"""Citation export: exactly the sources behind an entity or a query answer, each marked
as supporting or disputing the facts it is cited for, written as BibTeX (pybtex),
CSL-JSON, RIS (rispy) or a formatted reference list (citeproc-py with the CSL styles
vendored in `kg/styles`). Keys are the data's own `wf:citationKey`s.

>>> from kg import KnowledgeGraph                                   # doctest: +SKIP
>>> entries = KnowledgeGraph().citations(["wfr:temporal"])          # doctest: +SKIP
>>> print(to_text(entries, style="gb7714"))                         # doctest: +SKIP
"""

from __future__ import annotations

import copy
import functools
import json
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyoxigraph as ox

from ..errors import StoreNotBuilt
from ..namespaces import WF, expand, shorten
from ..query.queries import values_block
from ..query.results import QueryResult
from ..query.terms import check_known

STYLES_DIR = Path(__file__).resolve().parent / "styles"
STYLES = {"apa": "apa.csl", "ieee": "ieee.csl",
          "gb7714": "china-national-standard-gb-t-7714-2015-numeric.csl"}
FORMATS = ("biblatex", "bibtex", "csl-json", "ris", "text")
MEDIA_TYPES = {"biblatex": "application/x-bibtex", "bibtex": "application/x-bibtex",
               "csl-json": "application/vnd.citationstyles.csl+json",
               "ris": "application/x-research-info-systems", "text": "text/plain"}
SUFFIXES = {"biblatex": ".bib", "bibtex": ".bib", "csl-json": ".json", "ris": ".ris",
            "text": ".txt"}
SUPPORTS, DISPUTES = "cito:citesAsEvidence", "cito:disputes"
BACKGROUND = "cito:citesForInformation"  # cited by a Contradicted fact, not contradicting it

# Source kind -> (BibTeX/BibLaTeX entry type, CSL type, RIS type). Finer kinds first; a
# kind not listed falls back to its skos:broader kind, then to misc/document/GEN.
TYPES: dict[str, tuple[str, str, str]] = {
    "JournalArticle": ("article", "article-journal", "JOUR"),
    "ConferencePaper": ("inproceedings", "paper-conference", "CONF"),
    "Thesis": ("phdthesis", "thesis", "THES"),
    "TechnicalReport": ("techreport", "report", "RPRT"),
    "BookChapter": ("incollection", "chapter", "CHAP"),
    "Preprint": ("misc", "article", "UNPB"),
    "Paper": ("article", "article-journal", "JOUR"),
    "Book": ("book", "book", "BOOK"),
    "Documentation": ("online", "webpage", "ELEC"),
    "CoursePage": ("online", "webpage", "ELEC"),
    "BlogPost": ("online", "post-weblog", "BLOG"),
    "Talk": ("misc", "speech", "SLIDE"),
    "Software": ("software", "software", "COMP"),
    "Repository": ("software", "software", "COMP"),
    "ResearchPlanDocument": ("misc", "report", "RPRT"),
    "ProgrammeArtefact": ("misc", "dataset", "DATA"),
    "Dataset": ("misc", "dataset", "DATA"),
}
_PROCEEDINGS = re.compile(r"(?i)proceedings|conference|symposium|workshop|\b(CAV|TACAS|"
                          r"PODC|SOSP|OSDI|NSDI|FM|CONCUR|POPL|PLDI|SPIN)\b")
_CJK = re.compile(r"[\u3400-\u9fff]")
ETAL, ETAL_CJK = "et al.", "等"


@dataclass(frozen=True)
class Reference:
    """A source's bibliographic record as stored in the graph (fields the data does not
    give are None)."""

    key: str
    title: str
    kind: str  # local name of the wf:SourceKind, e.g. JournalArticle
    broader: str | None = None  # local name of its skos:broader kind, e.g. Paper
    authors: str | None = None  # "Last, First and Last, First"
    publisher: str | None = None
    venue: str | None = None
    series: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    issued: str | None = None
    url: str | None = None
    doi: str | None = None
    accessed: str | None = None
    version: str | None = None
    note: str | None = None
    iri: str | None = None
    path: str | None = None  # a repository artefact's path (wf:repositoryPath)
    content_hash: str | None = None  # and its hash (wf:contentHash)

    @property
    def remark(self) -> str | None:
        """The note, or where a repository artefact is and its hash."""
        if self.path:
            return f"{self.path} ({self.content_hash or 'no content hash'})"
        return self.note

    @property
    def types(self) -> tuple[str, str, str]:
        """(BibTeX type, CSL type, RIS type)."""
        if self.kind == "Paper" and self.venue and _PROCEEDINGS.search(self.venue):
            return TYPES["ConferencePaper"]
        for kind in (self.kind, self.broader):
            if kind in TYPES:
                return TYPES[kind]
        return ("misc", "document", "GEN")

    @property
    def author_names(self) -> list[str]:
        """The authors as written ("Last, First"; an organisation whole), "others" last
        when the data lists only the first authors."""
        if not self.authors:
            return []
        return [n.strip() for n in re.split(r"\s+and\s+", self.authors.strip()) if n.strip()]

    @property
    def et_al(self) -> bool:
        """True when the data names only the first authors ("... and others")."""
        return bool(self.author_names) and self.author_names[-1].lower() == "others"

    @property
    def names(self) -> list[dict[str, str]]:
        """Authors as CSL names; an organisation (the publisher, when no person is
        named) as one literal name. "and others" is not a name: CSL has no way to say
        et al. in the data, so the known authors are given and `et_al` is set."""
        if not self.authors:
            return [{"literal": self.publisher}] if self.publisher else []
        names = []
        for name in self.author_names:
            if name.lower() == "others":
                continue
            if "," in name:
                family, given = (part.strip() for part in name.split(",", 1))
                if _CJK.search(family + given):  # Chinese names: family then given, no space
                    names.append({"literal": family + given})
                else:
                    names.append({"family": family, "given": given})
            else:
                names.append({"literal": name.strip()})
        return names

    @property
    def publisher_shown(self) -> str | None:
        """The publisher, unless it already stands as the (organisation) author of a web
        page or repository, where styles would print it twice."""
        if self.authors or self.types[0] not in ("online", "misc", "software"):
            return self.publisher
        return None


@dataclass(frozen=True)
class Entry:
    """One source to cite, with the facts it is evidence for and against."""

    reference: Reference
    supports: tuple[str, ...] = ()  # IRIs of facts the source backs
    disputes: tuple[str, ...] = ()  # IRIs of facts the source contradicts (wf:contradictedBy)
    # IRIs of Contradicted facts that cite the source without it being the contradicting
    # one: background, or evidence for what the sources state instead
    background: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.reference.key

    @property
    def relations(self) -> list[str]:
        """CiTO relations: cito:citesAsEvidence, cito:disputes, cito:citesForInformation."""
        found = [rel for rel, facts in ((SUPPORTS, self.supports), (DISPUTES, self.disputes),
                                        (BACKGROUND, self.background)) if facts]
        return found or [SUPPORTS]

    def merged(self, other: Entry) -> Entry:
        """This entry and another of the same source, their facts together."""
        return Entry(self.reference, *(tuple(sorted(set(a) | set(b))) for a, b in (
            (self.supports, other.supports), (self.disputes, other.disputes),
            (self.background, other.background))))

    def to_dict(self) -> dict:
        return {"key": self.key, "relations": self.relations,
                "supports": [shorten(f) for f in self.supports],
                "disputes": [shorten(f) for f in self.disputes],
                "background": [shorten(f) for f in self.background],
                "csl": to_csl([self])[0]}


# --------------------------------------------------------------------- which sources

_PREFIXES = """PREFIX wf: <https://w3id.org/workflow-kg/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX cito: <http://purl.org/spar/cito/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX schema: <https://schema.org/>
PREFIX bibo: <http://purl.org/ontology/bibo/>
"""
# Facts about an entity: statements with it as subject or object, findings and case
# studies naming it, and the entity itself when it is a fact. The links are a VALUES list,
# not a path of alternatives: Oxigraph evaluates such a path for every entity before it
# joins the one bound (entries_for of one entity at 100k triples: 35 ms, with the list
# 3 ms; queries/citations.rq likewise).
_ENTITY_FACTS = _PREFIXES + """
SELECT DISTINCT ?fact WHERE {
  { VALUES ?link { rdf:subject rdf:object wf:organisation wf:system wf:backend
                   wf:verifiesProperty wf:formalism wf:tool wf:usesTechnology wf:caseStudy }
    ?fact ?link ?entity ; a wf:EvidencedFact }
  UNION { ?entity a wf:EvidencedFact . BIND (?entity AS ?fact) }
}"""
_DEFINING = _PREFIXES + """
SELECT ?source WHERE {
  { ?entity rdfs:seeAlso ?source . ?source a wf:Source }
  UNION { ?entity a wf:Source . BIND (?entity AS ?source) }
}"""
_FACT_SOURCES = _PREFIXES + """
SELECT ?fact ?source ?relation ?status WHERE {
  VALUES ?fact { %s }
  { ?fact cito:citesAsEvidence ?source . BIND ("supports" AS ?relation) }
  UNION { ?fact cito:disputes|wf:contradictedBy ?source . BIND ("disputes" AS ?relation) }
  OPTIONAL { ?fact wf:evidenceStatus ?status }
}"""
# Statements whose subject is one of the answer's IRIs, with their qualifiers (the rows
# are checked in Python).
_ROW_STATEMENTS = _PREFIXES + """
SELECT ?fact ?s ?o (GROUP_CONCAT(STR(?q); separator=" ") AS ?qualifiers) WHERE {
  VALUES ?s { %s }
  ?fact a wf:Statement ; rdf:subject ?s ; rdf:object ?o .
  OPTIONAL { ?fact wf:backendRole ?q }
} GROUP BY ?fact ?s ?o"""
_EVIDENCED = _PREFIXES + "SELECT ?fact WHERE { VALUES ?fact { %s } ?fact a wf:EvidencedFact }"
_FIELDS = _PREFIXES + """
SELECT * WHERE {
  VALUES ?source { %s }
  ?source wf:citationKey ?key ; dcterms:title ?title ; wf:sourceKind ?kind .
  OPTIONAL { ?kind skos:broader ?broader }
  OPTIONAL { ?source wf:authors ?authors }
  OPTIONAL { ?source dcterms:publisher ?publisher }
  OPTIONAL { ?source wf:venue ?venue }
  OPTIONAL { ?source wf:series ?series }
  OPTIONAL { ?source bibo:volume ?volume }
  OPTIONAL { ?source bibo:issue ?issue }
  OPTIONAL { ?source bibo:pages ?pages }
  OPTIONAL { ?source dcterms:issued ?issued }
  OPTIONAL { ?source schema:url ?url }
  OPTIONAL { ?source bibo:doi ?doi }
  OPTIONAL { ?source wf:accessed ?accessed }
  OPTIONAL { ?source wf:repositoryPath ?path }
  OPTIONAL { ?source wf:contentHash ?hash }
}"""
_KEYED = _PREFIXES + "SELECT ?source WHERE { VALUES ?key { %s } ?source wf:citationKey ?key }"


def entries_for(store, iris: Sequence[str]) -> list[Entry]:
    """The sources behind resources: of every fact about them (supporting or disputing)
    and their defining references. Unknown resources raise ResourceNotFound."""
    check_known(store, iris)
    facts: set[str] = set()
    defining: dict[str, set[str]] = {}
    for iri in iris:
        entity = {"entity": ox.NamedNode(iri)}
        facts.update(store.query(_ENTITY_FACTS, bindings=entity).values("fact"))
        for source in store.query(_DEFINING, bindings=entity).values("source"):
            defining.setdefault(source, set()).add(iri)
    return entries_for_facts(store, facts, defining)


def facts_of_answer(store, result: QueryResult) -> set[str]:
    """The facts an answer rests on, row by row: the facts (statements, findings, case
    studies) that appear in a row; in a row that shows none, the statements whose
    subject, object and qualifiers (e.g. the backend role) all appear in that row."""
    rows = [[t for t in row.values() if isinstance(t, ox.NamedNode | ox.Literal)]
            for row in result.rows()]
    if result.kind == "graph":
        rows = [[t.subject, t.object] for t in result.triples()]
    iris = {t for row in rows for t in row if isinstance(t, ox.NamedNode)}
    if not iris:
        return set()
    shown = set(store.query(_EVIDENCED % values_block(iris)).values("fact"))
    by_subject: dict[ox.NamedNode, list[tuple[str, object, set[str]]]] = {}
    for row in store.query(_ROW_STATEMENTS % values_block(iris)).rows():
        qualifiers = set(row["qualifiers"].value.split()) if "qualifiers" in row else set()
        by_subject.setdefault(row["s"], []).append((row["fact"].value, row["o"], qualifiers))
    facts: set[str] = set()
    for row in rows:
        in_row = {t.value for t in row if isinstance(t, ox.NamedNode)} & shown
        if in_row:
            facts |= in_row
            continue
        present = set(row)
        named = {t.value for t in row if isinstance(t, ox.NamedNode)}
        for term in row:
            for fact, obj, qualifiers in by_subject.get(term, ()):  # type: ignore[call-overload]
                if obj in present and qualifiers <= named:
                    facts.add(fact)
    return facts


def entries_for_answer(store, result: QueryResult) -> list[Entry]:
    """The sources of exactly the facts a query answer rests on."""
    return entries_for_facts(store, facts_of_answer(store, result))


def entries_for_facts(store, facts: set[str], defining: dict[str, set[str]] | None = None
                      ) -> list[Entry]:
    """The sources of the given facts (IRIs), plus `defining` references (source IRI ->
    the resources it defines), which count as supporting. A source disputes a fact only
    where the data says so (wf:contradictedBy, cito:disputes); the other sources of a
    Contradicted fact are cited for information (cito:citesForInformation), not as
    disputing it and not as evidence for it."""
    defining = defining or {}
    found: dict[str, dict[str, set[str]]] = {"supports": {s: set(d) for s, d in defining.items()},
                                             "disputes": {}, "background": {}}
    if facts:
        query = _FACT_SOURCES % values_block(ox.NamedNode(f) for f in sorted(facts))
        rows = store.query(query).rows()
        against = {(r["fact"].value, r["source"].value) for r in rows
                   if r["relation"].value == "disputes"}
        for row in rows:
            source, fact = row["source"].value, row["fact"].value
            if (fact, source) in against:
                relation = "disputes"
            elif row.get("status") == ox.NamedNode(str(WF.Contradicted)):
                relation = "background"
            else:
                relation = "supports"
            found[relation].setdefault(source, set()).add(fact)
    refs = references(store, {s for by in found.values() for s in by})
    return [Entry(ref, *(tuple(sorted(found[r].get(ref.iri or "", ())))
                         for r in ("supports", "disputes", "background"))) for ref in refs]


_STATUSES = _PREFIXES + """
SELECT ?fact ?status WHERE { VALUES ?fact { %s } ?fact wf:evidenceStatus ?status }"""


def keep_verified(store, entries: Sequence[Entry]) -> list[Entry]:
    """The verified view of citation entries: a source stays for the Verified facts it
    supports (and the resources it defines), not for unverified or disputed ones."""
    facts = {f for e in entries for f in (*e.supports, *e.disputes)}
    status: dict[str, str] = {}
    if facts:
        query = _STATUSES % values_block(ox.NamedNode(f) for f in sorted(facts))
        status = {r["fact"].value: r["status"].value for r in store.query(query).rows()}
    kept = []
    for entry in entries:
        supports = tuple(f for f in entry.supports
                         if status.get(f, str(WF.Verified)) == str(WF.Verified))
        if supports:
            kept.append(Entry(entry.reference, supports, ()))
    return kept


def entries_for_keys(store, keys: Iterable[str]) -> list[Entry]:
    """Entries for citation keys (e.g. those a figure's caption names)."""
    literals = [ox.Literal(k) for k in sorted(set(keys))]
    if not literals:
        return []
    query = _KEYED % values_block(literals)
    return [Entry(ref) for ref in references(store, store.query(query).values("source"))]


def references(store, sources: Iterable[str]) -> list[Reference]:
    """The bibliographic records of the given wf:Source IRIs, sorted by citation key."""
    sources = sorted(set(sources))
    if not sources:
        return []
    records: dict[str, dict[str, str]] = {}
    for row in store.query(_FIELDS % values_block(ox.NamedNode(s) for s in sources)).rows():
        value = {k: t.value for k, t in row.items()}
        records.setdefault(value["source"], value)  # one row per source
    refs = []
    for iri, value in records.items():
        refs.append(Reference(
            key=value["key"], title=value["title"], kind=value["kind"].removeprefix(str(WF)),
            broader=value["broader"].removeprefix(str(WF)) if "broader" in value else None,
            authors=value.get("authors"), publisher=value.get("publisher"),
            venue=value.get("venue"), series=value.get("series"),
            volume=value.get("volume"), issue=value.get("issue"), pages=value.get("pages"),
            issued=value.get("issued"), url=value.get("url"), doi=value.get("doi"),
            accessed=value.get("accessed"), iri=iri, path=value.get("path"),
            content_hash=value.get("hash")))
    return sorted(refs, key=lambda r: r.key)


def resolve(names: Iterable[str]) -> list[str]:
    return [expand(name) for name in names]


# --------------------------------------------------------------------- BibTeX (pybtex)

def _date_parts(date: str | None) -> list[int]:
    if not date:
        return []
    return [int(p) for p in date.split("T")[0].split("-") if p.isdigit()][:3]


def to_bibtex(entries: Iterable[Entry], *, dialect: str = "biblatex") -> str:
    """BibTeX for biblatex/biber (`dialect="biblatex"`) or for classic BibTeX styles
    (`"bibtex"`); see kg.bibtex."""
    from .bibtex import to_bibtex as write

    return write(entries, dialect=dialect)


# --------------------------------------------------------------------- CSL-JSON and RIS

def to_csl(entries: Iterable[Entry]) -> list[dict]:
    """CSL data (the input of citeproc-js, citeproc-py, Pandoc and Zotero); titles keep
    their case (`nocase`)."""
    items = []
    for entry in entries:
        ref = entry.reference
        item: dict = {"id": ref.key, "type": ref.types[1], "title": nocase(ref.title)}
        if names := ref.names:
            if ref.et_al:  # "and others": et al. after the last known author, as a
                # name suffix, which every style prints in place and none capitalises
                names[-1] = {**names[-1], "suffix": ETAL_CJK if _CJK.search(
                    ref.authors or "") else ETAL, "comma-suffix": True}
            item["author"] = names
        for name, value in (("container-title", ref.venue), ("collection-title", ref.series),
                            ("volume", ref.volume), ("issue", ref.issue),
                            ("page", ref.pages), ("publisher", ref.publisher_shown),
                            ("version", ref.version), ("note", ref.remark),
                            ("DOI", ref.doi), ("URL", ref.url)):
            if value:
                item[name] = value
        if parts := _date_parts(ref.issued):
            item["issued"] = {"date-parts": [parts]}
        if parts := _date_parts(ref.accessed):
            item["accessed"] = {"date-parts": [parts]}
        item["keyword"] = ", ".join(entry.relations)
        items.append(item)
    return items


NOCASE = ('<span class="nocase">', "</span>")


def nocase(title: str) -> str:
    """A title in CSL's rich-text markup that keeps its case: CSL processors title-case
    English titles in styles such as Chicago ("temporalio/helm-charts" became
    "Temporalio/Helm-Charts"), as BibTeX styles would but for the title's braces.
    citeproc-js, Pandoc's citeproc and citeproc-py honour the span and do not print it."""
    return NOCASE[0] + title + NOCASE[1]


def to_csl_json(entries: Iterable[Entry]) -> str:
    return json.dumps(to_csl(entries), indent=2, ensure_ascii=False) + "\n"


def to_ris(entries: Iterable[Entry]) -> str:
    """RIS (EndNote, Zotero, Mendeley), written by rispy."""
    import rispy

    records = []
    for entry in entries:
        ref = entry.reference
        record: dict = {"type_of_reference": ref.types[2], "id": ref.key, "title": ref.title,
                        "keywords": entry.relations}
        if ref.authors:
            record["authors"] = re.split(r"\s+and\s+", ref.authors)
        elif ref.publisher:
            record["authors"] = [ref.publisher]
        for name, value in (("secondary_title", ref.venue), ("tertiary_title", ref.series),
                            ("volume", ref.volume), ("number", ref.issue),
                            ("publisher", ref.publisher), ("doi", ref.doi),
                            ("notes", ref.remark)):
            if value:
                record[name] = [value] if name == "notes" else value
        if ref.pages:
            start, _, end = ref.pages.replace("–", "-").partition("-")
            record["start_page"] = start.strip()
            if end:
                record["end_page"] = end.strip()
        if parts := _date_parts(ref.issued):
            record["year"] = str(parts[0])
            if len(parts) > 1:  # RIS dates are YYYY/MM/DD/
                record["date"] = "/".join(f"{p:02d}" for p in parts) + "/"
        if ref.url:
            record["urls"] = [ref.url]
        if ref.accessed:
            record["access_date"] = ref.accessed.split("T")[0]
        records.append(record)
    return rispy.dumps(records, implementation=_ris_writer())


@functools.cache
def _ris_writer() -> type:
    """rispy's RIS writer without its "1." line before each record, which RIS does not
    define."""
    import rispy

    class RisWriter(rispy.RisWriter):
        def set_header(self, count: int) -> str:
            return ""

    return RisWriter


# --------------------------------------------------------------------- formatted (citeproc)

def formatted(entries: Sequence[Entry], *, style: str = "apa",
              output: Literal["text", "html"] = "text") -> list[str]:
    """The reference list in a vendored CSL style (apa, ieee, gb7714), rendered by
    citeproc-py, in the style's own order."""
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    if not entries:
        return []
    items = copy.deepcopy(to_csl(entries))
    for item in items:
        item.pop("keyword", None)
    with warnings.catch_warnings():  # citeproc-py warns about CSL it does not implement
        warnings.simplefilter("ignore")
        csl = CitationStylesStyle(str(STYLES_DIR / STYLES[style]), validate=False)
        bibliography = CitationStylesBibliography(
            csl, CiteProcJSON(items), formatter.html if output == "html" else formatter.plain)
        for item in items:
            bibliography.register(Citation([CitationItem(item["id"])]))
        lines = [str(line) for line in bibliography.bibliography()]
    # numeric styles align the label in a column of its own: keep a space after it
    return [re.sub(r"^(\[\d+\])(?=\S)", r"\1 ", line) for line in lines]


def to_text(entries: Sequence[Entry], *, style: str = "apa") -> str:
    lines = formatted(entries, style=style)
    text = "\n".join(lines) + ("\n" if lines else "")
    disputing = [e for e in entries if e.disputes]
    if disputing:
        text += "\nDisputing (cito:disputes) — cited as evidence against:\n"
        for entry in disputing:
            text += f"  {entry.key}: {', '.join(shorten(f) for f in entry.disputes)}\n"
    return text


def render(entries: Sequence[Entry], fmt: str = "biblatex", *, style: str = "apa") -> str:
    """Entries in one of FORMATS (biblatex: for biber; bibtex: for classic BibTeX)."""
    if fmt in ("biblatex", "bibtex"):
        return to_bibtex(entries, dialect=fmt)
    if fmt == "csl-json":
        return to_csl_json(entries)
    if fmt == "ris":
        return to_ris(entries)
    if fmt == "text":
        return to_text(entries, style=style)
    raise ValueError(f"unknown citation format {fmt!r}; choose one of {', '.join(FORMATS)}")


# --------------------------------------------------------------------- the dataset itself

_DATASET = _PREFIXES + """
PREFIX void: <http://rdfs.org/ns/void#>
SELECT ?dataset ?created ?hash ?version ?triples WHERE {
  ?dataset a void:Dataset ; dcterms:identifier ?hash ; dcterms:hasVersion ?version ;
           dcterms:created ?created ; void:triples ?triples .
}"""
_NEWEST_ACCESS = _PREFIXES + "SELECT (MAX(STR(?day)) AS ?newest) WHERE { ?s wf:accessed ?day }"


@dataclass(frozen=True)
class DatasetRecord:
    """The exact graph a paper used, from the store's VoID description."""

    iri: str
    version: str
    created: str
    input_hash: str
    triples: int
    as_of: str | None = None  # the newest access date of its sources: the data as of then

    @property
    def reference(self) -> Reference:
        """The same entry for every build of the same inputs: no build time in it (the
        date is the newest access date of the sources), and no URL, because the dataset
        IRI is an identifier that no resolver knows; the note says how to get the data."""
        digest = self.input_hash.removeprefix("sha256:")
        return Reference(
            key=f"workflow-kg-{self.version}-{digest[:12]}",
            title="Workflow KG: a knowledge graph of workflow engines, distributed computing "
                  "and their formal verification",
            kind="Dataset", publisher="Workflow KG", issued=self.as_of, version=self.version,
            note=f"{self.triples} triples built by kg build from inputs {self.input_hash}; "
                 f"identifier {self.iri} (not registered with a resolver)",
            iri=self.iri)


def dataset_record(store) -> DatasetRecord:
    """The VoID description of the built dataset."""
    rows = store.query(_DATASET).rows()
    if not rows:
        raise StoreNotBuilt("the store has no VoID description of its dataset: run kg build")
    row = rows[0]
    newest = store.query(_NEWEST_ACCESS).rows()
    as_of = newest[0]["newest"].value[:10] if newest and "newest" in newest[0] else None
    return DatasetRecord(iri=row["dataset"].value, version=row["version"].value,
                         created=row["created"].value, input_hash=row["hash"].value,
                         triples=int(row["triples"].value), as_of=as_of)


_ALL_FACTS = _PREFIXES + "SELECT ?fact WHERE { ?fact a wf:EvidencedFact }"
_ALL_SOURCES = _PREFIXES + "SELECT ?source WHERE { ?source a wf:Source }"


def every_source(store) -> list[Entry]:
    """Every source of the graph, each with the facts it supports, disputes or is cited
    for (a source no fact cites has none)."""
    entries = {e.key: e for e in entries_for_facts(store, set(
        store.query(_ALL_FACTS).values("fact")))}
    for ref in references(store, store.query(_ALL_SOURCES).values("source")):
        entries.setdefault(ref.key, Entry(ref))
    return sorted(entries.values(), key=lambda e: e.key)
