"""Importing a researcher's library (a Zotero or Better BibTeX export: BibTeX/BibLaTeX,
CSL-JSON or RIS) as source records in `data/`: kinds mapped from entry types, keys kept,
authors, dates, DOIs, URLs and container fields carried over; what has no place in a
source record is reported, not dropped silently. A source the data already has (same
key) is left alone unless `update` is given; the written file must pass the shapes, or
nothing is written.

>>> report = import_library(".", "zotero.bib")                      # doctest: +SKIP
>>> report.added, report.skipped, report.unmapped                   # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Literal
from rdflib.namespace import XSD

from ..errors import KgError, ValidationFailed
from ..namespaces import SRC
from .bibtex import ENTRYSUBTYPES, unescape

IMPORT_FILE = "sources-imported.ttl"
_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_:-]*$")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                       "sep", "oct", "nov", "dec"), 1)}

# entry type -> source kind (local names of wf:SourceKind)
BIBTEX_KINDS = {"article": "JournalArticle", "inproceedings": "ConferencePaper",
                "conference": "ConferencePaper", "book": "Book", "incollection": "BookChapter",
                "inbook": "BookChapter", "phdthesis": "Thesis", "mastersthesis": "Thesis",
                "thesis": "Thesis", "techreport": "TechnicalReport", "report": "TechnicalReport",
                "online": "Documentation", "electronic": "Documentation", "www": "Documentation",
                "software": "Software", "unpublished": "Preprint"}
CSL_KINDS = {"article-journal": "JournalArticle", "paper-conference": "ConferencePaper",
             "book": "Book", "chapter": "BookChapter", "thesis": "Thesis",
             "report": "TechnicalReport", "webpage": "Documentation",
             "post-weblog": "BlogPost", "post": "BlogPost", "software": "Software",
             "standard": "Standard", "speech": "Talk", "article": "Preprint"}
RIS_KINDS = {"JOUR": "JournalArticle", "JFULL": "JournalArticle", "CONF": "ConferencePaper",
             "CPAPER": "ConferencePaper", "BOOK": "Book", "CHAP": "BookChapter",
             "THES": "Thesis", "RPRT": "TechnicalReport", "ELEC": "Documentation",
             "WEB": "Documentation", "BLOG": "BlogPost", "COMP": "Software", "STAND": "Standard",
             "UNPB": "Preprint", "SLIDE": "Talk"}


class LibraryError(KgError):
    """A library file cannot be read or imported."""


@dataclass
class Record:
    """One imported source, in the data's own fields."""

    key: str
    kind: str
    title: str
    authors: list[str] = field(default_factory=list)  # "Last, First"; "others" last
    publisher: str | None = None
    venue: str | None = None
    series: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    issued: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD
    url: str | None = None
    doi: str | None = None
    accessed: str | None = None  # YYYY-MM-DD

    def turtle(self, origin: str, subject: str | None = None) -> str:
        """The record as a Turtle block, in the layout of the curated files; `subject`
        keeps the IRI of a record it replaces (the facts citing it still point at it)."""
        def lit(value: str, datatype=None) -> str:
            return Literal(value, datatype=datatype).n3()

        lines = [f"{subject or f'<{SRC}{self.key}>'} a wf:Source ;",
                 f"    wf:citationKey {lit(self.key)} ;",
                 f"    dcterms:title {lit(self.title)} ;"]
        if self.authors:
            lines.append(f"    wf:authors {lit(' and '.join(self.authors))} ;")
        for prop, value in (("dcterms:publisher", self.publisher), ("wf:venue", self.venue),
                            ("wf:series", self.series), ("bibo:volume", self.volume),
                            ("bibo:issue", self.issue), ("bibo:pages", self.pages),
                            ("bibo:doi", self.doi)):
            if value:
                lines.append(f"    {prop} {lit(value)} ;")
        if self.issued:
            datatype = {4: XSD.gYear, 7: XSD.gYearMonth}.get(len(self.issued), XSD.date)
            lines.append(f"    dcterms:issued {lit(self.issued, datatype)} ;")
        else:
            note = f"The imported record ({origin}) gives no date."
            lines.append(f"    wf:dateNote {lit(note)} ;")
        if self.url:
            lines.append(f"    schema:url <{self.url}> ;")
        if self.accessed:
            lines.append(f"    wf:accessed {lit(self.accessed, XSD.date)} ;")
        lines.append(f"    wf:sourceKind wf:{self.kind} .")
        return "\n".join(lines) + "\n"


@dataclass
class ImportReport:
    file: str
    written: str | None = None
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # key -> why
    unmapped: list[str] = field(default_factory=list)  # "key: field value" not carried over

    def to_text(self) -> str:
        lines = [f"{self.file}: {len(self.added)} added, {len(self.updated)} updated, "
                 f"{len(self.skipped)} skipped"
                 + (f"; wrote {self.written}" if self.written else "; nothing written")]
        lines += [f"  skipped {k}: {why}" for k, why in self.skipped.items()]
        lines += [f"  not mapped: {u}" for u in self.unmapped]
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------- reading

def _tex(value: str) -> str:
    """A BibTeX value as plain text: LaTeX decoded, braces gone, spaces collapsed."""
    return unescape(value)


def _split_names(value: str) -> list[str]:
    """BibTeX names split on 'and' at brace depth 0."""
    names, depth, start = [], 0, 0
    for match in re.finditer(r"[{}]|\s+and\s+", value):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            names.append(value[start:match.start()])
            start = match.end()
    names.append(value[start:])
    return [n.strip() for n in names if n.strip()]


def _bibtex_name(name: str) -> tuple[str, bool]:
    """("Last, First" or the organisation, is_organisation)."""
    if name.startswith("{") and name.endswith("}") and name.count("{") == 1:
        return _tex(name), True
    if name == "others":
        return "others", False
    from pybtex.database import Person

    person = Person(name)
    family = _tex(" ".join(person.prelast_names + person.last_names))
    given = _tex(" ".join(person.first_names + person.middle_names))
    return (f"{family}, {given}" if given else family), False


def _date(text: str | None) -> str | None:
    if not text:
        return None
    match = re.match(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", text.strip())
    if not match:
        return None
    parts = [match.group(1)] + [f"{int(p):02d}" for p in match.groups()[1:] if p]
    return "-".join(parts)


def _pages(text: str | None) -> str | None:
    return re.sub(r"\s*[-–—]+\s*", "-", text.strip()) if text else None


def _from_bibtex(text: str, name: str) -> tuple[list[Record], dict[str, str], list[str]]:
    import bibtexparser

    library = bibtexparser.parse_string(text)
    records, skipped, unmapped = [], {}, []
    for block in library.failed_blocks:
        skipped[f"line {block.start_line + 1}"] = "not a BibTeX entry bibtexparser can read"
    known = {"title", "author", "journal", "journaltitle", "booktitle", "publisher",
             "institution", "school", "organization", "series", "volume", "number", "issue",
             "pages", "year", "month", "date", "doi", "url", "urldate", "keywords",
             "howpublished", "entrysubtype"}
    for entry in library.entries:
        fields = {k.lower(): v.value for k, v in entry.fields_dict.items()}
        kind = BIBTEX_KINDS.get(entry.entry_type.lower())
        if kind is None and entry.entry_type.lower() == "misc":
            kind = "Documentation" if "url" in fields or r"\url" in fields.get(
                "howpublished", "") else None
        subtype = fields.get("entrysubtype", "").strip().lower()
        kind = {v: k for k, v in ENTRYSUBTYPES.items()}.get(subtype, kind)
        if kind is None:
            skipped[entry.key] = f"entry type @{entry.entry_type} has no source kind"
            continue
        authors, publisher = [], None
        for raw in _split_names(fields.get("author", "")):
            person, organisation = _bibtex_name(raw)
            if organisation and len(_split_names(fields["author"])) == 1:
                publisher = person
            else:
                authors.append(person)
        url = fields.get("url")
        howpublished = fields.get("howpublished", "")
        if not url and (m := re.search(r"\\url\{([^}]+)\}", howpublished)):
            url = m.group(1)
        issued = _date(fields.get("date"))
        if not issued and fields.get("year", "").strip().isdigit():
            issued = fields["year"].strip()
            month = fields.get("month", "").strip().lower()[:3]
            if month in _MONTHS or month.isdigit():
                issued += f"-{int(_MONTHS.get(month, month or 0)):02d}"
        venue = fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle")
        if not venue and howpublished and r"\url" not in howpublished:
            venue = howpublished
        records.append(Record(
            key=entry.key, kind=kind, title=_tex(fields.get("title", "")), authors=authors,
            publisher=_tex(fields.get("publisher") or fields.get("institution")
                           or fields.get("school") or fields.get("organization") or "")
            or publisher, venue=_tex(venue) if venue else None,
            series=_tex(fields["series"]) if "series" in fields else None,
            volume=fields.get("volume"), issue=fields.get("number") or fields.get("issue"),
            pages=_pages(fields.get("pages")), issued=issued, url=url,
            doi=fields.get("doi"), accessed=_date(fields.get("urldate"))))
        for key, value in fields.items():
            if key not in known:
                unmapped.append(f"{entry.key}: {key} = {value[:60]}")
    return records, skipped, unmapped


_NOCASE = re.compile(r'<span class="nocase">(.*?)</span>', re.S)


def _csl_text(value: str) -> str:
    """A CSL rich-text title as plain text: the spans that keep case (ours, Zotero's)
    dropped, their words kept."""
    return _NOCASE.sub(r"\1", value)


def _csl_name(name: dict) -> str:
    if "literal" in name:
        return name["literal"]
    family = " ".join(p for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    given = " ".join(p for p in (name.get("given"), name.get("dropping-particle")) if p)
    return f"{family}, {given}" if given else family


def _csl_date(value) -> str | None:
    if isinstance(value, dict) and value.get("date-parts"):
        parts = [int(p) for p in value["date-parts"][0]]
        return "-".join([str(parts[0])] + [f"{p:02d}" for p in parts[1:]])
    if isinstance(value, dict):
        return _date(value.get("raw") or value.get("literal"))
    return _date(value) if isinstance(value, str) else None


def _from_csl(text: str, name: str) -> tuple[list[Record], dict[str, str], list[str]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as err:
        raise LibraryError(f"{name}:{err.lineno}: not JSON ({err.msg})") from err
    if not isinstance(items, list):
        raise LibraryError(f"{name}: CSL-JSON is a list of items")
    known = {"id", "type", "title", "author", "container-title", "collection-title", "volume",
             "issue", "page", "publisher", "DOI", "URL", "issued", "accessed", "keyword",
             "citation-key", "note", "version"}
    records, skipped, unmapped = [], {}, []
    for item in items:
        key = str(item.get("citation-key") or item.get("id", ""))
        kind = CSL_KINDS.get(item.get("type", ""))
        if kind is None:
            skipped[key] = f"CSL type {item.get('type')!r} has no source kind"
            continue
        people = item.get("author", [])
        names = [_csl_name({k: v for k, v in n.items() if k != "suffix"}
                           if n.get("suffix") in ("et al.", "等") else n) for n in people]
        authors, publisher = names, item.get("publisher")
        if people and people[-1].get("suffix") in ("et al.", "等"):
            authors = [*names, "others"]
        if len(item.get("author", [])) == 1 and "literal" in item["author"][0] and not publisher:
            authors, publisher = [], names[0]
        records.append(Record(
            key=key, kind=kind, title=_csl_text(item.get("title", "")), authors=authors,
            publisher=publisher, venue=item.get("container-title"),
            series=item.get("collection-title"),
            volume=str(item["volume"]) if "volume" in item else None,
            issue=str(item["issue"]) if "issue" in item else None,
            pages=_pages(str(item["page"])) if "page" in item else None,
            issued=_csl_date(item.get("issued")), url=item.get("URL"), doi=item.get("DOI"),
            accessed=_csl_date(item.get("accessed"))))
        for field_name, value in item.items():
            if field_name not in known:
                unmapped.append(f"{key}: {field_name} = {str(value)[:60]}")
    return records, skipped, unmapped


def _from_ris(text: str, name: str) -> tuple[list[Record], dict[str, str], list[str]]:
    import rispy

    try:
        entries = rispy.loads(text)
    except Exception as err:  # rispy raises plain IOError/ValueError on bad input
        raise LibraryError(f"{name}: not RIS rispy can read ({err})") from err
    known = {"type_of_reference", "id", "title", "primary_title", "authors", "first_authors",
             "secondary_title", "journal_name", "tertiary_title", "volume", "number",
             "start_page", "end_page", "publisher", "doi", "urls", "year", "date",
             "publication_year", "access_date", "keywords", "notes"}
    records, skipped, unmapped = [], {}, []
    for entry in entries:
        key = entry.get("id") or _make_key(entry)
        kind = RIS_KINDS.get(entry.get("type_of_reference", ""))
        if kind is None:
            skipped[key] = f"RIS type {entry.get('type_of_reference')!r} has no source kind"
            continue
        names = entry.get("authors") or entry.get("first_authors") or []
        authors, publisher = list(names), entry.get("publisher")
        if len(names) == 1 and ("," not in names[0] or names[0] == publisher):
            authors, publisher = [], publisher or names[0]  # an organisation
        pages = entry.get("start_page")
        if pages and entry.get("end_page"):
            pages = f"{pages}-{entry['end_page']}"
        urls = entry.get("urls") or []
        year = entry.get("date") or entry.get("year") or entry.get("publication_year")
        records.append(Record(
            key=key, kind=kind, title=entry.get("title") or entry.get("primary_title", ""),
            authors=authors, publisher=publisher,
            venue=entry.get("secondary_title") or entry.get("journal_name"),
            series=entry.get("tertiary_title"), volume=entry.get("volume"),
            issue=entry.get("number"), pages=_pages(pages), issued=_date(
                str(year).replace("/", "-").strip("-")) if year else None,
            url=urls[0] if urls else None, doi=entry.get("doi"),
            accessed=_date(str(entry.get("access_date", "")).replace("/", "-"))))
        for field_name, value in entry.items():
            if field_name not in known:
                unmapped.append(f"{key}: {field_name} = {str(value)[:60]}")
        if len(urls) > 1:
            unmapped.append(f"{key}: urls beyond the first = {' '.join(urls[1:])[:60]}")
    return records, skipped, unmapped


def _make_key(entry: dict) -> str:
    """A key for a RIS record without ID, as Better BibTeX makes them: family name of the
    first author, year, first word of the title."""
    names = entry.get("authors") or entry.get("first_authors") or ["anon"]
    family = re.sub(r"[^a-z]", "", names[0].split(",")[0].lower()) or "anon"
    year = str(entry.get("year") or entry.get("date") or "")[:4]
    words = [w for w in re.findall(r"[a-z]+", (entry.get("title") or "").lower()) if len(w) > 3]
    return f"{family}{year}{words[0] if words else ''}"


READERS = {".bib": _from_bibtex, ".json": _from_csl, ".ris": _from_ris}


def read_library(path: str | Path) -> tuple[list[Record], dict[str, str], list[str]]:
    """(records, skipped key -> why, unmapped fields) of a .bib, CSL .json or .ris file."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise LibraryError(f"{path}: a library is a .bib (BibTeX/BibLaTeX), .json "
                           "(CSL-JSON) or .ris file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise LibraryError(f"cannot read {path}: {err.strerror}") from err
    return reader(text, path.name)


# --------------------------------------------------------------------- writing

_HEADER = """# Sources imported with `kg import bib` from a reference manager's export.
@prefix wf:      <https://w3id.org/workflow-kg/ontology#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema:  <https://schema.org/> .
@prefix bibo:    <http://purl.org/ontology/bibo/> .
"""
_START = re.compile(r"^(?:src:\S+|<[^>]+>)\s+a\s+wf:Source\b", re.M)
_END = re.compile(r"\s\.[ \t]*(?:#.*)?$\n?", re.M)


def _block(text: str, key: str) -> tuple[int, int] | None:
    """Where the Turtle block of the source with this citation key starts and ends (the
    curated layout: `src:name a wf:Source ; ... .`), or None."""
    at = re.search(r'wf:citationKey\s+"' + re.escape(key) + '"', text)
    if not at:
        return None
    starts = [m.start() for m in _START.finditer(text, 0, at.start())]
    end = _END.search(text, at.end())
    if not starts or not end:
        return None
    return starts[-1], end.end()


def _existing_keys(data: Path) -> dict[str, Path]:
    """Citation keys already in the data, and the file of each."""
    found: dict[str, Path] = {}
    for ttl in sorted(data.glob("*.ttl")):
        for key in re.findall(r'wf:citationKey\s+"([^"]+)"', ttl.read_text(encoding="utf-8")):
            found.setdefault(key, ttl)
    return found


def _remove_block(text: str, key: str, name: str) -> str:
    """The text of a data file without the Turtle block of one source."""
    where = _block(text, key)
    if where is None:
        raise LibraryError(f"{name}: cannot find the record of {key} to update it")
    return text[:where[0]] + text[where[1]:]


def _check(text: str, name: str, validate: Callable) -> None:
    """SHACL-check the text of a data file from a scratch copy (the data folder is not
    touched); raise ValidationFailed with the violations."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / name
        path.write_text(text, encoding="utf-8")
        report = validate([path])
    if not report.conforms:
        raise ValidationFailed(report)


def import_library(project: str | Path, library: str | Path, *, validate: Callable,
                   update: bool = False, target: str | None = None) -> ImportReport:
    """Import a library file into `project`/data/`target` (default sources-imported.ttl).
    `validate(paths)` checks files against the project's shapes (KnowledgeGraph.validate);
    the new file must conform before anything is written."""
    project = Path(project)
    data = project / "data"
    out = data / (target or IMPORT_FILE)
    records, skipped, unmapped = read_library(library)
    if not records and not skipped:
        raise LibraryError(f"{library}: no entries in it: an export of Zotero or Better "
                           "BibTeX holds @article{...} entries (.bib), a JSON list of "
                           "items (.json) or TY - ... ER records (.ris)")
    report = ImportReport(str(library), skipped=dict(skipped), unmapped=unmapped)
    existing = _existing_keys(data)
    mine = {k for k, f in existing.items() if f == out}
    kept: dict[str, str] = {}
    if out.exists():
        current = out.read_text(encoding="utf-8")
        for key in mine:
            start, end = _block(current, key) or (0, 0)
            kept[key] = current[start:end]
    edits: dict[Path, str] = {}
    origin = Path(library).name
    for record in records:
        if not _KEY.match(record.key):
            report.skipped[record.key] = ("not a usable citation key (letters, digits, '_', "
                                          "':' or '-', starting with a letter)")
            continue
        if not record.title:
            report.skipped[record.key] = "no title"
            continue
        where = existing.get(record.key)
        if where is not None and not update:
            report.skipped[record.key] = (f"already in {where.relative_to(project)}; "
                                          "--update replaces it")
            continue
        subject = None
        if where is not None and where != out:
            text = edits.get(where) or where.read_text(encoding="utf-8")
            start, _ = _block(text, record.key) or (0, 0)
            token = text[start:].split(None, 1)[0]
            subject = f"<{SRC}{token.removeprefix('src:')}>" if token.startswith("src:") \
                else token
            edits[where] = _remove_block(text, record.key, where.name)
        (report.updated if where is not None else report.added).append(record.key)
        kept[record.key] = record.turtle(origin, subject)
    if not report.added and not report.updated:
        return report
    text = _HEADER + "".join("\n" + kept[k].rstrip("\n") + "\n" for k in sorted(kept))
    _check(text, out.name, validate)
    for path, new in edits.items():
        path.write_text(new, encoding="utf-8")
    tmp = out.with_suffix(".ttl.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    report.written = str(out.relative_to(project))
    return report
